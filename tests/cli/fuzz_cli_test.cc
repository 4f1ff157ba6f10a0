// `lockstep fuzz` end to end: shards, a wall-clock budget, the --json results file and --merge,
// and the one-line errors (exit code 2) for bad flags and bad results files.
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "support/run_cli.h"

namespace lockstep {
namespace fuzz_cli_test {
namespace {

using testing::CliResult;

CliResult lockstep_cli(const std::string& args) { return testing::run_lockstep(args, false); }

class FuzzCliFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("lockstep-fuzz-cli-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static nlohmann::json read_json(const std::string& file) {
    std::ifstream in(file);
    return nlohmann::json::parse(in);
  }
  std::filesystem::path dir_;
};

std::string line_with(const std::string& out, const std::string& prefix) {
  const auto at = out.find(prefix);
  if (at == std::string::npos) return "(no line starting " + prefix + ")";
  return out.substr(at, out.find('\n', at) - at);
}

// What a results file says about the runs themselves (not where or how fast they ran).
nlohmann::json runs_of(nlohmann::json j) {
  for (auto& f : j["failures"]) f.erase("scenario_file");
  return {{"totals", j["totals"]},
          {"failures", j["failures"]},
          {"failures_by_property", j["failures_by_property"]},
          {"seeds_run", j["seeds_run"]}};
}

// A 1ms liveness bound fails any run with a call in progress at the final heal: a sweep with
// both failures and passes, fast.
constexpr const char* kSweep = "fuzz --seeds 1-9 --nodes 3 --duration 1s --liveness-bound 1ms --shrink 0";

TEST_F(FuzzCliFiles, ShardsMergeIntoTheUnshardedRun) {
  const CliResult whole = lockstep_cli(fmt::format("{} --jobs 2 --out {} --json {} 2>/dev/null",
                                                   kSweep, path("out"), path("whole.json")));
  ASSERT_EQ(whole.exit_code, 1) << whole.out;
  std::vector<std::string> shard_files;
  for (int k = 1; k <= 3; ++k) {
    shard_files.push_back(path(fmt::format("shard{}.json", k)));
    const CliResult shard =
        lockstep_cli(fmt::format("{} --shard {}/3 --jobs 1 --out {} --json {} 2>/dev/null", kSweep,
                                 k, path("out"), shard_files.back()));
    ASSERT_NE(shard.exit_code, 2) << shard.out;
    EXPECT_NE(shard.out.find(fmt::format("shard {}/3 ({}, {}, {})", k, k, k + 3, k + 6)),
              std::string::npos)
        << shard.out;
    EXPECT_NE(shard.out.find("result     3 runs: "), std::string::npos) << shard.out;
  }
  const CliResult merged =
      lockstep_cli(fmt::format("fuzz --merge {} {} {} --json {} 2>&1", shard_files[2],
                               shard_files[0], shard_files[1], path("merged.json")));
  EXPECT_EQ(merged.exit_code, 1) << merged.out;
  EXPECT_EQ(line_with(merged.out, "result "), line_with(whole.out, "result ")) << merged.out;
  EXPECT_NE(merged.out.find("seeds      1-9 (9 seeds)"), std::string::npos) << merged.out;
  EXPECT_NE(merged.out.find("failures by property"), std::string::npos) << merged.out;
  // Failures in case order, each as the unsharded run printed it.
  std::regex fail_line("FAIL [^\n]*\n");
  std::string whole_fails;
  std::string merged_fails;
  for (std::sregex_iterator it(whole.out.begin(), whole.out.end(), fail_line), end; it != end;
       ++it) {
    whole_fails += it->str();
  }
  for (std::sregex_iterator it(merged.out.begin(), merged.out.end(), fail_line), end; it != end;
       ++it) {
    merged_fails += it->str();
  }
  EXPECT_FALSE(whole_fails.empty());
  EXPECT_EQ(merged_fails, whole_fails);
  EXPECT_EQ(runs_of(read_json(path("merged.json"))), runs_of(read_json(path("whole.json"))));
}

TEST_F(FuzzCliFiles, JsonResultsDescribeTheRun) {
  const CliResult r = lockstep_cli(
      fmt::format("{} --clients 2 --nemesis-kinds all --jobs 2 --out {} --json {} 2>/dev/null",
                  kSweep, path("out"), path("r.json")));
  ASSERT_EQ(r.exit_code, 1) << r.out;
  const nlohmann::json j = read_json(path("r.json"));
  EXPECT_EQ(j["format"], "lockstep-fuzz/1");
  EXPECT_EQ(j["settings"]["protocols"], nlohmann::json::array({"raft"}));
  EXPECT_EQ(j["settings"]["nodes"], nlohmann::json::array({3}));
  EXPECT_EQ(j["settings"]["duration"], "1s");
  EXPECT_EQ(j["settings"]["liveness_bound"], "1ms");
  EXPECT_EQ(j["settings"]["clients"], 2);
  EXPECT_EQ(j["settings"]["nemesis_kinds"], "all");
  EXPECT_EQ(j["settings"]["shard"], "1/1");
  EXPECT_FALSE(j["settings"].contains("budget"));
  EXPECT_EQ(j["totals"]["runs"], 9);
  const auto failed = j["totals"]["failed"].get<std::uint64_t>();
  EXPECT_NE(line_with(r.out, "result ").find(fmt::format("{} failed", failed)), std::string::npos);
  ASSERT_EQ(j["failures"].size(), failed);
  for (const auto& f : j["failures"]) {
    EXPECT_FALSE(f["passed"].get<bool>());
    EXPECT_TRUE(std::filesystem::exists(f["scenario_file"].get<std::string>())) << f.dump();
    EXPECT_NE(r.out.find("FAIL " + f["case"].get<std::string>() + ": " +
                         f["failures"][0]["property"].get<std::string>()),
              std::string::npos);
  }
  EXPECT_GT(j["machine_dependent"]["wall_s"].get<double>(), 0.0);
  // Its own merge is itself.
  const CliResult again = lockstep_cli(fmt::format("fuzz --merge {} 2>&1", path("r.json")));
  EXPECT_EQ(again.exit_code, 1) << again.out;
  EXPECT_EQ(line_with(again.out, "result "), line_with(r.out, "result "));
}

TEST_F(FuzzCliFiles, TinyBudgetStopsEarlyAfterAWholePrefixOfSeeds) {
  const CliResult r = lockstep_cli(fmt::format(
      "fuzz --budget 1ms --seeds 1-1000 --nodes 3,5 --duration 1s --jobs 2 --verbose --out {} "
      "--json {} 2>/dev/null",
      path("out"), path("b.json")));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json j = read_json(path("b.json"));
  EXPECT_TRUE(j["stopped_by_budget"].get<bool>());
  ASSERT_EQ(j["seeds_run"].size(), 1u);
  EXPECT_EQ(j["seeds_run"][0]["first"], 1);
  const auto last = j["seeds_run"][0]["last"].get<std::uint64_t>();
  EXPECT_LT(last, 1000u);
  EXPECT_EQ(j["totals"]["runs"], 2 * last);
  // Every case of seeds 1..last, in case order, and nothing else.
  std::string expected;
  for (std::uint64_t seed = 1; seed <= last; ++seed) {
    expected += fmt::format("fuzz-raft-n3-seed{}\nfuzz-raft-n5-seed{}\n", seed, seed);
  }
  std::string printed;
  std::regex ok_line("ok   (\\S+)  hash");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), ok_line), end; it != end; ++it) {
    printed += (*it)[1].str() + "\n";
  }
  EXPECT_EQ(printed, expected) << r.out;
  const std::string seeds = last == 1 ? std::string("1") : fmt::format("1-{}", last);
  EXPECT_NE(r.out.find(fmt::format("budget     seeds {} in ", seeds)), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(the 1ms budget ran out)"), std::string::npos) << r.out;
}

TEST_F(FuzzCliFiles, BudgetLongerThanTheRangeRunsEverySeed) {
  const CliResult r = lockstep_cli(fmt::format(
      "fuzz --budget 1h --seeds 5-7 --nodes 3 --duration 1s --jobs 2 --out {} 2>/dev/null",
      path("out")));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("result     3 runs: 3 passed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("budget     seeds 5-7 in "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(every seed of the range ran)"), std::string::npos) << r.out;
}

TEST_F(FuzzCliFiles, MergeRefusesOverlapsDifferentSweepsAndBadFiles) {
  const std::string common = fmt::format("--nodes 3 --duration 1s --jobs 2 --out {}", path("out"));
  ASSERT_EQ(lockstep_cli(fmt::format("fuzz --seeds 1-4 {} --json {} >/dev/null 2>&1", common,
                                     path("a.json")))
                .exit_code,
            0);
  ASSERT_EQ(lockstep_cli(fmt::format("fuzz --seeds 1-4 --shard 2/2 {} --json {} >/dev/null 2>&1",
                                     common, path("b.json")))
                .exit_code,
            0);
  ASSERT_EQ(lockstep_cli(fmt::format("fuzz --seeds 5-6 --nodes 3 --duration 2s --jobs 2 --out {} "
                                     "--json {} >/dev/null 2>&1",
                                     path("out"), path("c.json")))
                .exit_code,
            0);
  ASSERT_EQ(lockstep_cli(fmt::format("fuzz --seeds 5-6 {} --json {} >/dev/null 2>&1", common,
                                     path("d.json")))
                .exit_code,
            0);
  std::ofstream(path("garbage.json")) << "{\"format\": \"lockstep-fuzz/1\", ";
  std::ofstream(path("other.json")) << "{\"format\": \"something else\"}";

  const auto merge = [&](const std::string& files) {
    return lockstep_cli(fmt::format("fuzz --merge {} 2>&1", files));
  };
  CliResult r = merge(path("a.json") + " " + path("b.json"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out,
            fmt::format("lockstep fuzz --merge: {} and {} overlap: both ran seed 2 ({}: shard "
                        "1/1, seeds 1-4; {}: shard 2/2, seeds 2-4 step 2)\n",
                        path("a.json"), path("b.json"), path("a.json"), path("b.json")));
  r = merge(path("a.json") + " " + path("c.json"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, fmt::format("lockstep fuzz --merge: {}: a different sweep from {}: duration 1s "
                               "vs 2s (only seeds, shard and budget may differ)\n",
                               path("c.json"), path("a.json")));
  r = merge(path("a.json") + " " + path("garbage.json"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out.rfind(fmt::format("lockstep fuzz --merge: {}: not a --json results file: line ",
                                    path("garbage.json")),
                        0),
            0u)
      << r.out;
  r = merge(path("other.json"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(
      r.out.rfind(fmt::format("lockstep fuzz --merge: {}: /format: expected \"lockstep-fuzz/1\"",
                              path("other.json")),
                  0),
      0u)
      << r.out;
  r = merge(path("missing.json"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(
      r.out.rfind(fmt::format("lockstep fuzz --merge: {}: cannot open", path("missing.json")), 0),
      0u)
      << r.out;
  for (const CliResult& bad : {r, merge(path("a.json") + " " + path("b.json"))}) {
    EXPECT_EQ(std::count(bad.out.begin(), bad.out.end(), '\n'), 1) << bad.out;
  }
  // Seeds 1-4 and 5-6 of the same sweep are one sweep of seeds 1-6, all passing.
  r = merge(path("d.json") + " " + path("a.json"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("seeds      1-6 (6 seeds)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("result     6 runs: 6 passed, 0 failed"), std::string::npos) << r.out;
}

TEST_F(FuzzCliFiles, ProgressIsPlainLinesWhenNotATerminal) {
  // Standard error is a pipe here, as in CI: whole lines, no carriage returns or escapes.
  const CliResult r =
      lockstep_cli(fmt::format("fuzz --seeds 1-20 --nodes 3 --duration 1s "
                               "--jobs 2 --out {} 2>&1 >/dev/null",
                               path("out")));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find('\r'), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\033'), std::string::npos) << r.out;
  const std::regex last_line(
      "fuzz: 20/20 seeds \\(100%\\), [0-9.]+ seeds/s, [0-9.]+ runs/s, 0 failed, ETA [0-9.]+s\n");
  EXPECT_TRUE(std::regex_search(r.out, last_line)) << r.out;
  const auto lines = std::count(r.out.begin(), r.out.end(), '\n');
  EXPECT_LE(lines, 21) << r.out;  // every 5% at most, and the time line

  const CliResult budget =
      lockstep_cli(fmt::format("fuzz --budget 1s --nodes 3 --duration 1s "
                               "--jobs 2 --out {} 2>&1 >/dev/null",
                               path("out")));
  ASSERT_EQ(budget.exit_code, 0) << budget.out;
  const std::regex budget_line(
      "fuzz: [0-9]+ seeds, [0-9.]+ seeds/s, [0-9.]+ runs/s, 0 failed, budget ends in [0-9.]+s\n");
  EXPECT_TRUE(std::regex_search(budget.out, budget_line)) << budget.out;
}

TEST(FuzzCliFlags, BadFlagsGetOneLineAndExitCode2) {
  const std::pair<const char*, const char*> cases[] = {
      {"--shard 0/3",
       "lockstep fuzz: --shard: expected K/N with 1 <= K <= N <= 1000000, like 2/8, got \"0/3\""},
      {"--shard 4/3", "--shard: expected K/N"},
      {"--shard 3", "--shard: expected K/N"},
      {"--shard a/b", "--shard: expected K/N"},
      {"--shard 2/3/4", "--shard: expected K/N"},
      {"--seeds 1-2 --shard 3/3",
       "lockstep fuzz: --shard: shard 3/3 of seeds 1-2 has no seed: use at most 2 shards for this "
       "range"},
      {"--budget 10",
       "lockstep fuzz: --budget: expected a wall-clock duration in 1ms..720h like 10m or 90s, got "
       "\"10\""},
      {"--budget soon", "--budget: expected a wall-clock duration"},
      {"--budget 0s", "--budget: expected a wall-clock duration"},
      {"--seeds 5-",
       "lockstep fuzz: --seeds: expected a range like 1-5000 (an open range like 1- needs "
       "--budget), got \"5-\""},
      {"--seeds 1-2-3 --budget 1m", "--seeds: expected a range like 1-5000, or 1- (from 1 on)"},
      {"--clients 0",
       "lockstep fuzz: --clients: expected a number of clients in 1..100, got \"0\""},
      {"--clients 101", "--clients: expected a number of clients in 1..100"},
      {"--nemesis-kinds some",
       "lockstep fuzz: --nemesis-kinds: expected drawn or all, got \"some\""},
      {"--merge", "lockstep fuzz --merge: expected the results files to merge"},
      {"--merge x.json --seeds 1-3",
       "lockstep fuzz: --merge takes the results files and --json only, got --seeds"},
      {"--seeds 1-1 --json /nonexistent-dir/r.json",
       "lockstep fuzz: --json: cannot write /nonexistent-dir/r.json"},
      {"--max-failures 0",
       "lockstep fuzz: --max-failures: expected a number of failed runs, at least 1, got \"0\""},
      {"--shrink many", "lockstep fuzz: --shrink: expected a number of runs to shrink in 0..1000"},
      {"--shrink-runs 1", "lockstep fuzz: --shrink-runs: expected a number of re-runs in 2.."},
      {"--protocol-options '[1]'", "lockstep fuzz: --protocol-options: expected a JSON object"},
      {"--protocol-options '{\"raft\":true}'",
       "lockstep fuzz: --protocol-options: expected a JSON object"},
      {"--protocol-options '{\"zab\":{}}'",
       "lockstep fuzz: --protocol-options: options for zab, which the sweep does not run "
       "(--protocol raft)"},
      {"--protocol-options '{\"raft\":{\"prevotes\":false}}'",
       "lockstep fuzz: --protocol-options: /protocol_options/raft/prevotes: "},
  };
  for (const auto& [args, message] : cases) {
    const CliResult r = testing::run_lockstep(fmt::format("fuzz {}", args));
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args << ": " << r.out;
    EXPECT_NE(r.out.find(message), std::string::npos) << args << ": " << r.out;
    EXPECT_EQ(r.out.rfind("lockstep fuzz", 0), 0u) << r.out;
  }
}

// The acceptance test, end to end: with the planted Raft bug switched on from the command
// line, a sweep finds a failure within 2,000 seeds, shrinks it to at most 10 fault events, prints
// the shrunk scenario, and the written file still fails when `lockstep run` loads it. (The
// harness-level test, tests/harness/shrink_test.cc, asserts the same through the library.)
TEST_F(FuzzCliFiles, PlantedBugIsFoundAndShrunkFromTheCommandLine) {
  const CliResult r = lockstep_cli(fmt::format(
      "fuzz --protocol raft --seeds 1-2000 --max-failures 1 --nodes 3 --jobs 2 --shrink 1 "
      "--protocol-options '{{\"raft\":{{\"bug_vote_without_log_check\":true}}}}' --out {} "
      "--json {} --report {} 2>/dev/null",
      path("out"), path("r.json"), path("report")));
  ASSERT_EQ(r.exit_code, 1) << r.out;
  std::ifstream html(path("report/report.html"));
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("fuzz-raft-n3-seed9"), std::string::npos) << "the failing run is listed";
  EXPECT_NE(r.out.find("stopped    after "), std::string::npos) << r.out;
  const nlohmann::json results = read_json(path("r.json"));
  ASSERT_FALSE(results["failures"].empty()) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("\n  after +([0-9]+) fault event"))) << r.out;
  EXPECT_LE(std::stoi(m[1]), 10) << r.out;
  EXPECT_NE(r.out.find("\"bug_vote_without_log_check\": true"), std::string::npos)
      << "the shrunk scenario is printed: " << r.out;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("\n  wrote +(\\S+)\n"))) << r.out;
  const std::string file = m[1];
  const CliResult again = lockstep_cli(fmt::format("run {} 2>&1", file));
  EXPECT_EQ(again.exit_code, 1) << again.out;  // expects pass, fails: a regression test
  EXPECT_NE(again.out.find("violation of invariants"), std::string::npos) << again.out;
}

}  // namespace
}  // namespace fuzz_cli_test
}  // namespace lockstep
