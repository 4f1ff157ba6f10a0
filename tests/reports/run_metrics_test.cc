// Availability and failover times (reports/run_metrics.h) on hand-made timelines, with values a
// plausible but wrong computation would miss: calls that wait by design, a return on a bucket
// boundary, commits after the run's duration, a follower's blip, a cut-off leader.
#include "reports/run_metrics.h"

#include <gtest/gtest.h>

namespace lockstep::reports {
namespace run_metrics_test {
namespace {

using consensus::Role;
using harness::CallRecord;
using harness::CallResult;
using harness::FaultKind;
using harness::FaultWindow;
using harness::RoleSpan;
using harness::RunTimeline;

Nanos ms(std::int64_t n) { return milliseconds(n); }

RoleSpan follower(std::uint32_t node, std::int64_t from_ms, std::int64_t until_ms,
                  std::uint64_t term, std::optional<std::uint32_t> leader) {
  return RoleSpan{node, ms(from_ms), ms(until_ms), true, Role::follower, term,
                  leader ? std::optional(NodeId{*leader}) : std::nullopt};
}
RoleSpan leading(std::uint32_t node, std::int64_t from_ms, std::int64_t until_ms,
                 std::uint64_t term) {
  return RoleSpan{node, ms(from_ms), ms(until_ms), true, Role::leader, term, NodeId{node}};
}
RoleSpan down(std::uint32_t node, std::int64_t from_ms, std::int64_t until_ms) {
  return RoleSpan{node, ms(from_ms), ms(until_ms), false, Role::follower, 0, std::nullopt};
}

TEST(Availability, BucketsWithDemandThatSawACommit) {
  RunTimeline t;
  t.servers = 3;
  t.duration = seconds(1);
  t.end = ms(1500);
  t.calls = {
      // Outstanding over [0, 400ms): buckets 0..3, not 4 (it returned as bucket 4 began).
      CallRecord{0, "append", ms(0), ms(400), CallResult::ok, false},
      // Waits by design (an acquire behind another holder): no demand on the service.
      CallRecord{1, "acquire", ms(400), ms(550), CallResult::ok, true},
      CallRecord{2, "append", ms(600), ms(620), CallResult::ok, false},
      // Never returned: outstanding to the end, but only buckets inside the duration count.
      CallRecord{0, "append", ms(900), std::nullopt, CallResult::unknown, false},
  };
  // Buckets 0, 2, 6 progress; the commit at 1.2s is past the duration.
  t.commits = {{ms(50), 1}, {ms(250), 2}, {ms(610), 3}, {ms(1200), 4}};
  const Availability a = compute_availability(t);
  EXPECT_EQ(a.demand_buckets, 6U);  // 0, 1, 2, 3, 6, 9
  EXPECT_EQ(a.available_buckets, 3U);
  ASSERT_TRUE(a.fraction().has_value());
  EXPECT_DOUBLE_EQ(*a.fraction(), 0.5);
  // Wider buckets: [0, 500) and [500, 1000) both have demand and progress.
  const Availability wide = compute_availability(t, ms(500));
  EXPECT_EQ(wide.demand_buckets, 2U);
  EXPECT_EQ(wide.available_buckets, 2U);
}

TEST(Availability, NoDemandIsNoVerdict) {
  RunTimeline t;
  t.servers = 3;
  t.duration = seconds(1);
  t.end = seconds(1);
  t.commits = {{ms(50), 1}};
  EXPECT_FALSE(compute_availability(t).fraction().has_value());
}

// Three servers. n0 leads term 1 from 1s, crashes at 4s (down until 6s); n1 wins term 2 at 4.5s
// and n2 hears it at 4.6s. At 7s a partition cuts n1 off; n2 leads term 3 from 7.1s and n0 names
// it at 7.2s. The partition heals at 8s; n1, follower without a leader, names n2 at 8.1s: a blip
// on (n2, 3), not a failover.
RunTimeline two_failovers() {
  RunTimeline t;
  t.servers = 3;
  t.duration = seconds(9);
  t.end = seconds(10);
  t.roles = {
      follower(0, 0, 1000, 0, std::nullopt), leading(0, 1000, 4000, 1), down(0, 4000, 6000),
      follower(0, 6000, 7200, 2, 1), follower(0, 7200, 10000, 3, 2),
      follower(1, 0, 1000, 0, std::nullopt), follower(1, 1000, 4300, 1, 0),
      RoleSpan{1, ms(4300), ms(4500), true, Role::candidate, 2, std::nullopt},
      leading(1, 4500, 7600, 2), follower(1, 7600, 8100, 3, std::nullopt),
      follower(1, 8100, 10000, 3, 2),
      follower(2, 0, 1000, 0, std::nullopt), follower(2, 1000, 4400, 1, 0),
      follower(2, 4400, 4600, 2, std::nullopt), follower(2, 4600, 7100, 2, 1),
      leading(2, 7100, 10000, 3),
  };
  t.faults = {FaultWindow{FaultKind::crash, ms(4000), ms(6000), "crash n0", {0}},
              FaultWindow{FaultKind::partition, ms(7000), ms(8000), "partition {1} | {0,2}", {1}}};
  return t;
}

TEST(RunFailovers, FromLosingTheLeaderUntilEveryLiveServerNamesTheNewOne) {
  const std::vector<FailoverEpisode> episodes = compute_failovers(two_failovers());
  ASSERT_EQ(episodes.size(), 2U);  // the first election and the blip at 8s are not failovers
  EXPECT_EQ(episodes[0].old_leader, NodeId{0});
  EXPECT_EQ(episodes[0].old_term, 1U);
  EXPECT_EQ(episodes[0].lost_at, ms(4000));
  EXPECT_EQ(episodes[0].new_leader, NodeId{1});
  EXPECT_EQ(episodes[0].new_term, 2U);
  // Not 4.5s (when n1 became leader): n2 named it only at 4.6s. n0 is down, so not waited for.
  EXPECT_EQ(episodes[0].took(), ms(600));
  // The cut-off leader is lost when the partition starts, though it still believes it leads;
  // the cut-off server is not waited for.
  EXPECT_EQ(episodes[1].old_leader, NodeId{1});
  EXPECT_EQ(episodes[1].lost_at, ms(7000));
  EXPECT_EQ(episodes[1].new_leader, NodeId{2});
  EXPECT_EQ(episodes[1].took(), ms(200));
}

TEST(RunFailovers, SettledSpansTileTheRun) {
  const std::vector<SettledSpan> spans = settled_spans(two_failovers());
  ASSERT_FALSE(spans.empty());
  EXPECT_EQ(spans.front().from, Nanos::zero());
  EXPECT_EQ(spans.back().until, seconds(10));
  for (std::size_t i = 1; i < spans.size(); ++i) {
    EXPECT_EQ(spans[i].from, spans[i - 1].until);
    EXPECT_NE(spans[i].on, spans[i - 1].on);  // adjacent spans differ, or they would be one
  }
  // [8s, 8.1s): n1 is back and names nobody.
  const auto blip = std::find_if(spans.begin(), spans.end(),
                                 [](const SettledSpan& s) { return s.from == ms(8000); });
  ASSERT_NE(blip, spans.end());
  EXPECT_FALSE(blip->on.has_value());
  EXPECT_EQ(blip->until, ms(8100));
}

TEST(RunFailovers, ALeaderNeverReplacedLeavesAnOpenEpisode) {
  RunTimeline t;
  t.servers = 3;
  t.duration = seconds(5);
  t.end = seconds(5);
  t.roles = {leading(0, 0, 2000, 1),       down(0, 2000, 5000),
             follower(1, 0, 5000, 1, 0),    follower(2, 0, 2000, 1, 0),
             follower(2, 2000, 5000, 2, std::nullopt)};
  const auto episodes = compute_failovers(t);
  ASSERT_EQ(episodes.size(), 1U);
  EXPECT_EQ(episodes[0].lost_at, ms(2000));
  EXPECT_FALSE(episodes[0].settled_at.has_value());
  EXPECT_FALSE(episodes[0].took().has_value());
}

}  // namespace
}  // namespace run_metrics_test
}  // namespace lockstep::reports
