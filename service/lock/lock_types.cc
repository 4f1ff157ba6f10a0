#include "service/lock/lock_types.h"

#include <fmt/format.h>

#include "service/lock/lock_path.h"

namespace lockstep::service::lock {

std::string_view to_string(LockMode mode) {
  switch (mode) {
    case LockMode::exclusive: return "exclusive";
    case LockMode::shared: return "shared";
  }
  return "?";
}

std::string_view to_string(Code code) {
  switch (code) {
    case Code::ok: return "ok";
    case Code::waiting: return "waiting";
    case Code::bad_request: return "bad_request";
    case Code::invalid_path: return "invalid_path";
    case Code::content_too_large: return "content_too_large";
    case Code::invalid_argument: return "invalid_argument";
    case Code::session_unknown: return "session_unknown";
    case Code::session_expired: return "session_expired";
    case Code::stale_request: return "stale_request";
    case Code::node_exists: return "node_exists";
    case Code::no_node: return "no_node";
    case Code::no_parent: return "no_parent";
    case Code::not_empty: return "not_empty";
    case Code::version_mismatch: return "version_mismatch";
    case Code::ephemeral_parent: return "ephemeral_parent";
    case Code::node_busy: return "node_busy";
    case Code::lock_busy: return "lock_busy";
    case Code::lock_delay: return "lock_delay";
    case Code::already_held: return "already_held";
    case Code::already_waiting: return "already_waiting";
    case Code::not_held: return "not_held";
    case Code::cancelled: return "cancelled";
    case Code::stale_sequencer: return "stale_sequencer";
    case Code::no_leader: return "no_leader";
    case Code::no_watch: return "no_watch";
    case Code::limit_exceeded: return "limit_exceeded";
    case Code::not_permitted: return "not_permitted";
    case Code::stale_leader: return "stale_leader";
    case Code::lease_extended: return "lease_extended";
    case Code::no_lock_delay: return "no_lock_delay";
  }
  return "?";
}

std::string_view to_string(EventKind kind) {
  switch (kind) {
    case EventKind::node_created: return "node_created";
    case EventKind::node_changed: return "node_changed";
    case EventKind::node_deleted: return "node_deleted";
    case EventKind::children_changed: return "children_changed";
    case EventKind::lock_acquired: return "lock_acquired";
    case EventKind::lock_released: return "lock_released";
    case EventKind::session_expired: return "session_expired";
    case EventKind::resync: return "resync";
    case EventKind::session_jeopardy: return "session_jeopardy";
    case EventKind::session_safe: return "session_safe";
  }
  return "?";
}

std::string_view to_string(Cause cause) {
  switch (cause) {
    case Cause::none: return "none";
    case Cause::released: return "released";
    case Cause::session_closed: return "session_closed";
    case Cause::session_expired: return "session_expired";
    case Cause::node_deleted: return "node_deleted";
  }
  return "?";
}

std::string validate(const LockConfig& c) {
  if (!valid_component(c.cell)) {
    return fmt::format(
        "lock service: cell \"{}\" must be 1+ characters of [A-Za-z0-9._-], "
        "not \".\" or \"..\"",
        c.cell);
  }
  if (c.path_bytes_max < cell_root(c).size() + 2) {
    return fmt::format("lock service: path_bytes_max {} leaves no room below \"{}\"",
                       c.path_bytes_max, cell_root(c));
  }
  if (c.path_depth_max < 1) return "lock service: path_depth_max must be at least 1";
  if (c.nodes_max < 1) return "lock service: nodes_max must be at least 1 (the cell root)";
  if (c.session_ttl_min <= Nanos::zero() || c.session_ttl_max < c.session_ttl_min) {
    return "lock service: need 0 < session_ttl_min <= session_ttl_max";
  }
  if (c.session_grace < Nanos::zero() || c.lock_delay < Nanos::zero()) {
    return "lock service: session_grace and lock_delay must not be negative";
  }
  if (c.waits_per_session_max >= c.results_per_session_max) {
    return fmt::format(
        "lock service: waits_per_session_max ({}) must be below "
        "results_per_session_max ({}) so a queued request's result is never the "
        "one forgotten",
        c.waits_per_session_max, c.results_per_session_max);
  }
  if (c.event_history_max < 1) return "lock service: event_history_max must be at least 1";
  return {};
}

}  // namespace lockstep::service::lock
