// Tunables of one Multi-Paxos replica, each with its unit in its name and a default that suits a
// LAN. The behaviours "Paxos Made Live" (PML) reports as engineering lessons are switches here, so
// that users can study each one; the defaults are the safe choices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/types.h"

namespace lockstep::paxos {

struct PaxosConfig {
  // A replica that hears from no leader for a timeout drawn uniformly from
  // [election_timeout_min, election_timeout_max] tries to become the distinguished proposer
  // (PMS §2.4, §3): it runs phase 1 with a fresh ballot. Randomized so that two replicas rarely
  // duel. A candidate whose phase 1 has not finished by its next timeout retries with a higher one.
  Nanos election_timeout_min = milliseconds(150);
  Nanos election_timeout_max = milliseconds(300);
  // The leader's heartbeat period: each heartbeat carries what is chosen and renews the lease.
  Nanos heartbeat_interval = milliseconds(50);

  // Master leases (PML §5.2; Chubby §2.2). An acceptor that heard from the leader within
  // election_timeout_min refuses prepares from any other proposer (leadership transfer excepted),
  // so a replica that merely missed a few heartbeats cannot depose a healthy master; and a master
  // that has not heard from a quorum within election_timeout_min steps down, so a deposed or
  // isolated master does not keep serving. Off: plain Paxos, any higher ballot preempts.
  bool master_lease = true;
  // Ballot boost (PML §5.2, on masters being disrupted by a replica with a higher sequence
  // number): a leader that learns of a higher ballot from a nack runs phase 1 again above it
  // instead of stepping down; if a quorum really follows someone else that phase 1 fails and it
  // steps down then. Requires master_lease: without the lease two boosting proposers could preempt
  // each other for ever (the duelling proposers of PMS §2.4).
  bool ballot_boost = true;

  // Lease reads (PML §5.2, Chubby §2.2): the leader answers read barriers without a round trip
  // while its lease holds. The lease runs from the send time of the latest heartbeat round a
  // quorum acknowledged for election_timeout_min - lease_clock_drift_bound on the leader's clock.
  // Safe only if, over any interval of election_timeout_min, no two clocks disagree about elapsed
  // time by more than lease_clock_drift_bound (and no clock jumps): acceptors measure the same
  // interval on their own clocks before they promise another proposer. Requires master_lease.
  bool lease_reads = false;
  Nanos lease_clock_drift_bound = milliseconds(15);

  // Phase 2 flow control: accepts are batched and pipelined per follower.
  std::size_t max_slots_per_accept = 64;
  std::size_t max_accept_bytes = std::size_t{1} << 20;    // per Accept, >= 1 slot
  std::size_t max_inflight_accepts = 32;                   // unacknowledged, per follower
  std::size_t max_inflight_bytes = std::size_t{8} << 20;  // unacknowledged, per follower
  // propose() answers busy once this many slots are proposed but not yet known chosen.
  std::size_t max_unchosen_slots = 8192;
  // read_barrier() answers busy once this many read barriers are waiting.
  std::size_t max_pending_reads = 8192;
};

// nullopt when the configuration is usable; otherwise which field is wrong and what is allowed.
std::optional<std::string> validate(const PaxosConfig& config);

}  // namespace lockstep::paxos
