// The results file of `lockstep fuzz --json` and the merge of shards: a file reads back as what
// was written, an inconsistent file is refused with the JSON pointer of what is wrong, and the
// merge of shards 1/3, 2/3, 3/3 is the unsharded sweep.
#include "harness/fuzz_results.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace lockstep::harness {
namespace fuzz_results_test {
namespace {

// A small sweep that fails some runs: a 1ms liveness bound fails any run with a call in progress
// at the final heal.
FuzzSettings failing_settings() {
  FuzzSettings s;
  s.seed_first = 1;
  s.seed_last = 9;
  s.nodes = {3};
  s.protocols = {"raft"};
  s.duration = seconds(1);
  s.liveness_bound = milliseconds(1);
  return s;
}

FuzzResults results_of(const FuzzSettings& s) {
  FuzzResults r;
  r.settings = s;
  r.outcome = run_fuzz(s, nullptr);
  const std::uint64_t count = fuzz_seed_count(s);
  r.seeds_run = {{fuzz_seed_at(s, 0), fuzz_seed_at(s, count - 1), s.shard_count}};
  for (const FuzzRecord& f : r.outcome.failures) r.scenario_files.push_back(fuzz_case_name(f.run));
  r.wall_seconds = 1.5;
  r.jobs = 2;
  return r;
}

FuzzSettings shard(FuzzSettings s, std::uint64_t k, std::uint64_t n) {
  s.shard_index = k - 1;
  s.shard_count = n;
  return s;
}

// The results written out and read back.
JsonResult<FuzzResults> round_trip(const nlohmann::ordered_json& j) {
  return fuzz_results_from_json(nlohmann::json::parse(j.dump()));
}

std::string error_of(const nlohmann::ordered_json& j) {
  const auto r = round_trip(j);
  if (const auto* e = std::get_if<JsonError>(&r)) return e->to_string();
  return "(read without error)";
}

TEST(FuzzResults, CommonSeedAgreesWithEnumeration) {
  std::vector<SeedProgression> all;
  for (std::uint64_t first = 0; first < 7; ++first) {
    for (std::uint64_t every = 1; every < 5; ++every) {
      for (std::uint64_t steps = 0; steps < 4; ++steps) {
        all.push_back({first, first + steps * every, every});
      }
    }
  }
  for (const SeedProgression& a : all) {
    for (const SeedProgression& b : all) {
      std::optional<std::uint64_t> expected;
      for (std::uint64_t s = a.first; s <= a.last && !expected; s += a.every) {
        if (s >= b.first && s <= b.last && (s - b.first) % b.every == 0) expected = s;
      }
      ASSERT_EQ(common_seed(a, b), expected)
          << describe_seeds(std::vector{a}) << " and " << describe_seeds(std::vector{b});
    }
  }
}

TEST(FuzzResults, FileReadsBackAsWritten) {
  FuzzResults r = results_of(failing_settings());
  r.settings.clients = 7;
  r.settings.all_nemesis_kinds = true;
  r.settings.workloads = {FuzzWorkload::lock};
  r.budget = seconds(90);
  r.stopped_by_budget = true;
  ASSERT_FALSE(r.outcome.failures.empty()) << "the sweep was meant to fail some runs";
  ASSERT_LT(r.outcome.failures.size(), 9u) << "and pass others";
  const nlohmann::ordered_json j = to_json(r);
  EXPECT_EQ(j["format"], "lockstep-fuzz/1");
  EXPECT_EQ(j["settings"]["shard"], "1/1");
  EXPECT_EQ(j["settings"]["budget"], "90s");
  EXPECT_EQ(j["totals"]["runs"], 9);
  EXPECT_EQ(j["failures"][0]["case"], fuzz_case_name(r.outcome.failures[0].run));
  EXPECT_EQ(j["failures"][0]["scenario_file"], r.scenario_files[0]);
  EXPECT_TRUE(j["machine_dependent"].contains("note"));

  const auto back = round_trip(j);
  ASSERT_TRUE(std::holds_alternative<FuzzResults>(back)) << std::get<JsonError>(back).to_string();
  const FuzzResults& b = std::get<FuzzResults>(back);
  EXPECT_EQ(b.outcome.runs, r.outcome.runs);
  EXPECT_EQ(b.outcome.passed, r.outcome.passed);
  EXPECT_EQ(b.outcome.events, r.outcome.events);
  EXPECT_EQ(b.outcome.simulated, r.outcome.simulated);
  EXPECT_EQ(b.outcome.failures, r.outcome.failures);
  EXPECT_EQ(b.outcome.failures_by_property, r.outcome.failures_by_property);
  EXPECT_EQ(b.scenario_files, r.scenario_files);
  EXPECT_EQ(b.seeds_run, r.seeds_run);
  EXPECT_EQ(b.budget, r.budget);
  EXPECT_TRUE(b.stopped_by_budget);
  EXPECT_EQ(fuzz_settings_mismatch(b.settings, r.settings), std::nullopt);
  EXPECT_EQ(b.settings.seed_first, 1u);
  EXPECT_EQ(b.settings.seed_last, 9u);
  EXPECT_EQ(to_json(b).dump(), j.dump());
}

TEST(FuzzResults, InconsistentFilesAreRefusedWithThePointer) {
  const FuzzResults r = results_of(failing_settings());
  ASSERT_FALSE(r.outcome.failures.empty());
  const nlohmann::ordered_json good = to_json(r);

  auto j = good;
  j["format"] = "lockstep-fuzz/2";
  EXPECT_EQ(error_of(j).rfind("/format: expected \"lockstep-fuzz/1\"", 0), 0u) << error_of(j);
  j = good;
  j["totals"]["runs"] = 10;
  EXPECT_EQ(error_of(j).rfind("/totals: runs 10 do not match seeds_run (9 seeds)", 0), 0u)
      << error_of(j);
  j = good;
  j["failures"].erase(0);
  EXPECT_NE(error_of(j).find("/failures lists"), std::string::npos) << error_of(j);
  j = good;
  j["failures"][0]["seed"] = 10;  // outside seeds_run (and no longer its name)
  EXPECT_EQ(error_of(j).rfind("/failures/0/case: expected \"fuzz-raft-n3-seed10\"", 0), 0u)
      << error_of(j);
  j = good;
  j["failures"][0]["case"] = "fuzz-raft-n3-seed10";
  j["failures"][0]["seed"] = 10;
  EXPECT_NE(error_of(j).find("is not a case of this sweep"), std::string::npos) << error_of(j);
  j = good;
  j["failures_by_property"] = nlohmann::ordered_json::array();
  EXPECT_NE(error_of(j).find("/failures_by_property does not match"), std::string::npos)
      << error_of(j);
  j = good;
  j["settings"]["shard"] = "4/3";
  EXPECT_EQ(error_of(j).rfind("/settings/shard: expected a shard K/N", 0), 0u) << error_of(j);
  j = good;
  j["seeds_run"].push_back({{"first", 9}, {"last", 12}, {"every", 3}});
  EXPECT_NE(error_of(j).find("seed 9 is also in /seeds_run/0"), std::string::npos) << error_of(j);
  j = good;
  j["surprise"] = 1;
  EXPECT_NE(error_of(j).find("unknown field \"surprise\""), std::string::npos) << error_of(j);
  if (good["failures"].size() >= 2) {
    j = good;
    std::swap(j["failures"][0], j["failures"][1]);
    EXPECT_NE(error_of(j).find("out of case order"), std::string::npos) << error_of(j);
  }
}

TEST(FuzzResults, ShardsMergeIntoTheWholeSweep) {
  const FuzzSettings whole_settings = failing_settings();
  const FuzzResults whole = results_of(whole_settings);
  std::vector<NamedFuzzResults> shards;
  for (std::uint64_t k : {2u, 3u, 1u}) {  // any order
    shards.push_back({fmt::format("shard{}.json", k), results_of(shard(whole_settings, k, 3))});
  }
  const auto merged_or_error = merge_fuzz_results(shards);
  ASSERT_TRUE(std::holds_alternative<FuzzResults>(merged_or_error))
      << std::get<std::string>(merged_or_error);
  const FuzzResults& merged = std::get<FuzzResults>(merged_or_error);
  EXPECT_EQ(merged.outcome.runs, whole.outcome.runs);
  EXPECT_EQ(merged.outcome.passed, whole.outcome.passed);
  EXPECT_EQ(merged.outcome.events, whole.outcome.events);
  EXPECT_EQ(merged.outcome.simulated, whole.outcome.simulated);
  EXPECT_EQ(merged.outcome.failures, whole.outcome.failures);  // in case order
  EXPECT_EQ(merged.outcome.failures_by_property, whole.outcome.failures_by_property);
  EXPECT_EQ(merged.scenario_files, whole.scenario_files);
  EXPECT_EQ(merged.seeds_run, whole.seeds_run);  // 1-9 again, not three progressions
  EXPECT_EQ(merged.jobs, 6u);
  EXPECT_EQ(merged.merged_from,
            (std::vector<std::string>{"shard2.json", "shard3.json", "shard1.json"}));
  // The merged file reads back and merges again.
  const auto back = round_trip(to_json(merged));
  ASSERT_TRUE(std::holds_alternative<FuzzResults>(back)) << std::get<JsonError>(back).to_string();
}

TEST(FuzzResults, OverlappingOrDifferentSweepsDoNotMerge) {
  FuzzSettings s = failing_settings();
  s.liveness_bound = seconds(10);
  s.seed_last = 4;
  const FuzzResults whole = results_of(s);
  const FuzzResults second = results_of(shard(s, 2, 2));  // seeds 2 and 4
  std::vector<NamedFuzzResults> overlapping = {{"a.json", whole}, {"b.json", second}};
  auto r = merge_fuzz_results(overlapping);
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_EQ(std::get<std::string>(r).rfind("a.json and b.json overlap: both ran seed 2", 0), 0u)
      << std::get<std::string>(r);

  FuzzSettings other = s;
  other.seed_first = 5;
  other.seed_last = 6;
  other.nodes = {5};
  std::vector<NamedFuzzResults> different = {{"a.json", whole}, {"c.json", results_of(other)}};
  r = merge_fuzz_results(different);
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_EQ(std::get<std::string>(r),
            "c.json: a different sweep from a.json: nodes 3 vs 5 (only seeds, shard and budget may "
            "differ)");

  // Disjoint ranges of the same sweep merge; with a gap the seeds are listed as they are.
  other.nodes = {3};
  std::vector<NamedFuzzResults> disjoint = {{"a.json", whole}, {"d.json", results_of(other)}};
  r = merge_fuzz_results(disjoint);
  ASSERT_TRUE(std::holds_alternative<FuzzResults>(r)) << std::get<std::string>(r);
  EXPECT_EQ(describe_seeds(std::get<FuzzResults>(r).seeds_run), "1-6");
  other.seed_first = other.seed_last = 8;
  std::vector<NamedFuzzResults> gap = {{"d.json", results_of(other)}, {"a.json", whole}};
  r = merge_fuzz_results(gap);
  ASSERT_TRUE(std::holds_alternative<FuzzResults>(r)) << std::get<std::string>(r);
  EXPECT_EQ(describe_seeds(std::get<FuzzResults>(r).seeds_run), "1-4, 8");
  EXPECT_EQ(std::get<FuzzResults>(r).outcome.runs, 5u);
}

}  // namespace
}  // namespace fuzz_results_test
}  // namespace lockstep::harness
