// Figures a report and `lockstep compare` derive from a run's timeline (harness/run_timeline.h).
// Each is a pure function of the timeline, so the same run always gives the same figures.
//
// Availability. The run's duration [0, D) is cut into buckets of `bucket` (100ms by default). A
// bucket has *demand* when some client call that does not wait by design was outstanding in it
// (invoked before the bucket ends, not returned before it starts). A bucket is *available* when
// the replicated log made progress in it: the highest index applied by any server rose. The
// availability is available buckets with demand / buckets with demand; it is unset when no bucket
// had demand. So it is the share of the time clients wanted something in which the cluster
// committed something, at the bucket's resolution: a leader that is elected but cannot reach a
// quorum commits nothing and counts as unavailable, and an idle cluster is not blamed. Reads
// served without a log entry (ReadIndex, leases) do not count as progress.
//
// Failover. The cluster is *settled on (N, T)* while every live server names N as the leader in
// term T and N itself leads in T; live means up, not paused, and not cut off from every majority
// by a partition (a server that cannot hear anyone is not waiting for the new leader; it cannot).
// A failover episode begins when a settled period on (N, T) ends — the leader was lost: it
// crashed, was paused or cut off (it is no longer live), or stopped leading, or a live server
// stopped naming it — and ends when the cluster is next settled on a different leader or term.
// A gap after which the cluster settles again on the same (N, T) is a blip (a follower that
// restarted or was cut off and came back), not a failover; the first election is not a failover
// either. The failover time is settled-again minus leader-lost.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "harness/run.h"
#include "harness/run_timeline.h"

namespace lockstep::reports {

inline constexpr Nanos kAvailabilityBucket = milliseconds(100);

struct Availability {
  std::uint64_t demand_buckets = 0;
  std::uint64_t available_buckets = 0;  // of those with demand
  // available / demand, unset when no bucket had demand.
  std::optional<double> fraction() const {
    if (demand_buckets == 0) return std::nullopt;
    return static_cast<double>(available_buckets) / static_cast<double>(demand_buckets);
  }
};
Availability compute_availability(const harness::RunTimeline& timeline,
                                  Nanos bucket = kAvailabilityBucket);

struct FailoverEpisode {
  NodeId old_leader;
  std::uint64_t old_term = 0;
  Nanos lost_at;
  std::optional<NodeId> new_leader;  // unset when the cluster never settled again
  std::uint64_t new_term = 0;
  std::optional<Nanos> settled_at;
  std::optional<Nanos> took() const {
    if (!settled_at) return std::nullopt;
    return *settled_at - lost_at;
  }
};
std::vector<FailoverEpisode> compute_failovers(const harness::RunTimeline& timeline);

// Who the cluster was settled on over time (the basis of compute_failovers): [from, until) spans
// of settled and unsettled time tiling [0, end).
struct SettledSpan {
  Nanos from;
  Nanos until;
  std::optional<std::pair<NodeId, std::uint64_t>> on;  // (leader, term); unset: not settled
};
std::vector<SettledSpan> settled_spans(const harness::RunTimeline& timeline);

struct RunMetrics {
  Availability availability;
  std::vector<FailoverEpisode> failovers;
  harness::LatencySummary latency;  // successful calls that do not wait by design
  std::uint64_t calls_ok = 0;       // every successful call
  double throughput_per_s = 0;      // calls_ok per simulated second of the run's duration
  std::uint64_t committed = 0;      // the highest index applied (entries of any kind)
  std::optional<double> messages_per_commit;  // unset when nothing was committed
  std::optional<double> bytes_per_commit;
};
RunMetrics compute_metrics(const harness::RunResult& result);

}  // namespace lockstep::reports
