// The lockstep binary as a user runs it: exit codes, one-line errors, help on every subcommand.
#include <gtest/gtest.h>

#include "support/run_cli.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace cli_test {
namespace {

using Result = lockstep::testing::CliResult;

Result lockstep(const std::string& args) { return lockstep::testing::run_lockstep(args); }

std::string source(const std::string& relative) {
  return std::string(LOCKSTEP_SOURCE_DIR) + "/" + relative;
}

TEST(Cli, QuickstartRunsAndPrintsAVerdictPerProperty) {
  const Result r = lockstep("run " + source("scenarios/quickstart.json"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  for (const char* line : {"scenario   quickstart", "seed 1", "trace      hash", "invariants",
                           "durability", "liveness", "outcome    pass (expected pass)"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
  }
}

TEST(Cli, MalformedScenarioGetsOneLineAndExitCode2) {
  const std::string file = source("tests/harness/malformed/node_out_of_range.json");
  const Result r = lockstep("run " + file);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_EQ(r.out.rfind(file + ": /faults/", 0), 0u) << r.out;
}

TEST(Cli, MissingFileIsBadInput) {
  const Result r = lockstep("run /nonexistent/scenario.json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "/nonexistent/scenario.json: cannot open: No such file or directory\n");
}

TEST(Cli, BadFlagsAreBadInput) {
  const std::string q = source("scenarios/quickstart.json");
  EXPECT_EQ(lockstep("run " + q + " --seed abc").out,
            "lockstep run: --seed expects a non-negative integer, got \"abc\"\n");
  EXPECT_EQ(lockstep("run " + q + " --seed abc").exit_code, 2);
  EXPECT_EQ(lockstep("run " + q + " --sed 3").exit_code, 2);
  EXPECT_EQ(lockstep("run " + q + " --protocol rafty").out,
            "lockstep run: --protocol expects one of raft, paxos, zab, got \"rafty\"\n");
  EXPECT_EQ(lockstep("run").exit_code, 2);
  EXPECT_EQ(lockstep("frobnicate").exit_code, 2);
}

TEST(Cli, ProtocolFlagRunsTheScenarioOverAnother) {
  const Result r = lockstep("run " + source("scenarios/quickstart.json") + " --protocol zab");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("protocol   zab"), std::string::npos) << r.out;
}

TEST(Cli, HelpOnEveryCommand) {
  for (const char* args : {"--help", "run --help"}) {
    const Result r = lockstep(args);
    EXPECT_EQ(r.exit_code, 0) << args;
    EXPECT_NE(r.out.find("usage: lockstep"), std::string::npos) << r.out;
  }
}

TEST(Cli, SeedFlagChangesTheTraceAndVerifyDeterminismConfirmsIt) {
  const std::string q = source("scenarios/quickstart.json");
  const Result a = lockstep("run " + q + " --seed 7 --verify-determinism");
  const Result b = lockstep("run " + q + " --seed 8 --verify-determinism");
  EXPECT_EQ(a.exit_code, 0) << a.out;
  EXPECT_NE(a.out.find("determinism verified"), std::string::npos) << a.out;
  const auto hash = [](const std::string& out) {
    const auto at = out.find("hash ");
    return out.substr(at + 5, 16);
  };
  EXPECT_NE(hash(a.out), hash(b.out));
}

TEST(Cli, TraceAndReportFilesAreWritten) {
  const auto dir = std::filesystem::temp_directory_path() / "lockstep_cli_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const Result r = lockstep("run " + source("scenarios/quickstart.json") + " --trace " +
                            (dir / "trace.jsonl").string() + " --report " + (dir / "report").string());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  std::ifstream trace(dir / "trace.jsonl");
  std::string first;
  std::getline(trace, first);
  EXPECT_EQ(first.rfind("{\"t_ns\":0,\"node\":0,\"kind\":\"start\"", 0), 0u) << first;
  EXPECT_TRUE(std::filesystem::exists(dir / "report" / "summary.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "report" / "summary.md"));
  EXPECT_EQ(lockstep("run " + source("scenarios/quickstart.json") + " --trace /nonexistent/dir/t.jsonl").exit_code, 2);
}

TEST(Cli, LockRunHistoryIsWrittenAndChecksBackAsLinearizable) {
  const auto dir = std::filesystem::temp_directory_path() / "lockstep_cli_history_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string history = (dir / "history.json").string();
  const Result run = lockstep("run " + source("scenarios/service/failover-lock-held.json") +
                              " --protocol paxos --history " + history);
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("history    " + history), std::string::npos) << run.out;
  std::ifstream in(history);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"model\": \"lock-service\""), std::string::npos) << text.substr(0, 200);
  EXPECT_NE(text.find("\"f\": \"acquire\""), std::string::npos);
  EXPECT_NE(text.find("\"f\": \"release\""), std::string::npos);

  const Result check = lockstep("lincheck " + history);
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_NE(check.out.find("lock-service model"), std::string::npos) << check.out;
  // The history has namespace calls (the lock nodes' creates), which the lock model alone
  // rejects with the place and what it takes.
  const Result lock_only = lockstep("lincheck " + history + " --model lock");
  EXPECT_EQ(lock_only.exit_code, 2) << lock_only.out;
  EXPECT_NE(lock_only.out.find("/operations/"), std::string::npos) << lock_only.out;
  EXPECT_NE(lock_only.out.find("one of acquire, try_acquire"), std::string::npos) << lock_only.out;
}

TEST(Cli, HistoryOfARunWithoutLockWorkloadsIsBadInput) {
  const Result r = lockstep("run " + source("scenarios/quickstart.json") + " --history /tmp/h.json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_NE(r.out.find("--history"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace cli_test
