#include "service/lock/lock_server.h"

#include <fmt/format.h>

#include "core/assert.h"
#include "service/lock/lock_codec.h"

namespace lockstep::service::lock {

LockServer::LockServer(LockService& service, LockServerConfig config)
    : service_(service), config_(config) {}

std::optional<NodeId> LockServer::route(SessionId session) const {
  const auto it = routes_.find(session);
  if (it == routes_.end()) return std::nullopt;
  return it->second;
}

std::optional<Nanos> LockServer::lease_deadline(SessionId session) const {
  const auto it = leases_.find(session);
  if (it == leases_.end()) return std::nullopt;
  return it->second.deadline;
}

void LockServer::on_start(HostContext& ctx) {
  service_.set_notifications_wanted(is_leader(ctx));
}

void LockServer::on_request(HostContext& ctx, NodeId from, const ClientRequest& request) {
  if ((request.client & kOpenTokenBit) != 0) {
    if (!opening_routes_.contains(request.client)) {
      if (opening_order_.size() >= config_.opening_routes_max) {
        opening_routes_.erase(opening_order_.front());
        opening_order_.pop_front();
      }
      opening_order_.push_back(request.client);
    }
    opening_routes_[request.client] = from;
    return;
  }
  const SessionId session{request.client};
  // Only sessions the state machine knows get a route, so routes stay bounded by its sessions.
  if (!service_.machine().session_alive(session)) return;
  routes_[session] = from;
  if (is_leader(ctx)) flush(ctx, session, from);
}

void LockServer::on_applied(HostContext& ctx, std::uint64_t, const LoggedCommand& command,
                            ByteView result) {
  if ((command.client & kOpenTokenBit) != 0) {
    if (auto it = opening_routes_.find(command.client); it != opening_routes_.end()) {
      const auto decoded = decode_result(result);
      if (decoded && decoded->code == Code::ok) {
        if (const auto* info = std::get_if<SessionInfo>(&decoded->value)) {
          routes_[info->session] = it->second;
        }
      }
    }
  }
  const bool leader = is_leader(ctx);
  // The role changed only through on_role_change, so a follower's apply built no notification.
  LS_ASSERT_EQ(leader, service_.machine().notifications_wanted());
  // Rule 1 of the contract: timers count only once our own BeginLeadership is applied, and that
  // apply's timers (every session, every lock-delay) are the first we arm.
  if (leader && leading_term_ != 0 && begun_term_ != leading_term_ &&
      service_.machine().leader_term() == leading_term_) {
    begun_term_ = leading_term_;
    ++stats_.leaderships_begun;
    ctx.note("lock_leadership", fmt::format("begun term={}", leading_term_));
  }
  service_.take_effects(effects_);
  for (const AppliedEffects& effects : effects_) {
    if (leader) {
      for (const Notification& n : effects.notifications) deliver(ctx, n);
    }
    for (const LeaderTimer& timer : effects.timers) {
      // A session that ended takes its route with it (after its SessionEnded went out above).
      if (const auto* ended = std::get_if<LeaseEnded>(&timer)) {
        routes_.erase(ended->session);
        undelivered_.erase(ended->session);
      }
      if (leader && begun_term_ == leading_term_ && begun_term_ != 0) arm(ctx, timer);
    }
  }
  if (leader) rearm_wake(ctx);
}

void LockServer::deliver(HostContext& ctx, const Notification& notification) {
  Bytes& body = notify_buffer_;
  body.clear();
  encode_to(body, notification);
  if (const auto it = routes_.find(notification.target); it != routes_.end()) {
    ctx.notify(it->second, body);
    ++stats_.notifications_sent;
    return;
  }
  std::deque<Bytes>& held = undelivered_[notification.target];
  if (held.size() >= config_.undelivered_per_session_max) {
    held.pop_front();
    ++stats_.notifications_dropped;
  }
  held.push_back(body);
  ++stats_.notifications_held;
}

void LockServer::flush(HostContext& ctx, SessionId session, NodeId node) {
  const auto it = undelivered_.find(session);
  if (it == undelivered_.end()) return;
  for (const Bytes& body : it->second) {
    ctx.notify(node, body);
    ++stats_.notifications_sent;
  }
  undelivered_.erase(it);
}

void LockServer::arm(HostContext& ctx, const LeaderTimer& timer) {
  const Nanos now = ctx.monotonic();
  if (const auto* lease = std::get_if<LeaseTimer>(&timer)) {
    if (auto it = leases_.find(lease->session); it != leases_.end()) {
      due_.erase(Due{it->second.deadline, lease->session.value, std::string()});
    }
    const Nanos deadline = now + lease->expire_after;
    leases_[lease->session] = Lease{lease->keepalive_index, deadline};
    due_.emplace(deadline, lease->session.value, std::string());
  } else if (const auto* ended = std::get_if<LeaseEnded>(&timer)) {
    if (auto it = leases_.find(ended->session); it != leases_.end()) {
      due_.erase(Due{it->second.deadline, ended->session.value, std::string()});
      leases_.erase(it);
    }
  } else {
    const auto& delay = std::get<LockDelayTimer>(timer);
    if (auto it = delays_.find(delay.path); it != delays_.end()) {
      due_.erase(Due{it->second.deadline, 0, delay.path});
    }
    const Nanos deadline = now + delay.end_after;
    delays_[delay.path] = Delay{delay.started, deadline};
    due_.emplace(deadline, 0, delay.path);
  }
}

void LockServer::on_role_change(HostContext& ctx, const consensus::RoleChange& before) {
  const consensus::RoleChange& now = ctx.role();
  // Before the applies that follow in the same step: on_applied delivers only as leader.
  service_.set_notifications_wanted(is_leader(ctx));
  const bool was_leading = before.role == consensus::Role::leader;
  if (was_leading && now.role == consensus::Role::leader && now.term == before.term) return;
  stop_timers(ctx);
  undelivered_.clear();
  if (now.role != consensus::Role::leader) return;
  leading_term_ = now.term;
  propose_begin(ctx);
}

void LockServer::stop_timers(HostContext& ctx) {
  leading_term_ = 0;
  begun_term_ = 0;
  begin_proposed_ = false;
  begin_retry_at_.reset();
  leases_.clear();
  delays_.clear();
  due_.clear();
  ctx.wake_at(Nanos::max());
}

void LockServer::propose_begin(HostContext& ctx) {
  begin_proposed_ = propose(ctx, BeginLeadership{leading_term_});
  if (begin_proposed_) {
    begin_retry_at_.reset();
  } else {
    begin_retry_at_ = ctx.monotonic() + config_.propose_retry;
  }
  rearm_wake(ctx);
}

bool LockServer::propose(HostContext& ctx, const Command& command) {
  const consensus::ProposeResult r = ctx.propose_own(encode(RequestPayload{0, command}));
  if (r.outcome != consensus::Outcome::accepted) return false;
  ++stats_.leader_commands_proposed;
  return true;
}

void LockServer::rearm_wake(HostContext& ctx) {
  Nanos next = Nanos::max();
  if (begin_retry_at_) next = *begin_retry_at_;
  if (!due_.empty()) next = std::min(next, std::get<0>(*due_.begin()));
  ctx.wake_at(next);
}

void LockServer::on_wake(HostContext& ctx) {
  if (!is_leader(ctx) || leading_term_ == 0) return;
  const Nanos now = ctx.monotonic();
  if (begin_retry_at_ && *begin_retry_at_ <= now) {
    propose_begin(ctx);
    return;
  }
  while (!due_.empty() && std::get<0>(*due_.begin()) <= now) {
    auto [deadline, session, path] = *due_.begin();
    due_.erase(due_.begin());
    bool taken = false;
    if (session != 0) {
      const auto it = leases_.find(SessionId{session});
      LS_ASSERT(it != leases_.end());
      taken = propose(ctx, ExpireSession{SessionId{session}, it->second.keepalive_index,
                                         leading_term_});
      if (taken) {
        ctx.note("lock_expire", fmt::format("session={} keepalive_index={}", session,
                                            it->second.keepalive_index));
        leases_.erase(it);
      } else {
        it->second.deadline = now + config_.propose_retry;
        due_.emplace(it->second.deadline, session, std::string());
      }
    } else {
      const auto it = delays_.find(path);
      LS_ASSERT(it != delays_.end());
      taken = propose(ctx, EndLockDelay{path, it->second.started, leading_term_});
      if (taken) {
        ctx.note("lock_delay_end", path);
        delays_.erase(it);
      } else {
        it->second.deadline = now + config_.propose_retry;
        due_.emplace(it->second.deadline, 0, path);
      }
    }
    if (!taken) break;  // the replica is busy: everything else due waits for the retry too
  }
  rearm_wake(ctx);
}

void LockServer::on_restored(HostContext&) {
  // The state machine was replaced (a follower catching up): effects not taken went with it, and
  // so did the sessions the routes were for; routes of live sessions stay valid.
  std::erase_if(routes_, [this](const auto& entry) {
    return !service_.machine().session_alive(entry.first);
  });
}

std::unique_ptr<ReplicaHost> make_lock_host(ReplicaFactory replica, LockConfig config,
                                            LockServerConfig server, HostConfig host,
                                            std::function<void(LockService&)> made) {
  return std::make_unique<ReplicaHost>(
      std::move(replica),
      [config = std::move(config), made = std::move(made)]() -> std::unique_ptr<StateMachine> {
        auto service = std::make_unique<LockService>(config);
        if (made) made(*service);
        return service;
      },
      host, [server](StateMachine& machine) -> std::unique_ptr<ServiceHooks> {
        // The factory above made it: a LockService.
        return std::make_unique<LockServer>(static_cast<LockService&>(machine), server);
      });
}

}  // namespace lockstep::service::lock
