#include "protocols/raft/raft_config.h"

#include <sstream>

namespace lockstep::raft {

std::optional<std::string> validate(const RaftConfig& c) {
  std::ostringstream err;
  if (c.election_timeout_min <= Nanos::zero()) {
    err << "election_timeout_min must be positive (got " << c.election_timeout_min << ")";
  } else if (c.election_timeout_max < c.election_timeout_min) {
    err << "election_timeout_max (" << c.election_timeout_max
        << ") must be at least election_timeout_min (" << c.election_timeout_min << ")";
  } else if (c.heartbeat_interval <= Nanos::zero() ||
             c.heartbeat_interval >= c.election_timeout_min) {
    err << "heartbeat_interval (" << c.heartbeat_interval
        << ") must be positive and below election_timeout_min (" << c.election_timeout_min << ")";
  } else if (c.lease_reads && !c.check_quorum) {
    err << "lease_reads requires check_quorum: without it followers may vote while a lease holds";
  } else if (c.lease_reads && (c.lease_clock_drift_bound < Nanos::zero() ||
                               c.lease_clock_drift_bound >= c.election_timeout_min)) {
    err << "lease_clock_drift_bound (" << c.lease_clock_drift_bound
        << ") must be in [0, election_timeout_min)";
  } else if (c.max_entries_per_append == 0 || c.max_append_bytes == 0 ||
             c.max_inflight_appends == 0 || c.max_inflight_bytes == 0) {
    err << "max_entries_per_append, max_append_bytes, max_inflight_appends and "
           "max_inflight_bytes must all be at least 1";
  } else if (c.max_uncommitted_entries == 0 || c.max_pending_reads == 0) {
    err << "max_uncommitted_entries and max_pending_reads must be at least 1";
  } else {
    return std::nullopt;
  }
  return err.str();
}

}  // namespace lockstep::raft
