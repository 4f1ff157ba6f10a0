// The server host: runs one consensus replica on an Env and a state machine on top of it.
//
// It is the only place where a replica's plain-data Output turns into effects, in this order:
//   1. persist records to the node's record log (rewriting it atomically on compaction) and sync
//      when the replica says the records must be durable before its messages leave;
//   2. send the replica's messages;
//   3. install a snapshot into the state machine, apply newly committed commands, answer the
//      clients waiting for them, and serve reads whose barrier has passed;
//   4. re-arm the single timer at the replica's next deadline.
// Client requests reaching a non-leader are answered not_leader with the replica's leader hint;
// stale reads are answered by any server from what it has applied.
//
// A service that needs more than apply-and-reply (the lock service: leader timers, commands of
// its own, notifications pushed to clients) plugs ServiceHooks in. The host calls them at fixed
// points — every client request received, every command applied, every role change, a snapshot
// installed, a wake-up it was asked for — and offers them a HostContext to act through: send a
// notification to a client node, propose a command of its own (client kHostClient, so its
// request ids never collide with a client's in the pending table), ask to be woken on the
// node's monotonic clock. The replica-driving loop stays here, once, for every service.
//
// The host knows nothing of the protocol (it speaks consensus::Replica) nor of the state
// machine's meaning (it speaks StateMachine), so the lock service and the replicated log run
// unchanged over Raft, Paxos and Zab, in simulation and on real sockets.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "core/env.h"
#include "protocols/consensus.h"
#include "service/client_wire.h"

namespace lockstep::service {

// A deterministic state machine replicated by the log. apply() is called with every committed
// command, in log order, on every replica; it must depend on nothing but its state and the
// command (no clocks, no randomness).
class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // Applies `command` committed at `index`, appending the result for the client that sent it to
  // `result`, which arrives empty: a buffer the host reuses, so that applying a command on every
  // replica allocates nothing for its result.
  virtual void apply(std::uint64_t index, const LoggedCommand& command, Bytes& result) = 0;
  // Answers a read against the current state.
  virtual Bytes query(ByteView query) const = 0;
  virtual Bytes snapshot() const = 0;
  virtual void restore(ByteView snapshot) = 0;
};

// What ServiceHooks may do, through the host that calls them. Valid only during the call.
class HostContext {
 public:
  virtual NodeId self() const = 0;
  // The node's monotonic clock (leader timers are measured on it, as the replica's are).
  virtual Nanos monotonic() const = 0;
  // The replica's role, term and leader as of its latest reported change.
  virtual const consensus::RoleChange& role() const = 0;
  // Sends `body` to a client node as a notify message (client_wire.h).
  virtual void notify(NodeId client_node, ByteView body) = 0;
  // Proposes `payload` as a command of the service's own: LoggedCommand{kHostClient, a request
  // id of the host's, payload}. Applied on every replica like any command; nobody is answered.
  virtual consensus::ProposeResult propose_own(ByteView payload) = 0;
  // Asks for ServiceHooks::on_wake once the monotonic clock reaches `deadline`, replacing any
  // earlier request; Nanos::max() cancels it.
  virtual void wake_at(Nanos deadline) = 0;
  virtual void note(std::string_view kind, std::string_view detail) = 0;

 protected:
  ~HostContext() = default;
};

// A service's extension points in the host. Every hook may act through the context; commands it
// proposes are driven by the host like clients' ones.
class ServiceHooks {
 public:
  virtual ~ServiceHooks() = default;
  // The replica and state machine are up (after recovery).
  virtual void on_start(HostContext&) {}
  // A client request arrived (before the host answers or proposes it).
  virtual void on_request(HostContext&, NodeId /*from*/, const ClientRequest&) {}
  // The state machine applied `command` at `index` (on every replica, leader or not) and answered
  // `result`.
  virtual void on_applied(HostContext&, std::uint64_t /*index*/, const LoggedCommand& /*command*/,
                          ByteView /*result*/) {}
  // The role changed; `before` is the previous one, ctx.role() the new one.
  virtual void on_role_change(HostContext&, const consensus::RoleChange& /*before*/) {}
  // The state machine was replaced by a snapshot.
  virtual void on_restored(HostContext&) {}
  // The deadline given to wake_at has passed.
  virtual void on_wake(HostContext&) {}
};

struct HostConfig {
  // Ask the replica to compact once this many commands were applied since the last snapshot;
  // 0 never compacts.
  std::uint64_t snapshot_every = 0;
  // Client writes and reads waiting for commit or a read barrier, at most; past it the oldest is
  // forgotten (its client times out and retries).
  std::size_t pending_max = 4096;
};

using ReplicaFactory =
    std::function<std::unique_ptr<consensus::Replica>(NodeId self, std::uint64_t seed)>;
using StateMachineFactory = std::function<std::unique_ptr<StateMachine>()>;
// Makes the hooks of the state machine the host just made (they may keep the reference).
using ServiceHooksFactory = std::function<std::unique_ptr<ServiceHooks>(StateMachine&)>;

inline constexpr std::string_view kReplicaLogFile = "replica.log";

class ReplicaHost final : public Process, private HostContext {
 public:
  ReplicaHost(ReplicaFactory replica_factory, StateMachineFactory state_machine_factory,
              HostConfig config = {}, ServiceHooksFactory hooks_factory = {});

  void on_start(Env& env) override;
  void on_message(Env& env, NodeId from, ByteView payload) override;
  void on_timer(Env& env, TimerId id) override;

  // Read-only access for checkers and reports.
  const consensus::Replica& replica() const { return *replica_; }
  const StateMachine& state_machine() const { return *state_machine_; }
  // nullptr when the service has none.
  const ServiceHooks* hooks() const { return hooks_.get(); }
  std::uint64_t applied_index() const { return applied_index_; }
  // The replica's role, term and leader as of its latest reported change: as cheap to read as a
  // field, so observers may look after every simulated event.
  const consensus::RoleChange& role() const override { return role_; }
  // Records the replica's log file held when it started: what it recovered from.
  std::uint64_t recovered_records() const { return recovered_records_; }
  // What recovery of the record log found wrong (a torn or corrupt tail); empty when clean.
  const std::string& recovery_problem() const { return recovery_problem_; }

 private:
  struct PendingWrite {
    NodeId client_node;
    std::uint64_t client = 0;
    std::uint64_t request = 0;
  };
  struct PendingRead {
    NodeId client_node;
    std::uint64_t client = 0;
    std::uint64_t request = 0;
    Bytes query;
    std::uint64_t apply_index = 0;  // known once the barrier completes
    bool ready = false;
  };

  void handle_request(Env& env, NodeId from, const ClientRequest& request);
  // Whether a write that just arrived waits for the batch (see gathered_).
  bool gathers(Env& env, const ClientRequest& request) const;
  // Proposes the gathered writes, in the order they arrived.
  void propose_gathered(Env& env);
  void drain(Env& env);
  void persist(Env& env, consensus::Output& out);
  void apply_committed(Env& env, consensus::Output& out);
  void serve_reads(Env& env);
  // Returns whether it asked the replica to compact (which produces output).
  bool maybe_compact(Env& env);
  void arm_timer(Env& env);
  void forget_pending();
  void reply(Env& env, NodeId to, const ClientReply& reply);
  // Answers a request the replica did not take: not_leader (with its hint), busy or rejected.
  void reject(Env& env, NodeId to, const ClientRequest& request,
              const consensus::ProposeResult& result);
  void set_role(const consensus::RoleChange& role);

  // HostContext, for the hooks; env_ is set while the host handles an event.
  NodeId self() const override { return env_->self(); }
  Nanos monotonic() const override { return env_->monotonic(); }
  void notify(NodeId client_node, ByteView body) override;
  consensus::ProposeResult propose_own(ByteView payload) override;
  void wake_at(Nanos deadline) override;
  void note(std::string_view kind, std::string_view detail) override { env_->note(kind, detail); }

  ReplicaFactory replica_factory_;
  StateMachineFactory state_machine_factory_;
  HostConfig config_;
  ServiceHooksFactory hooks_factory_;
  Env* env_ = nullptr;  // the Env outlives the process
  std::unique_ptr<ServiceHooks> hooks_;
  std::optional<TimerId> wake_timer_;  // for the hooks' wake_at
  Nanos wake_deadline_ = Nanos::max();  // wake_timer_'s, while it is set
  std::uint64_t next_own_request_ = 1;
  bool proposed_own_ = false;  // in this drain round: another round is due
  std::unique_ptr<consensus::Replica> replica_;
  std::unique_ptr<StateMachine> state_machine_;
  std::uint64_t applied_index_ = 0;
  std::uint64_t snapshot_index_ = 0;
  std::uint64_t recovered_records_ = 0;
  std::string recovery_problem_;
  consensus::RoleChange role_;
  std::optional<TimerId> timer_;
  Nanos timer_deadline_ = Nanos::max();
  // Writes waiting for their command to be applied, by (client, request).
  std::map<std::pair<std::uint64_t, std::uint64_t>, PendingWrite> pending_writes_;
  std::deque<std::pair<std::uint64_t, std::uint64_t>> pending_write_order_;
  std::map<std::uint64_t, PendingRead> pending_reads_;  // by read id
  // Group commit. A leader's messages wait for its syncs in flight, so a write proposed while its
  // disk is busy would go out no sooner than one proposed when the disk is done; proposed then,
  // together, the writes share one sync and one append per follower instead of one each. Writes
  // that arrive while the disk is busy wait here, in arrival order, until gather_timer_ fires as
  // the syncs complete.
  struct Gathered {
    NodeId from;
    ClientRequest request;
  };
  std::vector<Gathered> gathered_;
  std::optional<TimerId> gather_timer_;
  std::uint64_t next_read_id_ = 1;
  // Reused on every step so that the steady state allocates nothing for them.
  consensus::Output output_;
  Bytes send_buffer_;
  Bytes command_buffer_;  // a command being proposed
  Bytes result_buffer_;   // the state machine's result for the command being applied
};

}  // namespace lockstep::service
