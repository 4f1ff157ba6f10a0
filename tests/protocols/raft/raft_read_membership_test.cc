// Read barriers (thesis §6.4 ReadIndex, §6.4.1 leases) and single-server membership changes
// (thesis §4.1, §4.2.2).
#include <gtest/gtest.h>

#include "tests/protocols/raft/raft_test_cluster.h"

namespace lockstep::raft {
namespace raft_read_membership_test {
namespace {

using testing::TestCluster;

consensus::ProposeResult read(TestCluster& c, std::size_t i, std::uint64_t id) {
  auto r = c.node(i).read_barrier(c.now(), id);
  c.collect(i);
  return r;
}

// Node 0 wins an election; its no-op then reaches nobody, so it has committed nothing yet.
void elect_without_commit(TestCluster& c) {
  c.node(0).tick(c.node(0).next_tick());
  c.collect(0);
  while (c.node(0).role() != RaftRole::leader && c.deliver_one()) {
  }
  ASSERT_EQ(c.node(0).role(), RaftRole::leader);
  c.network().clear();
  c.isolate(0);
  c.node(0).tick(c.now());
  c.collect(0);
  ASSERT_EQ(c.node(0).commit_index(), LogIndex{0});
}

TEST(RaftReadIndex, ReadReadyOnlyAfterAQuorumConfirmsLeadership_6_4) {
  TestCluster c(3);
  c.elect(0);
  c.commit(0, "a");
  ASSERT_EQ(read(c, 0, 7).outcome, consensus::Outcome::accepted);
  EXPECT_TRUE(c.reads(0).empty()) << "must not answer before a heartbeat round";
  c.deliver_all();
  ASSERT_EQ(c.reads(0).size(), 1u);
  EXPECT_EQ(c.reads(0)[0].read_id, 7u);
  EXPECT_EQ(c.reads(0)[0].apply_index, c.node(0).commit_index().value);
}

TEST(RaftReadIndex, IsolatedLeaderCannotCompleteARead_6_4) {
  TestCluster c(3);
  c.elect(0);
  c.isolate(0);
  ASSERT_EQ(read(c, 0, 1).outcome, consensus::Outcome::accepted);
  c.run_for(milliseconds(100));
  EXPECT_TRUE(c.reads(0).empty());
}

TEST(RaftReadIndex, AcknowledgementOfAnOlderRoundDoesNotConfirm_6_4) {
  TestCluster c(3);
  c.elect(0);
  // Heartbeats of one round are in flight when the read arrives: acks to them predate the read.
  c.run_for(c.config().heartbeat_interval - milliseconds(1));
  c.advance(milliseconds(1));
  c.tick_due();
  ASSERT_EQ(c.network().size(), 2u);
  const std::uint64_t old_round = std::get<Heartbeat>(testing::decoded(c.network()[0].payload)).round;
  ASSERT_EQ(read(c, 0, 1).outcome, consensus::Outcome::accepted);
  // Lose the read's own round; deliver only the older one and its acknowledgements.
  std::erase_if(c.network(), [&](const testing::Envelope& e) {
    const auto m = decode_message(e.payload);
    return m && std::holds_alternative<Heartbeat>(*m) && std::get<Heartbeat>(*m).round != old_round;
  });
  ASSERT_EQ(c.network().size(), 2u);
  c.deliver_all();
  EXPECT_TRUE(c.reads(0).empty());
  // The next round confirms it.
  c.run_for(c.config().heartbeat_interval);
  EXPECT_EQ(c.reads(0).size(), 1u);
}

TEST(RaftReadIndex, NewLeaderWaitsForItsFirstCommit_6_4) {
  TestCluster c(3);
  elect_without_commit(c);
  ASSERT_EQ(read(c, 0, 1).outcome, consensus::Outcome::accepted);
  c.heal();
  // Heartbeats get through and confirm the round, but every AppendEntries is lost.
  while (!c.network().empty()) {
    const auto m = decode_message(c.network().front().payload);
    if (m && std::holds_alternative<AppendRequest>(*m)) {
      c.network().pop_front();
    } else {
      c.deliver_one();
    }
  }
  EXPECT_EQ(c.node(0).commit_index(), LogIndex{0});
  EXPECT_TRUE(c.reads(0).empty());
  c.run_for(c.config().heartbeat_interval * 2);  // the no-op is resent and commits
  ASSERT_EQ(c.reads(0).size(), 1u);
  EXPECT_GE(c.reads(0)[0].apply_index, 1u);  // at least the no-op of its term
}

TEST(RaftReadIndex, FollowerAnswersNotLeader_6_4) {
  TestCluster c(3);
  c.elect(0);
  const auto r = read(c, 1, 1);
  EXPECT_EQ(r.outcome, consensus::Outcome::not_leader);
  EXPECT_EQ(r.leader_hint, NodeId{0});
}

RaftConfig lease_config() {
  RaftConfig c = testing::test_config();
  c.lease_reads = true;
  return c;
}

TEST(RaftLeaseRead, ServedWithoutARoundWhileTheLeaseHolds_6_4_1) {
  TestCluster c(3, lease_config());
  c.elect(0);
  c.run_for(c.config().heartbeat_interval + milliseconds(1));  // one confirmed round
  ASSERT_TRUE(c.node(0).lease_valid(c.now()));
  ASSERT_EQ(read(c, 0, 5).outcome, consensus::Outcome::accepted);
  ASSERT_EQ(c.reads(0).size(), 1u) << "answered at once, no messages needed";
}

TEST(RaftLeaseRead, LeaseExpiresWithoutQuorumContact_6_4_1) {
  TestCluster c(3, lease_config());
  c.elect(0);
  c.run_for(c.config().heartbeat_interval + milliseconds(1));
  c.isolate(0);
  c.run_for(c.config().election_timeout_min - c.config().lease_clock_drift_bound);
  EXPECT_FALSE(c.node(0).lease_valid(c.now()));
}

TEST(RaftLeaseRead, RestartedFollowerStaysQuietWhileALeaseMayHold_6_4_1) {
  TestCluster c(3, lease_config());
  c.elect(0);
  c.crash(1);
  c.start(1);
  c.node(1).receive(c.now(), NodeId{2},
                    encode(RaftMessage{VoteRequest{c.node(1).term().next(),
                                                   c.node(1).log().last_index(),
                                                   c.node(1).log().last_term(), false, false}}));
  EXPECT_TRUE(c.collect(1).messages.empty());
  EXPECT_EQ(c.node(1).voted_for(), NodeId{0});
}

TEST(RaftLeaseRead, TransferVoidsTheLease_3_10) {
  TestCluster c(3, lease_config());
  c.elect(0);
  c.run_for(c.config().heartbeat_interval + milliseconds(1));
  ASSERT_TRUE(c.node(0).lease_valid(c.now()));
  c.node(0).transfer_leadership(c.now(), NodeId{1});
  c.collect(0);
  EXPECT_FALSE(c.node(0).lease_valid(c.now()));
}

// ---- Membership ---------------------------------------------------------------------------------

consensus::ProposeResult change(TestCluster& c, std::size_t i, consensus::MembershipChange::Kind kind,
                                std::uint32_t node) {
  auto r = c.node(i).change_membership(c.now(), {kind, NodeId{node}});
  c.collect(i);
  return r;
}

constexpr auto kAdd = consensus::MembershipChange::Kind::add;
constexpr auto kRemove = consensus::MembershipChange::Kind::remove;

TEST(RaftMembership, AddedServerCatchesUpAndVotes_4_1) {
  TestCluster c(3);
  c.elect(0);
  c.commit(0, "a");
  const std::size_t n = c.add_node();
  ASSERT_EQ(change(c, 0, kAdd, static_cast<std::uint32_t>(n)).outcome, consensus::Outcome::accepted);
  c.deliver_all();
  c.run_for(milliseconds(100));
  EXPECT_EQ(c.node(n).members().size(), 4u);
  EXPECT_EQ(c.applied(n), std::vector<std::string>{"a"});
  // The quorum is now 3 of 4: with two members down nothing commits.
  c.crash(1);
  c.crash(2);
  c.propose(0, "b");
  c.run_for(milliseconds(100));
  EXPECT_EQ(c.applied(0), std::vector<std::string>{"a"});
}

TEST(RaftMembership, ConfigurationWaitsUntilTheNewServerHoldsTheLog_4_2_1) {
  TestCluster c(3);
  c.elect(0);
  c.commit(0, "a");
  c.commit(0, "b");
  const std::size_t n = c.add_node();
  ASSERT_EQ(change(c, 0, kAdd, static_cast<std::uint32_t>(n)).outcome, consensus::Outcome::accepted);
  // Nothing delivered yet: the new server is a learner, the configuration is not in the log.
  EXPECT_EQ(c.node(0).members().size(), 3u);
  EXPECT_EQ(c.node(0).log().last_index(), LogIndex{3});  // no-op, a, b
  c.deliver_all();
  EXPECT_EQ(c.node(0).members().size(), 4u);
  EXPECT_EQ(c.applied(n), (std::vector<std::string>{"a", "b"}));
}

TEST(RaftMembership, AnUnreachableNewServerNeverJoinsNorCounts_4_2_1) {
  TestCluster c(3);
  c.elect(0);
  c.commit(0, "a");
  const std::size_t n = c.add_node();
  c.isolate(n);
  ASSERT_EQ(change(c, 0, kAdd, static_cast<std::uint32_t>(n)).outcome, consensus::Outcome::accepted);
  // Another change waits for this one.
  EXPECT_EQ(change(c, 0, kRemove, 2).outcome, consensus::Outcome::busy);
  // While it catches up it has no vote: the old majority (0 and 1) still commits.
  c.crash(2);
  c.commit(0, "b");
  EXPECT_EQ(c.applied(1), (std::vector<std::string>{"a", "b"}));
  // It makes no progress for an election timeout: the leader gives up, configuration unchanged.
  c.run_for(c.config().election_timeout_max);
  EXPECT_EQ(c.node(0).members().size(), 3u);
  EXPECT_EQ(c.node(0).progress(NodeId{static_cast<std::uint32_t>(n)}), nullptr);
  EXPECT_EQ(change(c, 0, kRemove, 2).outcome, consensus::Outcome::accepted);
}

TEST(RaftMembership, WithoutCatchUpTheServerJoinsAtOnce_4_2_1) {
  RaftConfig config = testing::test_config();
  config.catch_up_rounds = 0;
  TestCluster c(3, config);
  c.elect(0);
  const std::size_t n = c.add_node();
  c.isolate(n);
  ASSERT_EQ(change(c, 0, kAdd, static_cast<std::uint32_t>(n)).outcome, consensus::Outcome::accepted);
  EXPECT_EQ(c.node(0).members().size(), 4u);  // in force as soon as appended
}

TEST(RaftMembership, RemovedFollowerNoLongerCountsTowardsQuorum_4_1) {
  TestCluster c(3);
  c.elect(0);
  ASSERT_EQ(change(c, 0, kRemove, 2).outcome, consensus::Outcome::accepted);
  c.deliver_all();
  c.run_for(milliseconds(60));
  EXPECT_EQ(c.node(0).members(), (std::vector<NodeId>{NodeId{0}, NodeId{1}}));
  c.crash(2);
  c.commit(0, "a");
  EXPECT_EQ(c.applied(1), std::vector<std::string>{"a"});
}

TEST(RaftMembership, OneChangeAtATime_4_1) {
  TestCluster c(5);
  c.elect(0);
  c.isolate(0);  // the first change cannot commit
  ASSERT_EQ(change(c, 0, kRemove, 4).outcome, consensus::Outcome::accepted);
  EXPECT_EQ(change(c, 0, kRemove, 3).outcome, consensus::Outcome::busy);
  c.heal();
  c.run_for(milliseconds(100));
  EXPECT_EQ(change(c, 0, kRemove, 3).outcome, consensus::Outcome::accepted);
}

TEST(RaftMembership, NewLeaderMustCommitAnEntryOfItsTermFirst_4_1) {
  TestCluster c(3);
  elect_without_commit(c);
  EXPECT_EQ(change(c, 0, kRemove, 2).outcome, consensus::Outcome::busy);
  c.heal();
  c.run_for(c.config().heartbeat_interval * 2);
  ASSERT_EQ(c.node(0).commit_index(), LogIndex{1});
  EXPECT_EQ(change(c, 0, kRemove, 2).outcome, consensus::Outcome::accepted);
}

TEST(RaftMembership, ConfigurationTakesEffectWhenAppendedAndRevertsIfTruncated_4_1) {
  auto r = std::make_unique<RaftReplica>(testing::test_config(), NodeId{1},
                                         std::vector<NodeId>{NodeId{0}, NodeId{1}, NodeId{2}}, 1);
  r->recover(milliseconds(1), {});
  AppendRequest m{Term{1}, LogIndex{0}, Term{0}, LogIndex{0}, 0, {}};
  m.entries.push_back(Entry{Term{1}, EntryKind::config, encode_members({NodeId{0}, NodeId{1}})});
  r->receive(seconds(1), NodeId{0}, encode(RaftMessage{m}));
  EXPECT_EQ(r->members(), (std::vector<NodeId>{NodeId{0}, NodeId{1}}));  // uncommitted, in force
  AppendRequest overwrite{Term{2}, LogIndex{0}, Term{0}, LogIndex{0}, 0, {}};
  overwrite.entries.push_back(Entry{Term{2}, EntryKind::noop, {}});
  r->receive(seconds(1), NodeId{2}, encode(RaftMessage{overwrite}));
  EXPECT_EQ(r->members(), (std::vector<NodeId>{NodeId{0}, NodeId{1}, NodeId{2}}));
}

TEST(RaftMembership, RemovedLeaderStepsDownOnceTheChangeCommits_4_2_2) {
  TestCluster c(3);
  c.elect(0);
  ASSERT_EQ(change(c, 0, kRemove, 0).outcome, consensus::Outcome::accepted);
  EXPECT_EQ(c.node(0).role(), RaftRole::leader) << "keeps leading until the change commits";
  c.deliver_all();
  EXPECT_NE(c.node(0).role(), RaftRole::leader);
  c.run_for(seconds(1));
  const auto leader = c.leader();
  ASSERT_TRUE(leader.has_value());
  EXPECT_NE(*leader, 0u);
  c.commit(*leader, "a");
  EXPECT_EQ(c.applied(1 + (*leader == 1 ? 1 : 0)), std::vector<std::string>{"a"});
}

TEST(RaftMembership, RemovingTheLastMemberIsUnsupported_4_1) {
  TestCluster c(1);
  c.elect(0);
  EXPECT_EQ(change(c, 0, kRemove, 0).outcome, consensus::Outcome::unsupported);
}

}  // namespace
}  // namespace raft_read_membership_test
}  // namespace lockstep::raft
