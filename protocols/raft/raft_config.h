// Tunables of one Raft replica, each with its unit in its name and a default that suits a LAN
// (Raft paper §5.6: broadcastTime << electionTimeout << MTBF).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/types.h"

namespace lockstep::raft {

struct RaftConfig {
  // A follower that hears nothing from a leader for a timeout drawn uniformly from
  // [election_timeout_min, election_timeout_max] starts an election (§5.2, randomized so that
  // split votes are rare).
  Nanos election_timeout_min = milliseconds(150);
  Nanos election_timeout_max = milliseconds(300);
  // The leader sends a heartbeat to every follower this often (§5.2). Must be well under
  // election_timeout_min or followers time out while the leader is healthy.
  Nanos heartbeat_interval = milliseconds(50);

  // PreVote (thesis §9.6): a node first asks whether it could win before incrementing its term,
  // so a node that was partitioned away cannot force a healthy leader to step down on return.
  bool prevote = true;
  // CheckQuorum (thesis §6.2, §9.6): a leader that has not heard from a quorum within
  // election_timeout_min steps down; followers that heard from a leader within
  // election_timeout_min ignore RequestVote (thesis §4.2.3), unless it is a leadership transfer.
  bool check_quorum = true;

  // Lease reads (thesis §6.4.1): the leader answers read barriers without a heartbeat round while
  // its lease holds. The lease is taken from the send time of the latest heartbeat round a quorum
  // acknowledged and lasts election_timeout_min - lease_clock_drift_bound on the leader's clock.
  // Safe only if, over any interval of election_timeout_min, no two nodes' clocks disagree about
  // elapsed time by more than lease_clock_drift_bound (and no clock jumps): followers measure the
  // same interval on their own clocks before they vote again. Requires check_quorum.
  bool lease_reads = false;
  Nanos lease_clock_drift_bound = milliseconds(15);

  // Flow control for log replication (modelled on etcd's Progress/Inflights).
  std::size_t max_entries_per_append = 64;
  std::size_t max_append_bytes = std::size_t{1} << 20;       // per AppendEntries, >= 1 entry
  std::size_t max_inflight_appends = 32;                     // unacknowledged, per follower
  std::size_t max_inflight_bytes = std::size_t{8} << 20;     // unacknowledged, per follower
  // propose() answers busy once this many entries are appended but not committed.
  std::size_t max_uncommitted_entries = 8192;
  // read_barrier() answers busy once this many read barriers are waiting.
  std::size_t max_pending_reads = 8192;

  // Adding a server (thesis §4.2.1): the leader first replicates to it as a non-voting learner,
  // in rounds (each round replicates up to the leader's last index when the round began), and
  // appends the new configuration only once a round finishes within election_timeout_min, so that
  // a slow new server cannot leave the cluster unable to commit. It gives up after this many
  // rounds, or when the learner makes no progress for an election timeout; the configuration is
  // then unchanged. 0 = add at once, without catching up.
  std::uint32_t catch_up_rounds = 10;

  // The replica asks the host for a snapshot (RaftReplica::wants_snapshot) once this many applied
  // entries sit in the log above the last snapshot. 0 = never ask: the host decides alone.
  std::uint64_t snapshot_threshold = 0;

  // Bug switch, off in every correct configuration (protocols/raft/README.md): a test target for
  // the fuzzer and the shrinker. A voter grants its vote (and its PreVote) without the §5.4.1
  // check that the candidate's log is at least as up-to-date as its own, so a candidate missing
  // committed entries can win and lead: leader completeness (§5.4) breaks, and the new leader
  // overwrites committed entries on the followers.
  bool bug_vote_without_log_check = false;
};

// nullopt when the configuration is usable; otherwise which field is wrong and what is allowed.
std::optional<std::string> validate(const RaftConfig& config);

}  // namespace lockstep::raft
