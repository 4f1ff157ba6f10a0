// Group commit (service/replica_host.h): a leader whose disk is busy gathers the writes that
// arrive and proposes them together once its syncs complete, and Raft sends a step's proposals as
// one append per follower. Under load on a slow disk, a command then costs far fewer messages
// than the request, an append and an acknowledgement per follower, and the reply it costs alone.
#include <gtest/gtest.h>

#include <string>

#include "harness/run.h"
#include "harness/scenario.h"

namespace lockstep::harness {
namespace group_commit_test {
namespace {

// 3 servers on a 2-5ms disk, 20 clients each writing again 1ms after its reply: the leader's
// disk is busy nearly all the time, so most writes arrive while a sync is in flight.
Scenario busy_disk(const std::string& protocol) {
  Scenario s;
  s.name = "group-commit-" + protocol;
  s.protocols = {protocol};
  s.nodes = 3;
  s.seed = 7;
  s.duration = seconds(5);
  s.network.latency.kind = sim::LatencyDistribution::Kind::uniform;
  s.network.latency.min = microseconds(200);
  s.network.latency.max = milliseconds(1);
  s.disk.sync_latency.kind = sim::LatencyDistribution::Kind::uniform;
  s.disk.sync_latency.min = milliseconds(2);
  s.disk.sync_latency.max = milliseconds(5);
  s.clients = {ClientGroup{AppendWorkload{milliseconds(1)}, 20}};
  s.checks.liveness_bound = seconds(1);
  return s;
}

TEST(GroupCommit, RaftLeaderSendsTheWritesGatheredDuringASyncAsOneAppendPerFollower) {
  const Scenario s = busy_disk("raft");
  const RunResult r = run_scenario(s, RunOptions{std::nullopt, "raft", nullptr});
  ASSERT_TRUE(r.as_expected) << r.observed;
  ASSERT_GT(r.clients.ok, 1000u);
  // One at a time, each write would cost 6 messages here: request, 2 appends, 2 acks, reply.
  // Batched, the appends and acks are shared: a little over 2 per write (request and reply).
  const double per_write = static_cast<double>(r.messages_sent) / static_cast<double>(r.clients.ok);
  EXPECT_LT(per_write, 3.0) << r.messages_sent << " messages for " << r.clients.ok << " writes";
}

TEST(GroupCommit, EveryProtocolStaysCorrectAndLiveWithBatchedWrites) {
  for (const std::string protocol : {"raft", "paxos", "zab"}) {
    const Scenario s = busy_disk(protocol);
    const RunResult r = run_scenario(s, RunOptions{std::nullopt, protocol, nullptr});
    EXPECT_TRUE(r.as_expected) << protocol << ": " << r.observed;
    EXPECT_GT(r.clients.ok, 1000u) << protocol;
  }
}

}  // namespace
}  // namespace group_commit_test
}  // namespace lockstep::harness
