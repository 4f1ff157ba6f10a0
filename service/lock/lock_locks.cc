// Locks and elections: FIFO grants without herd effect, sequencers, lock-delay.
#include "core/assert.h"
#include "service/lock/lock_path.h"
#include "service/lock/lock_state_machine.h"

namespace lockstep::service::lock {

namespace {

// Whether a new holder in `mode` can join `holders`: a writer only alone, a reader beside readers.
template <typename Holders>
bool compatible(const Holders& holders, LockMode mode) {
  if (mode == LockMode::exclusive) return holders.empty();
  for (const auto& [id, holder] : holders) {
    if (holder.mode == LockMode::exclusive) return false;
  }
  return true;
}

}  // namespace

// FIFO: nobody overtakes a waiter, not even a reader joining readers while a writer waits (which
// would starve the writer).
bool LockStateMachine::grantable(const LockState& lock, LockMode mode) const {
  return lock.delay_started.value == 0 && lock.waiters.empty() && compatible(lock.holders, mode);
}

Sequencer LockStateMachine::grant(const std::string& path, Node& node, SessionId session,
                                  LockMode mode, bool campaign, Bytes value) {
  const std::uint64_t generation = state_.revision.value + 1;
  node.lock.holders[session] = Holder{mode, generation, campaign, std::move(value)};
  state_.sessions.at(session).held.insert(path);
  Event acquired = event_on(EventKind::lock_acquired, path);
  acquired.session = session;
  acquired.mode = mode;
  acquired.generation = generation;
  LS_ASSERT_EQ(emit(std::move(acquired)).value, generation);
  return Sequencer{path, mode, generation};
}

// Wakes the front of the queue and nobody else: one writer, or the run of readers up to the next
// writer. Called wherever a lock may have become available (release, lock-delay end, a waiter
// leaving the front).
void LockStateMachine::grant_waiters(const std::string& path, Node& node) {
  LockState& lock = node.lock;
  while (lock.delay_started.value == 0 && !lock.waiters.empty() &&
         compatible(lock.holders, lock.waiters.front().mode)) {
    Waiter w = std::move(lock.waiters.front());
    lock.waiters.erase(lock.waiters.begin());
    state_.sessions.at(w.session).waiting.erase(path);
    const Sequencer sequencer =
        grant(path, node, w.session, w.mode, w.campaign, std::move(w.value));
    complete(w.session, w.request, answer(Code::ok, Granted{sequencer}));
  }
}

void LockStateMachine::drop_holder(const std::string& path, Node& node, SessionId session,
                                   Cause cause) {
  auto it = node.lock.holders.find(session);
  LS_ASSERT(it != node.lock.holders.end());
  const Holder holder = std::move(it->second);
  node.lock.holders.erase(it);
  state_.sessions.at(session).held.erase(path);
  Event released = event_on(EventKind::lock_released, path);
  released.session = session;
  released.mode = holder.mode;
  released.generation = holder.generation;
  released.cause = cause;
  const Revision revision = emit(std::move(released));
  if (cause == Cause::session_expired) {
    // Chubby's lock-delay: the holder may have requests in flight to a resource that does not
    // check sequencers; keep the lock from anyone else until the leader's timer ends it. A
    // second expiry during a lock-delay restarts it.
    if (node.lock.delay_started.value == 0) state_.delayed_locks.insert(path);
    node.lock.delay_started = revision;
    effects_.timers.emplace_back(LockDelayTimer{path, revision, config_.lock_delay});
  } else if (cause != Cause::node_deleted) {
    grant_waiters(path, node);
  }
}

void LockStateMachine::complete(SessionId session, std::uint64_t request, Result result) {
  Session& s = state_.sessions.at(session);
  auto it = find_record(s.results, request);
  LS_ASSERT(it != s.results.end() && it->second.pending);
  it->second.result = result;
  it->second.pending = false;
  if (notifications_wanted_) {
    effects_.notifications.push_back(Notification{session, Completion{request, std::move(result)}});
  }
}

Result LockStateMachine::acquire(SessionId session, std::uint64_t request, const std::string& path,
                                 LockMode mode, bool wait, bool campaign, const Bytes& value) {
  Code problem = Code::ok;
  Node* found = find_valid(path, problem);
  if (!found) return answer(problem);
  Node& node = *found;
  Session& s = state_.sessions.at(session);
  if (node.lock.holders.contains(session)) return answer(Code::already_held);
  if (s.waiting.contains(path)) return answer(Code::already_waiting);
  if (grantable(node.lock, mode)) {
    const Sequencer sequencer = grant(path, node, session, mode, campaign, value);
    return answer(Code::ok, Granted{sequencer});
  }
  if (!wait) return answer(node.lock.delay_started.value != 0 ? Code::lock_delay : Code::lock_busy);
  if (s.waiting.size() >= config_.waits_per_session_max) return answer(Code::limit_exceeded);
  node.lock.waiters.push_back(Waiter{session, request, mode, campaign, value});
  s.waiting.insert(path);
  return answer(Code::waiting);
}

Result LockStateMachine::release(SessionId session, const std::string& path, bool campaign_only) {
  Code problem = Code::ok;
  Node* found = find_valid(path, problem);
  if (!found) return answer(problem);
  Node& node = *found;
  if (auto it = node.lock.holders.find(session); it != node.lock.holders.end()) {
    if (campaign_only && !it->second.campaign) return answer(Code::not_held);
    drop_holder(path, node, session, Cause::released);
    return answer(Code::ok);
  }
  auto& waiters = node.lock.waiters;
  auto it = std::find_if(waiters.begin(), waiters.end(),
                         [&](const Waiter& w) { return w.session == session; });
  if (it == waiters.end() || (campaign_only && !it->campaign)) return answer(Code::not_held);
  const std::uint64_t request = it->request;
  waiters.erase(it);
  state_.sessions.at(session).waiting.erase(path);
  complete(session, request, answer(Code::cancelled));
  grant_waiters(path, node);  // the front may have left: readers behind a writer can go
  return answer(Code::ok);
}

Result LockStateMachine::check_sequencer(const CheckSequencer& c) const {
  Code problem = Code::ok;
  if (const Node* node = find_valid(c.sequencer.path, problem)) {
    for (const auto& [id, holder] : node->lock.holders) {
      if (holder.generation == c.sequencer.generation && holder.mode == c.sequencer.mode) {
        return answer(Code::ok);
      }
    }
  }
  return answer(problem == Code::invalid_path ? problem : Code::stale_sequencer);
}

Result LockStateMachine::observe(const Observe& c) const {
  Code problem = Code::ok;
  const Node* node = find_valid(c.path, problem);
  if (!node) return answer(problem);
  for (const auto& [id, holder] : node->lock.holders) {
    if (holder.mode == LockMode::exclusive) {
      return answer(Code::ok, Leader{id, Sequencer{c.path, LockMode::exclusive, holder.generation},
                                     holder.value});
    }
  }
  return answer(Code::no_leader);
}

Result LockStateMachine::end_lock_delay(const EndLockDelay& c) {
  if (state_.leader_term == 0 || c.term != state_.leader_term) return answer(Code::stale_leader);
  Node* node = find(c.path);
  if (!node || c.started.value == 0 || node->lock.delay_started != c.started) {
    return answer(Code::no_lock_delay);
  }
  node->lock.delay_started = Revision{};
  state_.delayed_locks.erase(c.path);
  grant_waiters(c.path, *node);
  return answer(Code::ok);
}

}  // namespace lockstep::service::lock
