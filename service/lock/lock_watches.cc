// Events, the bounded history, and watches (streaming and resumable, as etcd's).
#include <algorithm>

#include "core/assert.h"
#include "service/lock/lock_path.h"
#include "service/lock/lock_state_machine.h"

namespace lockstep::service::lock {

namespace {

bool matches(const Event& event, std::string_view path, bool recursive, std::uint32_t kinds) {
  if ((kinds & watch_bit(event.kind)) == 0) return false;
  return event.path == path || (recursive && is_within(event.path, path));
}

}  // namespace

Revision LockStateMachine::emit(Event event) {
  event.revision = Revision{++state_.revision.value};

  // Watches on the event's own path, and recursive watches on the paths above it; delivered in
  // (session, watch id) order so every replica produces the same notifications. Most events have
  // no watch on any of these paths: skip the walk when nothing is watched at all.
  if (!state_.watch_index.empty()) {
    std::vector<WatchTarget>& targets = emit_targets_;  // reused: no allocation per event
    targets.clear();
    const std::uint32_t bit = watch_bit(event.kind);
    // The index holds each watch under its own path, so a watch found at the event's path is on
    // it, and one found at an ancestor holds the event in its subtree if it is recursive.
    auto collect = [&](std::string_view watched, bool own_path) {
      auto it = state_.watch_index.find(watched);
      if (it == state_.watch_index.end()) return;
      for (const auto& [key, w] : it->second) {
        if ((w->kinds & bit) != 0 && (own_path || w->recursive)) targets.push_back({key, w});
      }
    };
    collect(event.path, true);
    for (std::string_view p = event.path; !is_cell_root(p, config_);) {
      p = parent_of(p);
      collect(p, false);
    }
    // Each watch sits under one path and each path is visited once: no duplicates to remove.
    // Usually one path has all the watches, already in order: check before sorting.
    const auto by_key = [](const WatchTarget& a, const WatchTarget& b) { return a.key < b.key; };
    if (!std::is_sorted(targets.begin(), targets.end(), by_key)) {
      std::sort(targets.begin(), targets.end(), by_key);
    }
    if (notifications_wanted_) {
      effects_.notifications.reserve(effects_.notifications.size() + targets.size());
    }
    for (const WatchTarget& target : targets) {
      if (notifications_wanted_) {
        effects_.notifications.emplace_back(
            target.key.first, WatchFired{target.key.second, target.watch->last_revision, event});
      }
      target.watch->last_revision = event.revision;
    }
  }

  const Revision revision = event.revision;
  state_.history.push_back(std::move(event));
  if (state_.history.size() > config_.event_history_max) {
    state_.compacted = state_.history.front().revision;
    // Its path's storage goes to the next event_on: once the history is full, every event
    // dropped would free a path and every event made would allocate one.
    spare_path_ = std::move(state_.history.front().path);
    state_.history.pop_front();
  }
  return revision;
}

Event LockStateMachine::event_on(EventKind kind, std::string_view path) {
  Event event;
  event.kind = kind;
  event.path.swap(spare_path_);  // spare_path_ is left empty (a default Event's path)
  // clear and append: assign() takes the general replace path, twice the instructions.
  event.path.clear();
  event.path.append(path.data(), path.size());
  return event;
}

Result LockStateMachine::watch(SessionId session, const Watch& c) {
  if (!valid_path(c.path, config_)) return answer(Code::invalid_path);
  if (c.kinds == 0 || (c.kinds & ~kWatchableKinds) != 0) return answer(Code::invalid_argument);
  Session& s = state_.sessions.at(session);
  const bool replacing = s.watches.contains(c.watch_id);
  if (!replacing && s.watches.size() >= config_.watches_per_session_max) {
    return answer(Code::limit_exceeded);
  }

  WatchStarted started;
  if (c.start_revision.value != 0) {
    if (c.start_revision <= state_.compacted) {
      // Events from start_revision on may have been dropped: say so rather than replay a part.
      Event resync;
      resync.revision = state_.revision;
      resync.kind = EventKind::resync;
      resync.path = c.path;
      started.replay.push_back(std::move(resync));
    } else {
      // The history is in revision order: start at start_revision rather than scan it all.
      const auto first = std::partition_point(
          state_.history.begin(), state_.history.end(),
          [&](const Event& e) { return e.revision < c.start_revision; });
      for (auto e = first; e != state_.history.end(); ++e) {
        if (matches(*e, c.path, c.recursive, c.kinds)) started.replay.push_back(*e);
      }
    }
  }
  if (replacing) drop_watch(session, c.watch_id);
  WatchState& added = s.watches[c.watch_id];
  added = WatchState{c.path, c.recursive, c.kinds, state_.revision};
  state_.watch_index[c.path].emplace(WatchKey{session, c.watch_id}, &added);
  return answer(Code::ok, std::move(started));
}

Result LockStateMachine::unwatch(SessionId session, const Unwatch& c) {
  if (!state_.sessions.at(session).watches.contains(c.watch_id)) return answer(Code::no_watch);
  drop_watch(session, c.watch_id);
  return answer(Code::ok);
}

void LockStateMachine::drop_watch(SessionId session, std::uint64_t watch_id) {
  Session& s = state_.sessions.at(session);
  auto it = s.watches.find(watch_id);
  LS_ASSERT(it != s.watches.end());
  auto indexed = state_.watch_index.find(it->second.path);
  LS_ASSERT(indexed != state_.watch_index.end());
  indexed->second.erase(WatchKey{session, watch_id});
  if (indexed->second.empty()) state_.watch_index.erase(indexed);
  s.watches.erase(it);
}

}  // namespace lockstep::service::lock
