// The leader-change expectation: counted from its time on, judged as its own row, and part of
// whether a run ended as expected.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "harness/protocols.h"
#include "harness/run.h"
#include "harness/scenario.h"
#include "reports/run_report.h"

namespace lockstep::harness {
namespace run_leadership_test {
namespace {

// Three servers; the leader is isolated at 1s and the cluster heals at 2s: one failover.
Scenario one_failover(std::string_view expect) {
  const std::string text = R"({"protocol": "raft", "nodes": 3, "duration": "3s",
      "clients": [{"workload": "append", "interval": "20ms", "request_timeout": "300ms"}],
      "faults": [{"at": "1s", "action": "partition", "kind": "isolate", "node": "leader"},
                 {"at": "2s", "action": "heal"}],
      "checks": {"liveness_bound": "1s"}, "expect": )" +
                           std::string(expect) + "}";
  auto loaded = parse_scenario_text(text, "one-failover.json", known_protocols());
  if (const auto* error = std::get_if<LoadError>(&loaded)) ADD_FAILURE() << error->message;
  return std::get<Scenario>(std::move(loaded));
}

RunResult run(const Scenario& s) { return run_scenario(s, RunOptions{std::nullopt, "raft", {}}); }

TEST(RunLeadership, IsolatingTheLeaderIsOneChangeAfterTheFirstElection) {
  const RunResult r = run(one_failover(R"({"leader_changes_min": 1, "leader_changes_max": 1,
                                           "leader_changes_after": "500ms"})"));
  ASSERT_TRUE(r.leadership.has_value());
  EXPECT_EQ(r.leadership->verdict, Verdict::pass);
  EXPECT_EQ(r.leadership->leader_changes, 1U);
  EXPECT_EQ(r.leadership->detail,
            "1 leader change after 500ms (expected exactly 1 leader change after 500ms)");
  EXPECT_TRUE(r.as_expected);
  EXPECT_EQ(r.expected, "pass, exactly 1 leader change after 500ms");
  EXPECT_EQ(r.observed, "pass, 1 leader change after 500ms");
}

TEST(RunLeadership, ChangesBeforeTheTimeDoNotCount) {
  const RunResult r = run(one_failover(R"({"leader_changes_max": 0, "leader_changes_after": "1.8s"})"));
  EXPECT_EQ(r.leadership->leader_changes, 0U);
  EXPECT_EQ(r.leader_changes, 1U);  // the whole run still sees the failover
  EXPECT_TRUE(r.as_expected);
}

TEST(RunLeadership, BoundNotMetMakesTheRunNotAsExpectedEvenWhenEveryPropertyHolds) {
  const RunResult r = run(one_failover(R"({"leader_changes_max": 0})"));
  EXPECT_EQ(r.leadership->verdict, Verdict::fail);
  EXPECT_FALSE(r.as_expected);
  EXPECT_EQ(r.observed, "pass, 1 leader change");
  EXPECT_EQ(r.expected, "pass, no leader change");
  const RunResult churn = run(one_failover(R"({"leader_changes_min": 3})"));
  EXPECT_EQ(churn.leadership->verdict, Verdict::fail);
  EXPECT_EQ(churn.leadership->detail, "1 leader change (expected at least 3 leader changes)");
  EXPECT_FALSE(churn.as_expected);
}

TEST(RunLeadership, NoBoundNoRow) {
  const RunResult r = run(one_failover(R"("pass")"));
  EXPECT_FALSE(r.leadership.has_value());
  EXPECT_EQ(r.expected, "pass");
  std::ostringstream out;
  reports::print_summary(out, r, "one-failover.json");
  EXPECT_EQ(out.str().find("leadership"), std::string::npos);
}

TEST(RunLeadership, SummaryPrintsTheRowBesideTheProperties) {
  const RunResult r = run(one_failover(R"({"leader_changes_max": 0})"));
  std::ostringstream out;
  reports::print_summary(out, r, "one-failover.json");
  EXPECT_NE(out.str().find("  leadership        FAIL     1 leader change (expected no leader "
                           "change)\n"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("NOT AS EXPECTED"), std::string::npos);
  const nlohmann::ordered_json j = reports::to_json(r);
  EXPECT_EQ(j.at("leadership").at("verdict"), "FAIL");
  EXPECT_EQ(j.at("leadership").at("leader_changes"), 1);
}

}  // namespace
}  // namespace run_leadership_test
}  // namespace lockstep::harness
