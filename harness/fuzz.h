// The random-seed sweep behind `lockstep fuzz`: every (seed, cluster size, protocol) is one run
// of a scenario generated from the seed, expected to pass.
//
// Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012): rather than every run facing every
// fault at a fixed mix, each seed draws its own fault profile — which nemesis kinds are on, how
// often they strike, how lossy and slow the network is, how many clients — from its own stream,
// Rng::derive(seed, "fuzz-profile"). A run that only crashes servers fast, or only drifts clocks
// over a lossy network, reaches states an everything-at-once mix keeps drowning out. The profile
// is written into an ordinary Scenario, so a failing run is a scenario file that `lockstep run`
// replays to the same trace hash; the run's own random streams still derive from the same seed.
//
// The profile ranges (fuzz_scenario):
//   nemesis kinds   a non-empty random subset of partition, crash, pause, clock_jump, clock_drift,
//                   clog (corrupt_disk is left to scripted scenarios)
//   interval        log-uniform 200ms..3s;  fault durations min 50ms..1s, max min + 100ms..4s
//   clock faults    jumps up to ±10ms..5s, drift up to ±100..50000ppm (log-uniform)
//   max_down        a minority (the default), so a majority is always up and liveness is expected
//   network         loss 0 or up to 5%, duplicate 0 or up to 5%, reorder 0 or up to 20% (extra
//                   delay up to 1..50ms); latency constant 50us..5ms, uniform 50us..2ms plus up to
//                   10ms, or lognormal median 100us..2ms, p99 2..20x the median, max 2..5x the p99
//   clocks          initial offsets 0 or up to ±500ms, drift 0 or up to ±500ppm
//   disk            torn writes on or off; when on, torn corruption 0 or 0.5
//   clients         1..5 append clients, interval 0 (one run in four) or 1..100ms, request
//                   timeout 100ms..1s
//   lock service    when the settings allow it (drawn last, so the draws above do not depend on
//                   it): one of the lock workloads, 1..5 clients with a request timeout of
//                   100ms..1s, against a fencing resource, linearizable reads:
//                     lock_counter  1..3 locks, hold 0 (one in four) or 1..100ms, interval 1..100ms,
//                                   presence nodes on a coin
//                     election      1..2 elections, terms 100ms..2s, work every 10..100ms
//                     config        1..8 keys, interval 1..100ms, watching on a coin
//                     mix           1..3 locks, 1..8 keys, hold and interval as lock_counter
// Each "0 or up to" is an even coin, so half the runs have no loss, half no duplicates, and so on.
// The duration (default 10s), liveness bound (default 10s) and any protocol options come from
// FuzzSettings, and so can two overrides that pin part of the profile (for benchmarks and focused
// sweeps): the number of clients, and every nemesis kind on at once. The seed still makes every
// draw when they are set, so the rest of its profile stays what it would have been without them.
//
// Nothing here reads a clock or starts a thread: run_fuzz is as deterministic as one run. The
// command line splits the cases over worker processes and measures its own speed (cli/).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "core/types.h"
#include "harness/scenario.h"

namespace lockstep::harness {

// The random stream each seed's fault profile is drawn from.
inline constexpr std::string_view kFuzzProfileStream = "fuzz-profile";
// Limits on one sweep (STYLE.md 7).
inline constexpr std::uint64_t kFuzzRunsMax = 100'000'000;  // runs of a sweep given as a range
// Seeds of an open-ended sweep (one that a wall-clock budget stops: a trillion is far beyond any).
inline constexpr std::uint64_t kFuzzOpenSeedsMax = 1'000'000'000'000;
inline constexpr std::uint64_t kFuzzShardsMax = 1'000'000;

// What the clients of a fuzz run do: append to the replicated log, or use the lock service.
enum class FuzzWorkload : std::uint8_t { append, lock };
inline constexpr std::string_view kFuzzWorkloadNames[] = {"append", "lock"};

struct FuzzSettings {
  std::vector<std::string> protocols = {"raft"};  // each seed runs over each of them
  // Each seed draws one of these (the same for every protocol and cluster size of the seed).
  std::vector<FuzzWorkload> workloads = {FuzzWorkload::append, FuzzWorkload::lock};
  std::uint64_t seed_first = 1;                   // seeds seed_first..seed_last, inclusive
  std::uint64_t seed_last = 100;
  std::vector<std::uint32_t> nodes = {3, 5};  // each seed runs on each cluster size
  Nanos duration = seconds(10);               // simulated time of each run
  // After the final heal every pending call must finish within this. The network stays lossy
  // after the heal, so a call may need several attempts, each up to its request timeout (1s at
  // most): 10s covers ten in a row. Measured over seeds 1-1000 on 3 and 5 servers with a correct
  // host, every pending call finished within 2s of the heal: 10s leaves a wide margin.
  Nanos liveness_bound = seconds(10);
  // Sharding (spreading one sweep over several machines): only the seeds whose place in
  // seed_first..seed_last, counted from 0, is shard_index modulo shard_count.
  std::uint64_t shard_index = 0;
  std::uint64_t shard_count = 1;
  // Overrides (see the top of this file); unset, each seed draws its own.
  std::optional<std::uint32_t> clients;  // clients per run, instead of the drawn 1..5
  bool all_nemesis_kinds = false;        // every kind the fuzzer uses, instead of a drawn subset
  // Option blocks written into every generated scenario's protocol_options, by protocol name:
  // {"raft": {"bug_vote_without_log_check": true}} fuzzes Raft with its planted bug on. Nothing is
  // drawn for them, so each seed keeps its profile; empty (the default) leaves the scenarios, and
  // so their trace hashes, exactly as they are without this field.
  std::map<std::string, nlohmann::json> protocol_options;
};

// The seeds of a sweep: seed_first + shard_index, then every shard_count-th, up to seed_last.
// fuzz_seed_count is 0 when the shard gets none.
std::uint64_t fuzz_seed_count(const FuzzSettings& settings);
std::uint64_t fuzz_seed_at(const FuzzSettings& settings, std::uint64_t index);  // index < count

// One run of the sweep.
struct FuzzCase {
  std::uint64_t seed = 0;
  std::uint32_t nodes = 0;
  std::string protocol;
  friend bool operator==(const FuzzCase&, const FuzzCase&) = default;
};

// The runs of a sweep in its canonical order: by seed, then cluster size (as listed), then
// protocol (as listed). Reports list failures in this order whatever ran them. fuzz_cases lists
// them all (at most kFuzzRunsMax); fuzz_seed_cases those of one seed.
std::vector<FuzzCase> fuzz_cases(const FuzzSettings& settings);
std::vector<FuzzCase> fuzz_seed_cases(const FuzzSettings& settings, std::uint64_t seed);
// Whether `a` comes before `b` in that order (both cases of a sweep with these settings).
bool fuzz_case_before(const FuzzSettings& settings, const FuzzCase& a, const FuzzCase& b);

// The scenario of one seed on `nodes` servers, over every protocol in the settings: seed = the
// seed, expect = pass, fault profile drawn from Rng::derive(seed, kFuzzProfileStream).
Scenario fuzz_scenario(const FuzzSettings& settings, std::uint64_t seed, std::uint32_t nodes);
// The scenario of one case: fuzz_scenario narrowed to the case's protocol, named after the case.
Scenario fuzz_case_scenario(const FuzzSettings& settings, const FuzzCase& c);

// One line: "nemesis: partition+crash every ~800ms for 50ms..2s, loss 2%, lognormal
// 500us/5ms/20ms, 3 clients every 20ms (timeout 500ms)".
std::string describe_profile(const Scenario& scenario);

// "fuzz-raft-n5-seed1234": the case's scenario name and file name (plus ".json").
std::string fuzz_case_name(const FuzzCase& c);

struct FuzzFailure {
  std::string property;  // a property name, or "event_limit", or "crash" (the run died)
  std::string detail;
  friend bool operator==(const FuzzFailure&, const FuzzFailure&) = default;
};

struct FuzzRecord {
  FuzzCase run;
  bool passed = false;
  std::vector<FuzzFailure> failures;  // empty when passed
  std::uint64_t trace_hash = 0;
  std::uint64_t events = 0;
  Nanos simulated;
  friend bool operator==(const FuzzRecord&, const FuzzRecord&) = default;
};

// Runs one case. The settings' protocols must be runnable (check_protocols).
FuzzRecord run_fuzz_case(const FuzzSettings& settings, const FuzzCase& c);

// The record of a run that died before it could report (an assertion stopped the process).
FuzzRecord crashed_record(const FuzzCase& c, std::string detail);

// One record as JSON and back (worker processes send records as lines; `lockstep fuzz --json`
// lists failing ones). fuzz_record_from_json gives nullopt when the text is not a record;
// read_fuzz_record reads the record's fields from an object whose other fields the caller reads
// (and then calls finish()), and throws JsonReadError naming the field that is wrong.
nlohmann::ordered_json fuzz_record_json(const FuzzRecord& record);
std::string to_json_line(const FuzzRecord& record);
std::optional<FuzzRecord> fuzz_record_from_json(std::string_view line);
FuzzRecord read_fuzz_record(JsonReader& reader);

// Totals of a sweep. Failures are kept in case order.
struct FuzzOutcome {
  std::uint64_t runs = 0;
  std::uint64_t passed = 0;
  std::uint64_t events = 0;
  Nanos simulated;
  std::vector<FuzzRecord> failures;
  // (protocol, property) -> failed runs; a run failing two properties counts under both.
  std::map<std::pair<std::string, std::string>, std::uint64_t> failures_by_property;

  void add(const FuzzRecord& record);  // records must come in case order
};

// Runs every case in order, in this process, calling `on_record` after each (may be empty).
FuzzOutcome run_fuzz(const FuzzSettings& settings,
                     const std::function<void(const FuzzRecord&)>& on_record);

}  // namespace lockstep::harness
