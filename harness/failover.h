// The failover experiment (issue 3, item 5): crash the leader at a random moment, many times, and
// measure how long the cluster takes to settle on a new one.
//
// It is written against the consensus interface only (protocols/consensus.h, harness/protocols.h):
// the protocol is a name in the registry and its timing knobs (Raft's election timeout and
// heartbeat interval, another protocol's equivalents) travel in that protocol's own option block,
// so the same experiment runs over every protocol the build can run.
//
// One trial, in a fresh world seeded with the trial's seed:
//   1. servers (ReplicaHost + AppendLog) start; optional append clients give a light load;
//   2. the world runs `warmup`, then on until the cluster is *stable*: every server names the same
//      node as leader in the same term, and that node's own status says it leads in that term;
//   3. it runs a further delay drawn uniformly from [0, crash_jitter] with the trial's rng — a
//      random moment relative to heartbeats and elections — and, if the cluster is stable then
//      (else as soon as it is again), crashes the leader at true time C; call its term T;
//   4. the world runs event by event until the *failover condition* holds, at most `max_wait`.
//
// Failover time = F - C, in true (simulated) time, where F is the time of the first event after
// which every live server's status names the same leader N in the same term T' > T, and N's own
// status says it is leader in T'. "Heard from the new leader" thus means: the node's status names
// the new leader in a term greater than the crashed leader's term — a node still naming the crashed
// leader, or naming no leader, or naming some node in term T or earlier has not heard.
//
// The protocol's ClusterChecker runs after every event of every trial; a broken invariant stops
// the trial, which is reported invalid with the violation. Timings are then worth nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/types.h"
#include "sim/config.h"

namespace lockstep::harness {

struct ProtocolModule;  // harness/protocols.h

inline constexpr std::uint32_t kFailoverNodesMin = 3;  // one crash must leave a majority
inline constexpr std::uint32_t kFailoverTrialsMax = 100'000;
inline constexpr std::uint32_t kFailoverClientsMax = 100;
inline constexpr Nanos kFailoverWaitMax = seconds(3600);

struct FailoverSettings {
  std::string protocol = "raft";
  std::uint32_t nodes = 5;
  // The protocol's option block, as in a scenario's protocol_options (for raft:
  // election_timeout_min, election_timeout_max, heartbeat_interval, ...). Empty: defaults.
  nlohmann::json protocol_options = nlohmann::json::object();
  sim::NetworkConfig network;  // latency distribution, loss, ...
  std::uint32_t trials = 100;
  std::uint64_t seed = 1;
  // Append clients (one request at a time, `client_interval` apart) running during each trial.
  std::uint32_t clients = 0;
  Nanos client_interval = milliseconds(50);
  Nanos warmup = seconds(1);           // run at least this long before looking for a leader
  Nanos stable_wait_max = seconds(10);  // then give up on the trial if no stable leader by this
  Nanos crash_jitter = seconds(1);      // crash delay after stability: uniform in [0, jitter]
  Nanos max_wait = seconds(10);         // after the crash; past it the trial is a timeout
  std::uint64_t event_limit = 20'000'000;  // per trial, a bug guard
};

// Checks the settings, the protocol's name and its option block. Returns one line saying what is
// wrong and which values are allowed, or nullopt when run_failover may be called.
std::optional<std::string> check_failover_settings(const FailoverSettings& settings);

enum class TrialOutcome : std::uint8_t {
  failed_over,  // the failover condition held within max_wait
  timeout,      // it did not
  no_leader,    // no stable leader within stable_wait_max after warmup: nothing was crashed
  invalid,      // a protocol invariant broke (detail says which): the timing means nothing
};
std::string_view to_string(TrialOutcome outcome);

struct FailoverTrial {
  std::uint32_t trial = 0;
  std::uint64_t seed = 0;  // the trial world's seed
  TrialOutcome outcome = TrialOutcome::no_leader;
  std::optional<NodeId> crashed_leader;
  std::uint64_t crashed_term = 0;
  Nanos crash_at;                    // true time of the crash
  std::optional<NodeId> new_leader;  // failed_over only
  std::uint64_t new_term = 0;
  std::optional<Nanos> failover;     // failed_over only: time from the crash to the condition
  std::uint64_t events = 0;          // simulated events in the trial
  std::string detail;                // for invalid, timeout and no_leader: what was seen
};

struct FailoverSummary {
  std::uint32_t trials = 0;
  std::uint32_t failed_over = 0;
  std::uint32_t timeouts = 0;
  std::uint32_t no_leader = 0;
  std::uint32_t invalid = 0;
  // Over the failed_over trials (zero when there are none). Percentiles are nearest-rank: the
  // smallest time t such that at least p% of those trials took <= t.
  Nanos min;
  Nanos median;
  Nanos p99;
  Nanos max;
};

struct FailoverResult {
  std::vector<FailoverTrial> trials;
  FailoverSummary summary;
};

// Runs every trial. The settings must have passed check_failover_settings.
FailoverResult run_failover(const FailoverSettings& settings);
// The same over a given module instead of the registry's (settings.protocol is then only a label):
// how tests run a protocol or checker that the registry does not hold.
FailoverResult run_failover(const FailoverSettings& settings, const ProtocolModule& module);

// The seed of trial `index`'s world, derived from the master seed.
std::uint64_t failover_trial_seed(std::uint64_t master_seed, std::uint32_t index);

// Nearest-rank percentile (0 < percent <= 100) of sorted, non-empty values.
Nanos nearest_rank(const std::vector<Nanos>& sorted, double percent);

// One row per trial with a header:
// trial,seed,outcome,crashed_leader,crashed_term,crash_at_ns,new_leader,new_term,failover_ns,
// failover_ms,events,detail. Empty cells where a trial has no value (a timeout's failover).
std::string failover_csv(const FailoverResult& result);

}  // namespace lockstep::harness
