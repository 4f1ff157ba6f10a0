// lockstep compare end to end: bad input exits 2 with one line naming the problem, and the
// comparison scenario passes over every protocol with its tables and report.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/run_cli.h"

namespace lockstep {
namespace compare_cli_test {
namespace {

using testing::run_lockstep;

const std::string kScenario =
    fmt::format("{}/scenarios/compare/leader-isolation-and-crash.json", LOCKSTEP_SOURCE_DIR);

std::string compare_args(std::string_view rest) {
  return fmt::format("compare {} {}", kScenario, rest);
}

TEST(CompareCli, BadInputExitsTwoWithOneLine) {
  struct Case {
    std::string args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"compare", "expected one scenario file, got 0"},
      {"compare /nonexistent/x.json", "/nonexistent/x.json"},
      {compare_args("--protocol raft,bogus"), "--protocol: expected a comma-separated list"},
      {compare_args("--protocol raft,raft"), "raft is listed twice"},
      {compare_args("--failover-trials many"), "--failover-trials: expected an integer"},
      {compare_args("--failover-trials 100001"), "--failover-trials: expected an integer"},
      {compare_args("--seed -1"), "--seed"},
      {compare_args("--frobnicate"), "--frobnicate"},
  };
  for (const Case& c : cases) {
    const auto r = run_lockstep(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << c.args << "\n" << r.out;
  }
}

TEST(CompareCli, ComparisonScenarioPassesOverEveryProtocolWithItsTablesAndReport) {
  const auto dir =
      std::filesystem::temp_directory_path() / fmt::format("lockstep-compare-{}", ::getpid());
  std::filesystem::remove_all(dir);
  const auto r =
      run_lockstep(compare_args(fmt::format("--failover-trials 3 --report {}", dir.string())));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // The verdict table has a column per protocol, then the metrics and the failover experiment.
  const auto verdicts = r.out.find("property          raft  paxos  zab");
  const auto metrics = r.out.find("availability");
  const auto failover = r.out.find("failover experiment: 3 trials per protocol, 5 servers");
  ASSERT_NE(verdicts, std::string::npos) << r.out;
  ASSERT_NE(metrics, std::string::npos) << r.out;
  ASSERT_NE(failover, std::string::npos) << r.out;
  EXPECT_LT(verdicts, metrics);
  EXPECT_LT(metrics, failover);
  EXPECT_NE(r.out.find("invariants        pass  pass   pass"), std::string::npos) << r.out;
  for (const char* p : {"raft", "paxos", "zab"}) {
    EXPECT_NE(r.out.find(fmt::format("outcome    {:<6} pass (expected pass): as expected", p)),
              std::string::npos)
        << r.out;
    EXPECT_TRUE(std::filesystem::exists(dir / p / "report.html")) << p;
    EXPECT_TRUE(std::filesystem::exists(dir / fmt::format("failover-{}.csv", p))) << p;
  }
  std::ifstream in(dir / "report.html");
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(html.find("Failover time after a leader crash"), std::string::npos);
  EXPECT_LT(html.find("<th>property</th><th>raft</th><th>paxos</th><th>zab</th>"), html.find("<svg"));
  EXPECT_EQ(html.find("http://"), std::string::npos);
  // The same comparison again: the same bytes.
  const auto again_dir = dir.string() + "-again";
  ASSERT_EQ(run_lockstep(compare_args(fmt::format("--failover-trials 3 --report {}", again_dir)))
                .exit_code,
            0);
  std::ifstream again_in(std::filesystem::path(again_dir) / "report.html");
  const std::string again((std::istreambuf_iterator<char>(again_in)),
                          std::istreambuf_iterator<char>());
  EXPECT_EQ(html, again);
  std::filesystem::remove_all(again_dir);

  // One protocol, the same seed: the same run as in the comparison (same trace hash).
  const auto one = run_lockstep(compare_args("--protocol zab --failover-trials 0"));
  ASSERT_EQ(one.exit_code, 0) << one.out;
  const auto hash_line = [](const std::string& out) {
    const auto at = out.find("trace hash");
    return out.substr(at, out.find('\n', at) - at);
  };
  const std::string zab_hash = hash_line(one.out);
  EXPECT_NE(hash_line(r.out).find(zab_hash.substr(zab_hash.rfind(' ') + 1)), std::string::npos);
  EXPECT_EQ(one.out.find("failover experiment"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace compare_cli_test
}  // namespace lockstep
