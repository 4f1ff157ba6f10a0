// `lockstep shrink` as a user runs it: exit 0 with a written file that still fails, 1 for a
// scenario that passes, 2 for bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/protocols.h"
#include "harness/run.h"
#include "harness/scenario.h"
#include "support/run_cli.h"

namespace shrink_cli_test {
namespace {

using lockstep::testing::CliResult;

CliResult lockstep(const std::string& args) { return lockstep::testing::run_lockstep(args); }

std::string source(const std::string& relative) {
  return fmt::format("{}/{}", LOCKSTEP_SOURCE_DIR, relative);
}

// Raft with its planted vote bug: the leader crashes at 1s and comes back at the end with a
// stale log, which the bug lets win an election (tests/harness/shrink_test.cc has the story);
// the heals around the crash do nothing.
constexpr const char* kFailing = R"({
  "name": "crash-and-heals", "protocol": "raft", "nodes": 3, "seed": 21, "duration": "4s",
  "network": {"loss": 0.2, "latency": {"kind": "uniform", "min": "1ms", "max": "10ms"}},
  "protocol_options": {"raft": {"bug_vote_without_log_check": true}},
  "clients": [{"workload": "append", "count": 3, "interval": "0s"}],
  "faults": [
    {"at": "200ms", "action": "heal"},
    {"at": "1s", "action": "crash", "node": "leader"},
    {"at": "1.5s", "action": "heal"},
    {"at": "3s", "action": "heal"}
  ]
})";

class ShrinkCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("lockstep-shrink-cli-{}", ::getpid());
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "failing.json") << kFailing;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(ShrinkCli, WritesAShrunkScenarioThatStillFails) {
  const std::string out = path("shrunk.json");
  const CliResult r = lockstep("shrink " + path("failing.json") + " --out " + out);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  for (const std::string& line : std::vector<std::string>{
           "fails      invariants (leader_completeness)", "before     4 fault events, 3 clients",
        "after      1 fault event", "steps", "wrote      " + out, "reproduce  lockstep run " + out}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
  }
  auto loaded = lockstep::harness::load_scenario_file(out, lockstep::harness::known_protocols());
  ASSERT_TRUE(std::holds_alternative<lockstep::harness::Scenario>(loaded));
  const auto& s = std::get<lockstep::harness::Scenario>(loaded);
  EXPECT_EQ(s.faults.size(), 1u);
  EXPECT_FALSE(s.expect.violation.has_value());
  EXPECT_NE(s.description.find("lockstep run " + out), std::string::npos) << s.description;
  // Run as a scenario, it is not as expected (it expects pass and fails): exit 1.
  EXPECT_EQ(lockstep("run " + out).exit_code, 1);
}

TEST_F(ShrinkCli, APassingScenarioIsNotShrunk) {
  const CliResult r = lockstep("shrink " + source("scenarios/quickstart.json") + " --out " +
                               path("never.json"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("fails no property"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(path("never.json")));
}

TEST_F(ShrinkCli, BadInputIsExitCode2) {
  const std::string failing = path("failing.json");
  for (const std::string& args : std::vector<std::string>{
           "shrink", "shrink " + path("missing.json"), "shrink " + failing + " --property safety",
        "shrink " + failing + " --max-runs 1", "shrink " + failing + " --protocol rafty",
        "shrink " + failing + " --seed x"}) {
    const CliResult r = lockstep(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args << "\n" << r.out;
  }
}

TEST_F(ShrinkCli, HelpNamesEveryFlag) {
  const CliResult r = lockstep("shrink --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--protocol", "--seed", "--property", "--out", "--max-runs"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace shrink_cli_test
