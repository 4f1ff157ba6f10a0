// The random-seed sweep: each seed's profile is a pure function of the seed, stays in its
// documented ranges, writes out as a scenario that loads back equal and reproduces the run, and
// `lockstep fuzz` prints the same results whatever --jobs is.
#include "harness/fuzz.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/run_cli.h"
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "harness/protocols.h"
#include "harness/run.h"

namespace lockstep::harness {
namespace fuzz_test {
namespace {

FuzzSettings settings_for(std::uint64_t first, std::uint64_t last) {
  FuzzSettings s;
  s.seed_first = first;
  s.seed_last = last;
  return s;
}

TEST(Fuzz, SameSeedGivesTheSameScenarioAndFile) {
  const FuzzSettings s;
  for (std::uint64_t seed : {1u, 42u, 9999u}) {
    const Scenario a = fuzz_scenario(s, seed, 5);
    const Scenario b = fuzz_scenario(s, seed, 5);
    EXPECT_EQ(a, b);
    EXPECT_EQ(to_json(a).dump(), to_json(b).dump());
    EXPECT_EQ(a.seed, seed);
    EXPECT_EQ(a.nodes, 5u);
  }
}

TEST(Fuzz, DifferentSeedsDrawDifferentProfiles) {
  const FuzzSettings s;
  std::set<std::string> profiles;
  std::set<std::vector<NemesisKind>> kind_sets;
  std::set<sim::LatencyDistribution::Kind> latency_kinds;
  int lossy = 0;
  int torn = 0;
  constexpr int kSeeds = 200;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const Scenario scenario = fuzz_scenario(s, seed, 3);
    profiles.insert(describe_profile(scenario));
    kind_sets.insert(scenario.nemesis.kinds);
    latency_kinds.insert(scenario.network.latency.kind);
    lossy += scenario.network.loss > 0 ? 1 : 0;
    torn += scenario.disk.torn_writes ? 1 : 0;
  }
  EXPECT_EQ(profiles.size(), std::size_t{kSeeds});
  EXPECT_GE(kind_sets.size(), 40u);  // of the 63 non-empty subsets
  EXPECT_EQ(latency_kinds.size(), 3u);
  EXPECT_GT(lossy, kSeeds / 4);  // an even coin: about half
  EXPECT_LT(lossy, kSeeds * 3 / 4);
  EXPECT_GT(torn, kSeeds / 4);
  EXPECT_LT(torn, kSeeds * 3 / 4);
}

TEST(Fuzz, ProfilesStayInTheirDocumentedRanges) {
  const FuzzSettings s;
  for (std::uint64_t seed = 1; seed <= 1000; ++seed) {
    const Scenario sc = fuzz_scenario(s, seed, 3);
    const Nemesis& n = sc.nemesis;
    SCOPED_TRACE(describe_profile(sc));
    EXPECT_TRUE(n.enabled);
    EXPECT_FALSE(n.kinds.empty());
    EXPECT_EQ(std::count(n.kinds.begin(), n.kinds.end(), NemesisKind::corrupt_disk), 0);
    EXPECT_FALSE(n.max_down.has_value());  // a minority: a majority always up
    EXPECT_GE(n.interval, milliseconds(200));
    EXPECT_LE(n.interval, seconds(3));
    EXPECT_GE(n.fault_duration_min, milliseconds(50));
    EXPECT_LE(n.fault_duration_min, n.fault_duration_max);
    EXPECT_LE(n.fault_duration_max, seconds(5));
    EXPECT_LE(n.clock_jump_max, seconds(5));
    EXPECT_LE(n.clock_drift_ppm_max, 50'000.0);
    EXPECT_LE(sc.network.loss, 0.05);
    EXPECT_LE(sc.network.duplicate, 0.05);
    EXPECT_LE(sc.network.reorder, 0.20);
    const auto& lat = sc.network.latency;
    switch (lat.kind) {
      case sim::LatencyDistribution::Kind::constant: EXPECT_LE(lat.value, milliseconds(5)); break;
      case sim::LatencyDistribution::Kind::uniform: EXPECT_LE(lat.max, milliseconds(12)); break;
      case sim::LatencyDistribution::Kind::lognormal: EXPECT_LE(lat.max, milliseconds(200)); break;
    }
    EXPECT_LE(sc.clocks.offset_max, milliseconds(500));
    EXPECT_LE(sc.clocks.drift_ppm_max, 500.0);
    ASSERT_EQ(sc.clients.size(), 1u);
    EXPECT_GE(sc.clients[0].count, 1u);
    EXPECT_LE(sc.clients[0].count, 5u);
    EXPECT_GE(sc.clients[0].request_timeout, milliseconds(100));
    EXPECT_LE(sc.clients[0].request_timeout, seconds(1));
    EXPECT_EQ(sc.expect, Expectation{});
    EXPECT_EQ(sc.duration, s.duration);
    EXPECT_EQ(sc.checks.liveness_bound, s.liveness_bound);
  }
}

TEST(Fuzz, EveryScenarioLoadsBackEqualFromItsFile) {
  const FuzzSettings s;
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    for (std::uint32_t nodes : {3u, 5u}) {
      const Scenario scenario = fuzz_case_scenario(s, FuzzCase{seed, nodes, "raft"});
      const std::string text = to_json(scenario).dump(2);
      auto loaded = parse_scenario_text(text, "fuzz.json", known_protocols());
      if (const auto* error = std::get_if<LoadError>(&loaded)) {
        FAIL() << error->message << "\n" << text;
      }
      EXPECT_EQ(std::get<Scenario>(loaded), scenario) << text;
      EXPECT_EQ(check_protocols(scenario, "fuzz.json"), std::nullopt);
    }
  }
}

TEST(Fuzz, WrittenFileReproducesTheTraceHash) {
  const FuzzSettings s;
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / fmt::format("lockstep-fuzz-{}.json", ::getpid());
  for (const FuzzCase& c : {FuzzCase{7, 3, "raft"}, FuzzCase{8, 5, "raft"}}) {
    const FuzzRecord record = run_fuzz_case(s, c);
    std::ofstream(file) << to_json(fuzz_case_scenario(s, c)).dump(2) << "\n";
    auto loaded = load_scenario_file(file.string(), known_protocols());
    ASSERT_TRUE(std::holds_alternative<Scenario>(loaded));
    const RunResult again =
        run_scenario(std::get<Scenario>(loaded), RunOptions{std::nullopt, "raft", nullptr});
    EXPECT_EQ(again.trace_hash, record.trace_hash);
    EXPECT_EQ(again.events, record.events);
  }
  std::filesystem::remove(file);
}

TEST(Fuzz, CasesComeInSeedThenNodesThenProtocolOrder) {
  FuzzSettings s = settings_for(4, 5);
  s.nodes = {5, 3};
  const std::vector<FuzzCase> expected = {
      {4, 5, "raft"}, {4, 3, "raft"}, {5, 5, "raft"}, {5, 3, "raft"}};
  EXPECT_EQ(fuzz_cases(s), expected);
}

TEST(Fuzz, ProfilesOfExistingSeedsDoNotMove) {
  // Failing seeds are reported by number: a seed must keep its profile from release to release.
  // (Taken from the sweep before shards, budgets and overrides were added.)
  const FuzzSettings s;
  EXPECT_EQ(describe_profile(fuzz_scenario(s, 1, 3)),
            "nemesis: partition+crash+clock_jump+clock_drift every ~1.3s for 199ms..2.87s, jumps "
            "±3.32s, drift ±648ppm, lognormal 306us/1.9ms/6.08ms, 2 clients every 64.7ms (timeout "
            "695ms)");
  EXPECT_EQ(describe_profile(fuzz_scenario(s, 2, 3)),
            "nemesis: pause+clock_jump every ~271ms for 70.1ms..399ms, jumps ±70.5ms, loss 3%, "
            "dup 2.75%, reorder 19.82% +1.81ms, constant 549us, offsets ±213ms, skew ±110ppm, "
            "sync uniform 3.13ms..9.39ms, 3 clients of lock_counter (timeout 112ms)");
}

TEST(Fuzz, OverridesPinClientsAndKindsAndKeepTheRestOfEachProfile) {
  FuzzSettings pinned;
  pinned.clients = 10;
  pinned.all_nemesis_kinds = true;
  const FuzzSettings drawn;
  const std::vector<NemesisKind> every_kind = {NemesisKind::partition,  NemesisKind::crash,
                                               NemesisKind::pause,      NemesisKind::clock_jump,
                                               NemesisKind::clock_drift, NemesisKind::clog};
  std::set<std::size_t> workloads;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    Scenario a = fuzz_scenario(pinned, seed, 5);
    const Scenario b = fuzz_scenario(drawn, seed, 5);
    ASSERT_EQ(a.clients.size(), 1u);
    EXPECT_EQ(a.clients[0].count, 10u);
    EXPECT_EQ(a.nemesis.kinds, every_kind);
    workloads.insert(a.clients[0].workload.index());
    // Everything else is the seed's own draw.
    a.clients[0].count = b.clients[0].count;
    a.nemesis.kinds = b.nemesis.kinds;
    a.description = b.description;
    EXPECT_EQ(a, b) << seed;
  }
  EXPECT_GE(workloads.size(), 4u);  // append and several lock workloads were pinned alike
}

TEST(Fuzz, ShardsSplitTheSeedsWithoutGapOrOverlap) {
  FuzzSettings whole = settings_for(5, 14);
  whole.nodes = {3, 5};
  std::vector<FuzzCase> joined;
  const std::vector<std::vector<std::uint64_t>> expected = {
      {5, 8, 11, 14}, {6, 9, 12}, {7, 10, 13}};
  for (std::uint64_t k = 0; k < 3; ++k) {
    FuzzSettings shard = whole;
    shard.shard_index = k;
    shard.shard_count = 3;
    std::vector<std::uint64_t> seeds;
    for (std::uint64_t i = 0; i < fuzz_seed_count(shard); ++i) {
      seeds.push_back(fuzz_seed_at(shard, i));
    }
    EXPECT_EQ(seeds, expected[k]) << "shard " << k + 1 << "/3";
    for (const FuzzCase& c : fuzz_cases(shard)) joined.push_back(c);
  }
  std::sort(joined.begin(), joined.end(),
            [&](const FuzzCase& a, const FuzzCase& b) { return fuzz_case_before(whole, a, b); });
  EXPECT_EQ(joined, fuzz_cases(whole));
  FuzzSettings empty = settings_for(1, 2);
  empty.shard_index = 2;
  empty.shard_count = 3;
  EXPECT_EQ(fuzz_seed_count(empty), 0u);
}

TEST(Fuzz, RecordsRoundTripAsJsonLines) {
  FuzzRecord r;
  r.run = FuzzCase{123, 5, "raft"};
  r.trace_hash = 0xfedcba9876543210ULL;
  r.events = 4567;
  r.simulated = milliseconds(15'000);
  r.failures = {{"liveness", "client 3 request 9 \"pending\"\nfor ever"}, {"durability", "x"}};
  const std::string line = to_json_line(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(fuzz_record_from_json(line), r);
  EXPECT_EQ(fuzz_record_from_json("{\"seed\": 1}"), std::nullopt);
  EXPECT_EQ(fuzz_record_from_json("not json"), std::nullopt);
}

TEST(Fuzz, SmallBatchPassesOnThreeAndFiveNodes) {
  std::uint64_t seen = 0;
  const FuzzOutcome outcome =
      run_fuzz(settings_for(1, 20), [&](const FuzzRecord&) { ++seen; });
  EXPECT_EQ(outcome.runs, 40u);
  EXPECT_EQ(seen, 40u);
  EXPECT_EQ(outcome.passed, 40u);
  for (const FuzzRecord& r : outcome.failures) {
    ADD_FAILURE() << fuzz_case_name(r.run) << ": " << r.failures.front().property << ": "
                  << r.failures.front().detail;
  }
}

using lockstep::testing::CliResult;

CliResult lockstep(const std::string& args) { return lockstep::testing::run_lockstep(args, false); }

TEST(FuzzCli, OutputIsIdenticalForAnyNumberOfJobs) {
  const std::string args = "fuzz --seeds 1-8 --nodes 3,5 --duration 3s --verbose";
  const CliResult one = lockstep(args + " --jobs 1 2>/dev/null");
  const CliResult two = lockstep(args + " --jobs 2 2>/dev/null");
  const CliResult three = lockstep(args + " --jobs 3 2>/dev/null");
  EXPECT_EQ(one.exit_code, 0) << one.out;
  EXPECT_EQ(one.out, two.out);
  EXPECT_EQ(one.out, three.out);
  EXPECT_NE(one.out.find("ok   fuzz-raft-n5-seed8  hash "), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("result     16 runs: 16 passed, 0 failed"), std::string::npos) << one.out;
}

TEST(FuzzCli, FailingRunIsWrittenAsAScenarioThatReproducesIt) {
  // A 1ms liveness bound fails any run with a call in progress at the final heal.
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / fmt::format("lockstep-fuzz-out-{}", ::getpid());
  const CliResult r = lockstep(fmt::format(
      "fuzz --seeds 3-3 --nodes 3 --duration 2s --liveness-bound 1ms --jobs 1 --out {} 2>&1",
      dir.string()));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const std::string file = (dir / "fuzz-raft-n3-seed3.json").string();
  EXPECT_NE(r.out.find("FAIL fuzz-raft-n3-seed3: liveness: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("reproduce: lockstep run " + file + "\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("WARNING"), std::string::npos) << r.out;
  const auto hash_at = r.out.find("trace      hash ");
  ASSERT_NE(hash_at, std::string::npos) << r.out;
  const std::string hash = r.out.substr(hash_at + 16, 16);

  const CliResult again = lockstep("run " + file + " 2>&1");
  EXPECT_EQ(again.exit_code, 1) << again.out;
  EXPECT_NE(again.out.find("trace      hash " + hash), std::string::npos) << again.out;
  std::filesystem::remove_all(dir);
}

TEST(FuzzCli, BadFlagsGetOneLineAndExitCode2) {
  const CliResult seeds = lockstep("fuzz --seeds x 2>&1");
  EXPECT_EQ(seeds.exit_code, 2);
  EXPECT_EQ(seeds.out,
            "lockstep fuzz: --seeds: expected a range like 1-5000, got \"x\"\n");
  for (const char* args : {"--seeds 5-1", "--nodes 3,3", "--nodes 10", "--duration 10",
                           "--jobs 0", "--protocol rafty", "--protocol pax", "--frob", "extra"}) {
    const CliResult r = lockstep(fmt::format("fuzz {} 2>&1", args));
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args << ": " << r.out;
    EXPECT_EQ(r.out.rfind("lockstep fuzz: ", 0), 0u) << r.out;
  }
}

TEST(FuzzCli, HelpListsEveryFlag) {
  const CliResult r = lockstep("fuzz --help 2>&1");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--protocol", "--seeds", "--nodes", "--duration", "--liveness-bound",
                           "--jobs", "--out", "--verbose", "--budget", "--shard", "--json",
                           "--merge", "--clients", "--nemesis-kinds"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace fuzz_test
}  // namespace lockstep::harness
