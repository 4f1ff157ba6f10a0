// The lock service's server: what a ReplicaHost does around the LockService state machine, as
// ServiceHooks (replica_host.h). The host drives the consensus replica and applies committed
// commands; this adds the duties that need a clock, a network or a role (lock_state_machine.h,
// "Leadership and the grace period"):
//
//  - Leadership. A replica that becomes leader of term T proposes BeginLeadership{T} and acts on
//    no leader timer until it has applied it (the contract's rule 1). Applying it re-arms every
//    session's lease with TTL + grace and every running lock-delay in full, so a new leader never
//    expires a session its clients had no time to find it for.
//  - Leader timers, on the node's monotonic clock, from the LeaderTimers each apply hands out:
//    a lease timer per session (re-armed by every KeepAlive, dropped when the session ends) that
//    proposes ExpireSession{session, keepalive_index, T} when it fires, and a lock-delay timer
//    per lock that proposes EndLockDelay{path, started, T}. A proposal the replica does not take
//    (busy) is tried again after propose_retry. Followers keep no timers: whichever replica leads
//    next re-arms from its own BeginLeadership.
//  - Routes. Which client node speaks for a session: the node its latest request came from
//    (an OpenSession's node is bound to the session its apply names). Every replica learns
//    routes from the requests it receives, so a follower that becomes leader knows the clients
//    that tried it.
//  - Notifications (grants to queued acquirers, watch events, session ends) are sent by the
//    leader only, in commit order, to the session's route. A follower's state machine does not
//    even build them: the server switches them on and off with its role, which the host changes
//    only between applies (before applying what the same step committed). With no route yet (a
//    new leader the client has not found) they wait, at most undelivered_per_session_max per
//    session, and go out on the session's next request. Anything lost on the way is the client's to recover: a
//    queued acquire is re-sent and answered from the at-most-once record; a watch sees the gap in
//    prev_revision and resumes from its last revision.
//
// Nothing here names a protocol: the term is consensus::RoleChange::term.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "service/lock/lock_service.h"
#include "service/replica_host.h"

namespace lockstep::service::lock {

struct LockServerConfig {
  // Notifications kept for a session the leader has no route to; past it the oldest is dropped.
  std::size_t undelivered_per_session_max = 256;
  // OpenSession requests whose session is not known yet, remembered for their route.
  std::size_t opening_routes_max = 1024;
  // A leader command the replica answered busy is proposed again after this.
  Nanos propose_retry = milliseconds(10);
};

struct LockServerStats {
  std::uint64_t notifications_sent = 0;
  std::uint64_t notifications_held = 0;     // kept for a session with no route yet
  std::uint64_t notifications_dropped = 0;  // past undelivered_per_session_max
  std::uint64_t leader_commands_proposed = 0;
  std::uint64_t leaderships_begun = 0;
};

class LockServer final : public ServiceHooks {
 public:
  explicit LockServer(LockService& service, LockServerConfig config = {});

  void on_start(HostContext& ctx) override;
  void on_request(HostContext& ctx, NodeId from, const ClientRequest& request) override;
  void on_applied(HostContext& ctx, std::uint64_t index, const LoggedCommand& command,
                  ByteView result) override;
  void on_role_change(HostContext& ctx, const consensus::RoleChange& before) override;
  void on_restored(HostContext& ctx) override;
  void on_wake(HostContext& ctx) override;

  // For tests and reports.
  std::optional<NodeId> route(SessionId session) const;
  // The term whose BeginLeadership this replica proposed and applied while leading it; 0 when it
  // does not lead, or has not applied it yet (its leader timers are off until then).
  std::uint64_t begun_term() const { return begun_term_; }
  std::size_t lease_timers() const { return leases_.size(); }
  std::size_t lock_delay_timers() const { return delays_.size(); }
  // The monotonic deadline of a session's lease timer, nullopt when none runs.
  std::optional<Nanos> lease_deadline(SessionId session) const;
  const LockServerStats& stats() const { return stats_; }

 private:
  struct Lease {
    std::uint64_t keepalive_index = 0;
    Nanos deadline;
  };
  struct Delay {
    Revision started;
    Nanos deadline;
  };
  // One entry per running timer, ordered by deadline: (deadline, session or 0, path or "").
  using Due = std::tuple<Nanos, std::uint64_t, std::string>;

  bool is_leader(const HostContext& ctx) const {
    return ctx.role().role == consensus::Role::leader;
  }
  void deliver(HostContext& ctx, const Notification& notification);
  void flush(HostContext& ctx, SessionId session, NodeId node);
  void arm(HostContext& ctx, const LeaderTimer& timer);
  void stop_timers(HostContext& ctx);
  void propose_begin(HostContext& ctx);
  // Proposes a leader command; false when the replica did not take it.
  bool propose(HostContext& ctx, const Command& command);
  void rearm_wake(HostContext& ctx);

  LockService& service_;
  LockServerConfig config_;
  LockServerStats stats_;
  std::map<SessionId, NodeId> routes_;
  std::map<std::uint64_t, NodeId> opening_routes_;  // by open token
  std::deque<std::uint64_t> opening_order_;
  std::map<SessionId, std::deque<Bytes>> undelivered_;
  // Leadership of the current term: BeginLeadership proposed (retried until taken), then applied.
  std::uint64_t leading_term_ = 0;
  bool begin_proposed_ = false;
  std::optional<Nanos> begin_retry_at_;
  std::uint64_t begun_term_ = 0;
  std::map<SessionId, Lease> leases_;
  std::map<std::string, Delay> delays_;
  std::set<Due> due_;
  Bytes notify_buffer_;  // deliver's encoding, kept to reuse its allocation
  std::vector<AppliedEffects> effects_;  // on_applied's take of the service's effects, likewise
};

// A ReplicaHost running the lock service: a LockService (made with `config`) as its state
// machine and a LockServer as its hooks. `made`, when set, sees each LockService the host makes
// (on every start), e.g. to observe its applies.
std::unique_ptr<ReplicaHost> make_lock_host(ReplicaFactory replica, LockConfig config,
                                            LockServerConfig server = {}, HostConfig host = {},
                                            std::function<void(LockService&)> made = {});

}  // namespace lockstep::service::lock
