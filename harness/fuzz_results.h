// The results of a fuzz sweep as a file (`lockstep fuzz --json FILE`), and the merge of several
// (`lockstep fuzz --merge FILE...`), so that one sweep can be spread over a CI matrix or a
// scheduler with --shard K/N and read back as one.
//
// The file (format "lockstep-fuzz/1"):
//   format              "lockstep-fuzz/1"
//   settings            what decides the runs: protocols, workloads, nodes, duration,
//                       liveness_bound, clients and nemesis_kinds (the overrides), and how the
//                       sweep was cut: seeds {first, last} asked for (a budgeted sweep without an
//                       upper seed says first + kFuzzOpenSeedsMax - 1), shard "K/N", budget
//   seeds_run           the seeds whose every case ran, as progressions {first, last, every}
//   stopped_by_budget   whether the budget ended the sweep before its last seed
//   totals              runs, passed, failed, events, simulated_ns (and simulated, for people)
//   failures            each failing run in case order: the record (harness/fuzz.h) plus its
//                       name and the scenario file written for it
//   failures_by_property  [{protocol, property, runs}]
//   merged_from         the files a merge read (absent otherwise)
//   machine_dependent   wall time, jobs and speed: they depend on the machine and its load, so
//                       two runs of the same sweep differ only here (and in scenario paths)
//
// Two files merge when their runs would be the same runs: the settings above apart from the seeds
// asked for, the shard and the budget must be equal, and no seed may have run in both. Reading
// checks that a file is consistent (totals against seeds and failures, failures in case order),
// so a truncated or hand-edited file is an error rather than a wrong sum.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "core/types.h"
#include "harness/fuzz.h"

namespace lockstep::harness {

inline constexpr std::string_view kFuzzResultsFormat = "lockstep-fuzz/1";
inline constexpr std::size_t kFuzzMergeFilesMax = 100'000;

// The seeds first, first + every, ..., last (last is one of them).
struct SeedProgression {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t every = 1;

  std::uint64_t count() const { return (last - first) / every + 1; }
  friend bool operator==(const SeedProgression&, const SeedProgression&) = default;
};

// The smallest seed in both, or nullopt.
std::optional<std::uint64_t> common_seed(const SeedProgression& a, const SeedProgression& b);

// "1-100", "7", "2-98 every 3rd"; a list joined by ", ".
std::string describe_seeds(std::span<const SeedProgression> seeds);

struct FuzzResults {
  // seed_first..seed_last is the range asked for; the shard is this file's.
  FuzzSettings settings;
  std::optional<Nanos> budget;
  bool stopped_by_budget = false;
  std::vector<SeedProgression> seeds_run;  // disjoint, by first seed
  FuzzOutcome outcome;
  std::vector<std::string> scenario_files;  // one per outcome.failures; "" when none was written
  std::vector<std::string> merged_from;
  // Machine-dependent: a merge keeps the longest wall time and adds up the jobs.
  double wall_seconds = 0;
  std::uint64_t jobs = 0;

  std::uint64_t seeds() const;  // seeds run
};

nlohmann::ordered_json to_json(const FuzzResults& results);
// Reads a results file's JSON; the error names the JSON pointer of what is wrong.
JsonResult<FuzzResults> fuzz_results_from_json(const nlohmann::json& j);

// What differs between the runs of two sweeps ("nodes 3,5 vs 3"), or nullopt when they differ
// only in seeds, shard and budget.
std::optional<std::string> fuzz_settings_mismatch(const FuzzSettings& a, const FuzzSettings& b);

struct NamedFuzzResults {
  std::string file;
  FuzzResults results;
};

// One sweep from several over disjoint seeds with the same settings: totals added, failures in
// case order. The error is one line naming the file(s) and what is wrong.
std::variant<FuzzResults, std::string> merge_fuzz_results(std::span<const NamedFuzzResults> inputs);

}  // namespace lockstep::harness
