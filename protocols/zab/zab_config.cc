#include "protocols/zab/zab_config.h"

#include <sstream>

#include "protocols/zab/zab_types.h"

namespace lockstep::zab {

std::string_view to_string(ServerState state) {
  switch (state) {
    case ServerState::looking: return "looking";
    case ServerState::following: return "following";
    case ServerState::leading: return "leading";
  }
  return "?";
}

std::string_view to_string(Phase phase) {
  switch (phase) {
    case Phase::election: return "election";
    case Phase::discovery: return "discovery";
    case Phase::synchronization: return "synchronization";
    case Phase::broadcast: return "broadcast";
  }
  return "?";
}

std::optional<std::string> validate(const ZabConfig& c) {
  std::ostringstream err;
  if (c.heartbeat_interval <= Nanos::zero()) {
    err << "heartbeat_interval must be positive (got " << c.heartbeat_interval << ")";
  } else if (c.sync_timeout <= c.heartbeat_interval) {
    err << "sync_timeout (" << c.sync_timeout << ") must be above heartbeat_interval ("
        << c.heartbeat_interval << "), or a healthy leader loses its followers between pings";
  } else if (c.init_timeout < c.sync_timeout) {
    err << "init_timeout (" << c.init_timeout << ") must be at least sync_timeout ("
        << c.sync_timeout << ")";
  } else if (c.notification_timeout_min <= Nanos::zero() ||
             c.notification_timeout_max < c.notification_timeout_min) {
    err << "notification_timeout_min (" << c.notification_timeout_min
        << ") must be positive and at most notification_timeout_max ("
        << c.notification_timeout_max << ")";
  } else if (c.finalize_wait < Nanos::zero()) {
    err << "finalize_wait must not be negative (got " << c.finalize_wait << ")";
  } else if (c.gap_timeout <= Nanos::zero()) {
    err << "gap_timeout must be positive (got " << c.gap_timeout << ")";
  } else if (c.reorder_window == 0 || c.max_outstanding_proposals == 0 ||
             c.max_pending_reads == 0 || c.max_txns_per_diff == 0 || c.max_diff_bytes == 0) {
    err << "reorder_window, max_outstanding_proposals, max_pending_reads, max_txns_per_diff and "
           "max_diff_bytes must all be at least 1";
  } else {
    return std::nullopt;
  }
  return err.str();
}

}  // namespace lockstep::zab
