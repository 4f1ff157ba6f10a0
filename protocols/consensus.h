// The consensus interface: what every protocol module (raft/, paxos/, zab/) implements and all
// that the layers above may rely on (DESIGN.md, "Protocols are pure state machines").
//
// A Replica is a pure state machine. It owns no threads, sockets, clocks, files or globals. The
// host drives it with calls that carry the node's clock reading (`now`) and the bytes that
// arrived, and after each call collects an Output: messages to send, records to persist (and
// whether they must be durable before the messages leave), commands newly committed in log order,
// read barriers that completed, a snapshot to install, and role/leader changes. Model: etcd-io/raft
// (Step/Tick/Ready/Advance) and Stateright's Actor.
//
// Durability contract: the host appends Output::persist to the replica's record log (rewriting the
// log first when persist_rewrite is set) and, when sync_before_send is set, syncs it before any of
// Output::messages leaves. After a crash the host constructs a fresh replica and hands it every
// record that survived, in order, through recover().
//
// Nothing here is specific to one protocol: "term" is Raft's term, Paxos's ballot round, Zab's
// epoch; "index" is a position in the totally ordered committed sequence.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/packed_bytes.h"
#include "core/types.h"

namespace lockstep::consensus {

enum class Role : std::uint8_t { follower, candidate, leader };

std::string_view to_string(Role role);

struct Message {
  NodeId to;
  ByteView payload;
};

struct CommittedCommand {
  std::uint64_t index = 0;  // strictly increasing across calls; gaps allowed (no-ops, config)
  ByteView command;
};

// A read barrier asked for with read_barrier(id) completed: a read that observes the state
// machine once it has applied everything through `apply_index` is linearizable.
struct ReadReady {
  std::uint64_t read_id = 0;
  std::uint64_t apply_index = 0;
};

// The state machine must be replaced by this snapshot (taken at `index`) before any command
// committed after it is applied. Emitted on InstallSnapshot and on recovery from a snapshot.
struct SnapshotInstall {
  std::uint64_t index = 0;
  Bytes data;
};

struct RoleChange {
  Role role = Role::follower;
  std::uint64_t term = 0;
  std::optional<NodeId> leader;
};

// Byte strings are packed (core/packed_bytes.h): a host that keeps one Output and hands it to
// take_output() on every step allocates nothing for them once the buffers are warm. The views an
// Output hands out live as long as the Output is not modified.
struct Output {
  PackedBytes<> persist;          // records to append, in order
  bool persist_rewrite = false;   // replace the whole record log with `persist`
  bool sync_before_send = false;  // `persist` must be durable before `messages` leave
  PackedBytes<NodeId, Message> messages;  // keyed by destination
  std::optional<SnapshotInstall> snapshot;
  PackedBytes<std::uint64_t, CommittedCommand> committed;  // keyed by log index
  std::vector<ReadReady> reads;
  std::optional<RoleChange> role_change;

  bool empty() const {
    return persist.empty() && !persist_rewrite && messages.empty() && !snapshot &&
           committed.empty() && reads.empty() && !role_change;
  }
  friend void swap(Output& a, Output& b) noexcept {
    using std::swap;
    swap(a.persist, b.persist);
    swap(a.persist_rewrite, b.persist_rewrite);
    swap(a.sync_before_send, b.sync_before_send);
    swap(a.messages, b.messages);
    swap(a.snapshot, b.snapshot);
    swap(a.committed, b.committed);
    a.reads.swap(b.reads);
    swap(a.role_change, b.role_change);
  }
  // Empties it, keeping its buffers' capacity.
  void clear() {
    persist.clear();
    persist_rewrite = false;
    sync_before_send = false;
    messages.clear();
    snapshot.reset();
    committed.clear();
    reads.clear();
    role_change.reset();
  }
};

enum class Outcome : std::uint8_t {
  accepted,     // taken; its effect shows up in a later Output
  not_leader,   // ask the node in `leader_hint`, if any
  busy,         // flow control: too much in flight, try again later
  unsupported,  // this protocol does not offer the operation
};

struct ProposeResult {
  Outcome outcome = Outcome::accepted;
  std::optional<NodeId> leader_hint;
};

struct MembershipChange {
  enum class Kind : std::uint8_t { add, remove } kind = Kind::add;
  NodeId node;
};

// Read-only view for checkers and reports.
struct Status {
  NodeId self;
  Role role = Role::follower;
  std::uint64_t term = 0;
  std::optional<NodeId> leader;
  std::uint64_t commit_index = 0;
  std::uint64_t last_index = 0;
  std::vector<NodeId> members;
};

class Replica {
 public:
  virtual ~Replica() = default;

  // First call on every replica, on first start (records empty) and after every restart.
  virtual void recover(Nanos now, std::span<const Bytes> records) = 0;
  virtual void receive(Nanos now, NodeId from, ByteView message) = 0;
  // The clock reached `now`: run whatever deadlines are due.
  virtual void tick(Nanos now) = 0;
  // Local clock time at which tick() next has work to do.
  virtual Nanos next_tick() const = 0;

  virtual ProposeResult propose(Nanos now, ByteView command) = 0;
  virtual ProposeResult read_barrier(Nanos now, std::uint64_t read_id) = 0;
  virtual ProposeResult change_membership(Nanos now, MembershipChange change) = 0;
  virtual ProposeResult transfer_leadership(Nanos now, NodeId target) = 0;
  // The host's state machine has applied everything through `index`; `snapshot` is its state.
  // The replica may drop log entries up to `index`.
  virtual void compact(Nanos now, std::uint64_t index, Bytes snapshot) = 0;

  // Moves everything produced since the last call into `out`, which is cleared first. Hosts keep
  // one Output and pass it on every step, so its buffers are reused.
  virtual void take_output(Output& out) = 0;
  Output take_output() {
    Output out;
    take_output(out);
    return out;
  }
  virtual Status status() const = 0;
};

// A named violation of a protocol invariant, found by a ClusterChecker.
struct Violation {
  std::string property;  // "election_safety", "log_matching", ...
  std::string detail;    // what was seen, with node ids, terms and indexes
};

// Observes every replica of one cluster after every simulated step and reports the first broken
// invariant. Stateful: properties over time (terms never decrease, one vote per term) remember
// what they saw. A crashed replica is passed as nullptr.
class ClusterChecker {
 public:
  virtual ~ClusterChecker() = default;
  // Names of the invariants this checker verifies, for the verdict table.
  virtual std::vector<std::string> properties() const = 0;
  // `changed`, when set, is the one position whose replica may have changed since the last call
  // (the step ran on that node alone); a checker may then look at that replica only. Unset:
  // anything may have changed (a fault, a restart), look at every replica.
  virtual std::optional<Violation> check(std::span<const Replica* const> replicas,
                                         std::optional<std::size_t> changed) = 0;
  std::optional<Violation> check(std::span<const Replica* const> replicas) {
    return check(replicas, std::nullopt);
  }
  // The node at `position` crashed before a sync it had issued completed, so state it had reached
  // in memory (a term, a vote) may never have become durable, and nothing that depended on it
  // left the node (messages wait for the sync). Called before the next check() that sees its new
  // incarnation: properties over time then start again from what that incarnation recovers.
  virtual void forget_unsynced(std::size_t position) = 0;
};

}  // namespace lockstep::consensus
