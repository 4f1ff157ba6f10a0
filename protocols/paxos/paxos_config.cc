#include "protocols/paxos/paxos_config.h"

#include <sstream>

namespace lockstep::paxos {

std::optional<std::string> validate(const PaxosConfig& c) {
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
  } else if (c.ballot_boost && !c.master_lease) {
    err << "ballot_boost requires master_lease: without the lease two boosting proposers can "
           "preempt each other for ever; set ballot_boost to false or master_lease to true";
  } else if (c.lease_reads && !c.master_lease) {
    err << "lease_reads requires master_lease: without it acceptors may promise another proposer "
           "while the lease holds";
  } else if (c.lease_reads && (c.lease_clock_drift_bound < Nanos::zero() ||
                               c.lease_clock_drift_bound >= c.election_timeout_min)) {
    err << "lease_clock_drift_bound (" << c.lease_clock_drift_bound
        << ") must be in [0, election_timeout_min)";
  } else if (c.max_slots_per_accept == 0 || c.max_accept_bytes == 0 ||
             c.max_inflight_accepts == 0 || c.max_inflight_bytes == 0) {
    err << "max_slots_per_accept, max_accept_bytes, max_inflight_accepts and max_inflight_bytes "
           "must all be at least 1";
  } else if (c.max_unchosen_slots == 0 || c.max_pending_reads == 0) {
    err << "max_unchosen_slots and max_pending_reads must be at least 1";
  } else {
    return std::nullopt;
  }
  return err.str();
}

}  // namespace lockstep::paxos
