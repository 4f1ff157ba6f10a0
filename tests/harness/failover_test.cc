// The failover experiment: leader crashes at random moments, timed until every live server names
// the new leader (harness/failover.h), and the lockstep failover command around it.
#include "harness/failover.h"

#include <gtest/gtest.h>

#include "support/run_cli.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "harness/protocols.h"

namespace lockstep::harness {
namespace failover_test {
namespace {

FailoverSettings raft_settings(std::uint32_t nodes, std::uint32_t trials, std::string min,
                               std::string max) {
  FailoverSettings s;
  s.protocol = "raft";
  s.nodes = nodes;
  s.trials = trials;
  s.seed = 7;
  s.protocol_options = {{"election_timeout_min", min}, {"election_timeout_max", max},
                        {"heartbeat_interval", "50ms"}};
  return s;
}

TEST(Failover, TimesArePositiveAndBoundedByTheElectionTimeout) {
  // Raft §5.2: a follower starts an election once it has heard nothing for its timeout, drawn
  // from [min, max]. The crashed leader's last heartbeat left at most one heartbeat interval
  // before the crash, so no follower can move before min - heartbeat; and with no split vote
  // the first one moves by max, plus a few round trips (pre-vote, vote, first append).
  FailoverSettings s = raft_settings(5, 40, "150ms", "300ms");
  ASSERT_EQ(check_failover_settings(s), std::nullopt);
  const FailoverResult r = run_failover(s);
  ASSERT_EQ(r.trials.size(), 40u);
  EXPECT_EQ(r.summary.failed_over, 40u);
  EXPECT_EQ(r.summary.invalid, 0u);
  for (const FailoverTrial& t : r.trials) {
    ASSERT_EQ(t.outcome, TrialOutcome::failed_over) << t.detail;
    ASSERT_TRUE(t.crashed_leader && t.new_leader);
    EXPECT_NE(*t.crashed_leader, *t.new_leader);
    EXPECT_GT(t.new_term, t.crashed_term);
    EXPECT_GE(*t.failover, milliseconds(100)) << "trial " << t.trial;
    // A split vote costs at most about one more timeout.
    EXPECT_LE(*t.failover, milliseconds(2 * 300 + 50)) << "trial " << t.trial;
  }
  EXPECT_LE(r.summary.min, r.summary.median);
  EXPECT_LE(r.summary.median, r.summary.p99);
  EXPECT_LE(r.summary.p99, r.summary.max);
  EXPECT_LE(r.summary.median, milliseconds(300 + 20));
}

TEST(Failover, LargerElectionTimeoutGivesLongerFailover) {
  const FailoverResult fast = run_failover(raft_settings(3, 30, "150ms", "300ms"));
  const FailoverResult slow = run_failover(raft_settings(3, 30, "600ms", "1200ms"));
  EXPECT_EQ(fast.summary.failed_over, 30u);
  EXPECT_EQ(slow.summary.failed_over, 30u);
  EXPECT_GT(slow.summary.median, fast.summary.median + milliseconds(300));
  EXPECT_GE(slow.summary.min, milliseconds(550));
}

TEST(Failover, SameSeedGivesIdenticalCsv) {
  FailoverSettings s = raft_settings(5, 10, "150ms", "300ms");
  s.clients = 2;
  const std::string first = failover_csv(run_failover(s));
  EXPECT_EQ(first, failover_csv(run_failover(s)));
  EXPECT_EQ(std::count(first.begin(), first.end(), '\n'), 11) << first;
  EXPECT_EQ(first.rfind("trial,seed,outcome,", 0), 0u);
  s.seed = 8;
  EXPECT_NE(first, failover_csv(run_failover(s)));
}

TEST(Failover, CrashMomentsAreSpreadOverTheJitter) {
  const FailoverResult r = run_failover(raft_settings(3, 20, "150ms", "300ms"));
  Nanos lo = Nanos::max();
  Nanos hi = Nanos::zero();
  for (const FailoverTrial& t : r.trials) {
    lo = std::min(lo, t.crash_at);
    hi = std::max(hi, t.crash_at);
  }
  EXPECT_GT(hi - lo, milliseconds(300));  // uniform over 1s after the first stable leader
}

TEST(Failover, TrialsPastMaxWaitAreTimeouts) {
  FailoverSettings s = raft_settings(3, 5, "150ms", "300ms");
  s.max_wait = milliseconds(20);  // below the election timeout: no trial can make it
  const FailoverResult r = run_failover(s);
  EXPECT_EQ(r.summary.timeouts, 5u);
  EXPECT_EQ(r.summary.failed_over, 0u);
  EXPECT_EQ(r.summary.median, Nanos::zero());
  const std::string csv = failover_csv(r);
  EXPECT_NE(csv.find(",timeout,"), std::string::npos) << csv;
  for (const FailoverTrial& t : r.trials) EXPECT_FALSE(t.failover.has_value());
}

TEST(Failover, BadSettingsAreNamed) {
  FailoverSettings s;
  s.nodes = 2;
  EXPECT_EQ(check_failover_settings(s)->rfind("nodes: expected 3..9", 0), 0u);
  s = FailoverSettings{};
  s.protocol = "viewstamped";
  EXPECT_EQ(check_failover_settings(s)->rfind("protocol: expected one of raft", 0), 0u);
  s = FailoverSettings{};
  s.protocol_options = {{"election_timeout_min", "fast"}};
  EXPECT_EQ(check_failover_settings(s)->rfind("/protocol_options/raft/election_timeout_min: ", 0),
            0u);
  s = FailoverSettings{};
  s.network.latency.kind = sim::LatencyDistribution::Kind::uniform;
  s.network.latency.min = milliseconds(5);
  s.network.latency.max = milliseconds(1);
  EXPECT_EQ(check_failover_settings(s)->rfind("network: ", 0), 0u);
}

// Raft's real checker, plus a made-up invariant "the term never passes 1": the first election
// after the crash breaks it, and the trial must say so instead of reporting a time.
class TermOneChecker final : public consensus::ClusterChecker {
 public:
  std::vector<std::string> properties() const override { return {"term_one"}; }
  std::optional<consensus::Violation> check(std::span<const consensus::Replica* const> replicas,
                                            std::optional<std::size_t>) override {
    for (const consensus::Replica* r : replicas) {
      if (r != nullptr && r->status().term > 1) {
        return consensus::Violation{"term_one", "a replica reached term 2"};
      }
    }
    return std::nullopt;
  }
  void forget_unsynced(std::size_t) override {}
};

TEST(Failover, BrokenInvariantMarksTheTrialInvalid) {
  ProtocolModule module = *find_protocol("raft");
  module.make_checker = [] { return std::make_unique<TermOneChecker>(); };
  const FailoverResult r = run_failover(raft_settings(3, 3, "150ms", "300ms"), module);
  EXPECT_EQ(r.summary.invalid, 3u);
  EXPECT_EQ(r.summary.failed_over, 0u);
  for (const FailoverTrial& t : r.trials) {
    EXPECT_EQ(t.outcome, TrialOutcome::invalid);
    EXPECT_FALSE(t.failover.has_value());
    EXPECT_EQ(t.detail.rfind("invariant term_one broke at ", 0), 0u) << t.detail;
  }
  EXPECT_NE(failover_csv(r).find(",invalid,"), std::string::npos);
}

TEST(Failover, NearestRankPercentiles) {
  std::vector<Nanos> v;
  for (int i = 1; i <= 200; ++i) v.push_back(milliseconds(i));
  EXPECT_EQ(nearest_rank(v, 50), milliseconds(100));
  EXPECT_EQ(nearest_rank(v, 99), milliseconds(198));
  EXPECT_EQ(nearest_rank(v, 100), milliseconds(200));
  EXPECT_EQ(nearest_rank({milliseconds(3)}, 99), milliseconds(3));
}

// --- lockstep failover, as a user runs it ---------------------------------------------------

using lockstep::testing::CliResult;

CliResult lockstep(const std::string& args) { return lockstep::testing::run_lockstep(args); }

TEST(FailoverCli, BadFlagsGetOneLineAndExitCode2) {
  const std::pair<const char*, const char*> cases[] = {
      {"--latency gaussian:1ms", "lockstep failover: --latency: expected constant:D"},
      {"--latency uniform:2ms", "lockstep failover: --latency: expected constant:D"},
      {"--latency uniform:5ms-1ms", "lockstep failover: --latency: latency.min (5ms)"},
      {"--latency lognormal:1ms,x,3ms", "lockstep failover: --latency: expected constant:D"},
      {"--nodes 2", "lockstep failover: --nodes: expected an integer in 3..9, got \"2\""},
      {"--trials abc", "lockstep failover: --trials: expected an integer in 1..100000"},
      {"--protocol pax", "lockstep failover: --protocol: expected one of the protocols"},
      {"--election-timeout 500us-1ms", "lockstep failover: --election-timeout: "},
      {"--election-timeout 150ms-", "lockstep failover: --election-timeout: expected MIN-MAX"},
      {"--election-timeout 300ms-150ms", "lockstep failover: --election-timeout: "},
      {"--heartbeat 400ms", "lockstep failover: --heartbeat: "},
      {"--heartbeat soon", "lockstep failover: --heartbeat: expected a duration"},
      {"--max-wait 0s", "lockstep failover: --max-wait: expected a duration"},
      {"--options '{\"prevote\":3}'", "lockstep failover: --options: /prevote: "},
      {"--options '[1]'", "lockstep failover: --options: expected a JSON object"},
      {"--bogus 1", "lockstep failover: unknown flag --bogus"},
      {"extra", "lockstep failover: takes no file"},
  };
  for (const auto& [flags, expected] : cases) {
    const CliResult r = lockstep(std::string("failover ") + flags);
    EXPECT_EQ(r.exit_code, 2) << flags << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << flags << "\n" << r.out;
    EXPECT_EQ(r.out.rfind(expected, 0), 0u) << flags << "\n" << r.out;
  }
}

TEST(FailoverCli, HelpListsEveryFlag) {
  const CliResult r = lockstep("failover --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--protocol", "--nodes", "--trials", "--seed", "--election-timeout",
                           "--heartbeat", "--latency", "--out"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
}

TEST(FailoverCli, WritesCsvAndPlotAndPrintsTheSummary) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "lockstep-failover-cli-test";
  std::filesystem::remove_all(dir);
  const CliResult r = lockstep("failover --nodes 3 --trials 8 --seed 3 --election-timeout "
                               "200ms-400ms --heartbeat 40ms --latency lognormal:500us,5ms,20ms "
                               "--out " + dir.string());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  for (const char* text : {"failover   raft, 3 nodes, 8 trials, seed 3", "median", "p99",
                           "\"election_timeout_min\":\"200ms\""}) {
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.out;
  }
  std::ifstream csv(dir / "failover.csv");
  std::stringstream buffer;
  buffer << csv.rdbuf();
  const std::string text = buffer.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 9) << text;
  EXPECT_TRUE(std::filesystem::file_size(dir / "failover_cdf.svg") > 1000);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace failover_test
}  // namespace lockstep::harness
