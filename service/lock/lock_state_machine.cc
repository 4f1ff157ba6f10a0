// Dispatch, at-most-once, sessions and leadership. Namespace operations are in lock_namespace.cc,
// locks and elections in lock_locks.cc, watches in lock_watches.cc, snapshots and invariants in
// lock_snapshot.cc.
#include "service/lock/lock_state_machine.h"

#include <algorithm>
#include <tuple>

#include "core/assert.h"
#include "core/overloaded.h"
#include "service/lock/lock_path.h"

namespace lockstep::service::lock {

LockStateMachine::LockStateMachine(LockConfig config) : config_(std::move(config)) {
  const std::string problem = validate(config_);
  LS_ASSERT_MSG(problem.empty(), problem);
  insert_node(cell_root(config_), state_.nodes.end());
}

ApplyOutcome LockStateMachine::apply(std::uint64_t index, const Caller& caller,
                                     const Command& command) {
  LS_ASSERT_GT(index, state_.applied_index);
  state_.applied_index = index;
  last_from_record_ = false;
  effects_.notifications.clear();  // moved out by the last apply: empty already
  effects_.timers.clear();
  // decide() runs first (a braced list is evaluated in order) and fills effects_; its result is
  // built in the outcome itself, where assigning it was a pass over the variant on every apply.
  return ApplyOutcome{decide(index, caller, command), std::move(effects_.notifications),
                      std::move(effects_.timers)};
}

Result LockStateMachine::decide(std::uint64_t index, const Caller& caller,
                                const Command& command) {
  if (is_leader_command(command)) {
    return caller.session.value != 0 ? answer(Code::not_permitted) : run_leader_command(command);
  }
  if (const auto* open = std::get_if<OpenSession>(&command)) {
    return open_session(index, caller.session.value, *open);
  }
  // One lookup for the check and the session: every client command makes it.
  const auto caller_session = state_.sessions.find(caller.session);
  if (caller_session == state_.sessions.end()) return answer(session_problem(caller.session));
  Session& s = caller_session->second;
  forget_acknowledged(s, caller.acked_through);
  if (is_read(command)) return read(command);
  if (auto it = find_record(s.results, caller.request); it != s.results.end()) {
    last_from_record_ = true;
    return it->second.result;  // a retry: answered, not applied again
  }
  if (caller.request <= std::max(s.acked_through, s.forgotten_through)) {
    return answer(Code::stale_request);
  }
  return run_and_record(index, caller.session, caller.request, command);
}

Result LockStateMachine::run_and_record(std::uint64_t index, SessionId session,
                                        std::uint64_t request, const Command& command) {
  Result result = run(index, session, request, command);
  // CloseSession ends the session, and its record with it.
  if (auto live = state_.sessions.find(session); live != state_.sessions.end()) {
    record(live->second, request, result);
  }
  return result;
}

Result LockStateMachine::query(const Command& command) const {
  if (!is_read(command)) return answer(Code::bad_request);
  return read(command);
}

Result LockStateMachine::run(std::uint64_t index, SessionId session, std::uint64_t request,
                             const Command& command) {
  return std::visit(Overloaded{
                        [&](const KeepAlive&) { return keep_alive(index, session); },
                        [&](const CloseSession&) {
                          end_session(session, Cause::session_closed);
                          return answer(Code::ok);
                        },
                        [&](const Create& c) { return create(session, c); },
                        [&](const Delete& c) { return remove(c); },
                        [&](const Set& c) { return set(c); },
                        [&](const Acquire& c) {
                          return acquire(session, request, c.path, c.mode, c.wait, false, {});
                        },
                        [&](const Release& c) { return release(session, c.path, false); },
                        [&](const Campaign& c) {
                          if (c.value.size() > config_.content_bytes_max)
                            return answer(Code::content_too_large);
                          return acquire(session, request, c.path, LockMode::exclusive, true, true,
                                         c.value);
                        },
                        [&](const Resign& c) { return release(session, c.path, true); },
                        [&](const Watch& c) { return watch(session, c); },
                        [&](const Unwatch& c) { return unwatch(session, c); },
                        [&](const auto& c) -> Result {
                          // Reads, OpenSession and leader commands were dispatched before.
                          LS_ASSERT_MSG(false, std::string(command_name(Command{c})));
                          return answer(Code::bad_request);
                        },
                    },
                    command);
}

Result LockStateMachine::run_leader_command(const Command& command) {
  if (const auto* c = std::get_if<BeginLeadership>(&command)) return begin_leadership(*c);
  if (const auto* c = std::get_if<ExpireSession>(&command)) return expire_session(*c);
  return end_lock_delay(std::get<EndLockDelay>(command));
}

Result LockStateMachine::read(const Command& command) const {
  if (const auto* c = std::get_if<Get>(&command)) return get(*c);
  if (const auto* c = std::get_if<List>(&command)) return list(*c);
  if (const auto* c = std::get_if<Observe>(&command)) return observe(*c);
  return check_sequencer(std::get<CheckSequencer>(command));
}

// ---- at-most-once
// --------------------------------------------------------------------------------

void LockStateMachine::forget_acknowledged(Session& s, std::uint64_t acked_through) {
  if (acked_through <= s.acked_through) return;
  s.acked_through = acked_through;
  // The records up to acked_through go, but a queued request's record stays: its completion will
  // update it. The kept ones move up, in order, and the rest shift down once.
  const auto acked_end =
      std::partition_point(s.results.begin(), s.results.end(),
                           [&](const auto& entry) { return entry.first <= acked_through; });
  const auto kept_end = std::remove_if(s.results.begin(), acked_end,
                                       [](const auto& entry) { return !entry.second.pending; });
  s.results.erase(kept_end, acked_end);
}

LockStateMachine::Records::iterator LockStateMachine::find_record(Records& records,
                                                                  std::uint64_t request) {
  const auto it =
      std::partition_point(records.begin(), records.end(),
                           [&](const auto& entry) { return entry.first < request; });
  return it != records.end() && it->first == request ? it : records.end();
}

LockStateMachine::Records::const_iterator LockStateMachine::find_record(const Records& records,
                                                                        std::uint64_t request) {
  return find_record(const_cast<Records&>(records), request);
}

void LockStateMachine::record(Session& s, std::uint64_t request, const Result& result) {
  const auto at =
      std::partition_point(s.results.begin(), s.results.end(),
                           [&](const auto& entry) { return entry.first < request; });
  // apply records only a request it ran, and it runs only requests without a record.
  LS_ASSERT(at == s.results.end() || at->first != request);
  // Built in its slot (usually the end), not built aside and moved in.
  s.results.emplace(at, std::piecewise_construct, std::forward_as_tuple(request),
                    std::forward_as_tuple(result, result.code == Code::waiting));
  while (s.results.size() > config_.results_per_session_max) {
    auto victim = std::find_if(s.results.begin(), s.results.end(),
                               [](const auto& entry) { return !entry.second.pending; });
    // validate() keeps waits_per_session_max below results_per_session_max.
    LS_ASSERT(victim != s.results.end());
    s.forgotten_through = std::max(s.forgotten_through, victim->first);
    s.results.erase(victim);
  }
}

// ---- sessions ----------------------------------------------------------------------------------

Code LockStateMachine::session_problem(SessionId session) const {
  if (state_.sessions.contains(session)) return Code::ok;
  if (session.value == 0 || session.value >= state_.next_session) return Code::session_unknown;
  return Code::session_expired;  // ids below next_session were all opened once
}

Result LockStateMachine::open_session(std::uint64_t index, std::uint64_t token,
                                      const OpenSession& c) {
  if ((token & kOpenTokenBit) == 0) return answer(Code::invalid_argument);
  if (auto it = state_.open_tokens.find(token); it != state_.open_tokens.end()) {
    // A retry of an opening that was applied: the same session.
    return answer(Code::ok, SessionInfo{it->second, state_.sessions.at(it->second).ttl});
  }
  if (c.ttl < config_.session_ttl_min || c.ttl > config_.session_ttl_max) {
    return answer(Code::invalid_argument);
  }
  if (state_.sessions.size() >= config_.sessions_max) return answer(Code::limit_exceeded);
  const SessionId id{state_.next_session++};
  LS_ASSERT_LT(id.value, kOpenTokenBit);
  Session& s = state_.sessions[id];
  s.ttl = c.ttl;
  s.last_keepalive_index = index;
  s.open_token = token;
  state_.open_tokens[token] = id;
  effects_.timers.emplace_back(LeaseTimer{id, index, c.ttl});
  return answer(Code::ok, SessionInfo{id, c.ttl});
}

Result LockStateMachine::keep_alive(std::uint64_t index, SessionId session) {
  Session& s = state_.sessions.at(session);
  s.last_keepalive_index = index;
  effects_.timers.emplace_back(LeaseTimer{session, index, s.ttl});
  return answer(Code::ok, SessionInfo{session, s.ttl});
}

// Ends a session: its watches and queued requests go first (so it is neither notified nor granted
// anything on its way out), then its ephemeral nodes (with any lock on them), then the locks it
// holds elsewhere: released cleanly on close, into lock-delay on expiry.
void LockStateMachine::end_session(SessionId id, Cause cause) {
  Session& s = state_.sessions.at(id);
  while (!s.watches.empty()) drop_watch(id, s.watches.begin()->first);

  const std::vector<std::string> waiting(s.waiting.begin(), s.waiting.end());
  for (const std::string& path : waiting) {
    Node& node = *find(path);
    std::erase_if(node.lock.waiters, [&](const Waiter& w) { return w.session == id; });
    s.waiting.erase(path);
    grant_waiters(path, node);
  }
  const std::vector<std::string> ephemerals(s.ephemerals.begin(), s.ephemerals.end());
  for (const std::string& path : ephemerals) delete_node(path);
  const std::vector<std::string> held(s.held.begin(), s.held.end());
  for (const std::string& path : held) drop_holder(path, *find(path), id, cause);

  if (cause == Cause::session_expired) {
    // Nobody watches a session, so the event stays out of the history; it still takes the next
    // revision so that the session's end has a place in the global order.
    ++state_.revision.value;
    if (notifications_wanted_) {
      Event event;
      event.revision = state_.revision;
      event.kind = EventKind::session_expired;
      event.session = id;
      event.cause = cause;
      // Built in place: GCC 12 at -O3 reports a false maybe-uninitialized on a temporary here.
      Notification& n = effects_.notifications.emplace_back();
      n.target = id;
      n.body.emplace<SessionEnded>(SessionEnded{std::move(event)});
    }
  }
  effects_.timers.emplace_back(LeaseEnded{id});
  state_.open_tokens.erase(s.open_token);
  state_.sessions.erase(id);
}

// ---- leadership --------------------------------------------------------------------------------

Result LockStateMachine::begin_leadership(const BeginLeadership& c) {
  if (c.term <= state_.leader_term) return answer(Code::stale_leader);
  state_.leader_term = c.term;
  for (const auto& [id, s] : state_.sessions) {
    effects_.timers.emplace_back(
        LeaseTimer{id, s.last_keepalive_index, s.ttl + config_.session_grace});
  }
  for (const std::string& path : state_.delayed_locks) {
    effects_.timers.emplace_back(
        LockDelayTimer{path, find(path)->lock.delay_started, config_.lock_delay});
  }
  return answer(Code::ok);
}

Result LockStateMachine::expire_session(const ExpireSession& c) {
  if (state_.leader_term == 0 || c.term != state_.leader_term) return answer(Code::stale_leader);
  if (const Code problem = session_problem(c.session); problem != Code::ok) return answer(problem);
  if (state_.sessions.at(c.session).last_keepalive_index != c.keepalive_index) {
    return answer(Code::lease_extended);
  }
  end_session(c.session, Cause::session_expired);
  return answer(Code::ok);
}

// ---- lookup ------------------------------------------------------------------------------------

LockStateMachine::Nodes::iterator LockStateMachine::locate(std::string_view path) {
  auto it = state_.node_index.find(IndexedPath(path));
  return it == state_.node_index.end() ? state_.nodes.end() : it->second;
}

const LockStateMachine::Node* LockStateMachine::find(std::string_view path) const {
  auto it = state_.node_index.find(IndexedPath(path));
  return it == state_.node_index.end() ? nullptr : &it->second->second;
}

LockStateMachine::Node* LockStateMachine::find(std::string_view path) {
  auto it = locate(path);
  return it == state_.nodes.end() ? nullptr : &it->second;
}

// Every node's path is valid (create checks it, restore refuses a snapshot with another), so a
// path that names a node needs no check: only a miss tells invalid_path from no_node.
const LockStateMachine::Node* LockStateMachine::find_valid(std::string_view path,
                                                           Code& problem) const {
  const Node* node = find(path);
  if (node) {
    problem = Code::ok;
  } else {
    problem = valid_path(path, config_) ? Code::no_node : Code::invalid_path;
  }
  return node;
}

LockStateMachine::Node* LockStateMachine::find_valid(std::string_view path, Code& problem) {
  return const_cast<Node*>(std::as_const(*this).find_valid(path, problem));
}

LockStateMachine::Nodes::iterator LockStateMachine::insert_node(std::string path,
                                                                Nodes::iterator hint) {
  const std::size_t before = state_.nodes.size();
  // The Node is built in the map's own node, not built aside and moved in.
  const auto it = state_.nodes.emplace_hint(hint, std::piecewise_construct,
                                            std::forward_as_tuple(std::move(path)),
                                            std::forward_as_tuple());
  LS_ASSERT_EQ(state_.nodes.size(), before + 1);
  state_.node_index.emplace(IndexedPath(it->first), it);
  return it;
}

}  // namespace lockstep::service::lock
