// Restart from persisted records (Figure 2 "persistent state") and snapshots (§7).
#include <gtest/gtest.h>

#include "tests/protocols/raft/raft_test_cluster.h"

namespace lockstep::raft {
namespace raft_restart_snapshot_test {
namespace {

using testing::TestCluster;

TEST(RaftRestart, RecoversTermVoteAndLog) {
  TestCluster c(3);
  c.elect(0);
  c.commit(0, "a");
  c.commit(0, "b");
  const Term term = c.node(1).term();
  const auto vote = c.node(1).voted_for();
  const auto digest = c.node(1).log().last_digest();
  const LogIndex last = c.node(1).log().last_index();
  c.crash(1);
  c.start(1);
  EXPECT_EQ(c.node(1).term(), term);
  EXPECT_EQ(c.node(1).voted_for(), vote);
  EXPECT_EQ(c.node(1).log().last_index(), last);
  EXPECT_EQ(c.node(1).log().last_digest(), digest);
  EXPECT_EQ(c.node(1).role(), RaftRole::follower);
  // The commit index is volatile: relearned from the leader, and the commands re-applied.
  EXPECT_EQ(c.node(1).commit_index(), LogIndex{0});
  c.run_for(milliseconds(100));
  EXPECT_EQ(c.applied(1), (std::vector<std::string>{"a", "b"}));
}

TEST(RaftRestart, RestartedNodeDoesNotVoteTwiceInATerm_5_2) {
  RaftConfig config = testing::test_config();
  config.prevote = false;
  config.check_quorum = false;
  TestCluster c(3, config);
  c.node(1).receive(c.now(), NodeId{0},
                    encode(RaftMessage{VoteRequest{Term{1}, LogIndex{0}, Term{0}, false, false}}));
  c.collect(1);
  c.crash(1);
  c.start(1);
  c.node(1).receive(c.now(), NodeId{2},
                    encode(RaftMessage{VoteRequest{Term{1}, LogIndex{0}, Term{0}, false, false}}));
  const consensus::Output out = c.collect(1);
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_FALSE(std::get<VoteResponse>(testing::decoded(out.messages[0].payload)).granted);
}

TEST(RaftRestart, LeaderCrashElectsAnotherAndNothingCommittedIsLost_5_4) {
  TestCluster c(5);
  c.elect(0);
  for (int i = 0; i < 5; ++i) c.commit(0, testing::numbered("c", i));
  c.crash(0);
  c.run_for(seconds(1));
  const auto leader = c.leader();
  ASSERT_TRUE(leader.has_value());
  ASSERT_NE(*leader, 0u);
  c.commit(*leader, "after");
  c.start(0);
  c.run_for(milliseconds(200));
  const std::vector<std::string> expected{"c0", "c1", "c2", "c3", "c4", "after"};
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(c.applied(i), expected) << "node " << i;
}

TEST(RaftSnapshot, CompactRewritesTheRecordLog_7) {
  TestCluster c(3);
  c.elect(0);
  for (int i = 0; i < 5; ++i) c.commit(0, testing::numbered("c", i));
  c.node(0).compact(c.now(), 4, to_bytes("state@4"));
  const consensus::Output out = c.collect(0);
  EXPECT_TRUE(out.persist_rewrite);
  EXPECT_TRUE(out.sync_before_send);
  ASSERT_EQ(out.persist.size(), 3u);  // hard state, snapshot, the entries after it
  EXPECT_TRUE(std::holds_alternative<HardStateRecord>(*decode_record(out.persist[0])));
  const auto snap = std::get<SnapshotRecord>(*decode_record(out.persist[1]));
  EXPECT_EQ(snap.last_index, LogIndex{4});
  EXPECT_EQ(snap.members, (std::vector<NodeId>{NodeId{0}, NodeId{1}, NodeId{2}}));
  const auto rest = std::get<EntriesRecord>(*decode_record(out.persist[2]));
  EXPECT_EQ(rest.first_index, LogIndex{5});
  EXPECT_EQ(rest.entries.size(), 2u);
  EXPECT_EQ(c.node(0).log().snapshot_index(), LogIndex{4});
  EXPECT_EQ(c.node(0).log().first_index(), LogIndex{5});
}

TEST(RaftSnapshot, RestartFromSnapshotAsksHostToInstallIt_7) {
  TestCluster c(3);
  c.elect(0);
  for (int i = 0; i < 4; ++i) c.commit(0, testing::numbered("c", i));
  c.snapshot(1);
  const LogIndex snap = c.node(1).log().snapshot_index();
  ASSERT_GT(snap, LogIndex{0});
  c.crash(1);
  c.start(1);
  EXPECT_EQ(c.node(1).log().snapshot_index(), snap);
  EXPECT_EQ(c.node(1).commit_index(), snap);
  EXPECT_EQ(c.applied(1), (std::vector<std::string>{"c0", "c1", "c2", "c3"}));
}

TEST(RaftSnapshot, LaggingFollowerReceivesInstallSnapshot_7) {
  TestCluster c(3);
  c.elect(0);
  c.crash(2);
  for (int i = 0; i < 6; ++i) c.commit(0, testing::numbered("c", i));
  c.snapshot(0);  // the leader no longer has the entries node 2 needs
  c.commit(0, "c6");
  c.start(2);
  c.run_for(milliseconds(200));
  EXPECT_GE(c.node(2).log().snapshot_index(), LogIndex{7});
  EXPECT_EQ(c.applied(2), c.applied(0));
  EXPECT_EQ(c.applied(2).back(), "c6");
  // The installed snapshot is durable: a restart reloads it.
  c.crash(2);
  c.start(2);
  EXPECT_GE(c.node(2).log().snapshot_index(), LogIndex{7});
}

TEST(RaftSnapshot, SnapshotOfEntriesTheFollowerHoldsOnlyAdvancesItsCommit_7) {
  auto follower = std::make_unique<RaftReplica>(
      testing::test_config(), NodeId{1}, std::vector<NodeId>{NodeId{0}, NodeId{1}, NodeId{2}}, 1);
  follower->recover(milliseconds(1), testing::records_with_log(Term{1}, testing::terms({{1, 3}})));
  follower->take_output();
  follower->receive(seconds(1), NodeId{0},
                    encode(RaftMessage{SnapshotRequest{
                        Term{1}, LogIndex{2}, Term{1}, *follower->log().digest_at(LogIndex{2}),
                        {NodeId{0}, NodeId{1}, NodeId{2}}, to_bytes("s"), 0}}));
  const consensus::Output out = follower->take_output();
  EXPECT_FALSE(out.snapshot);
  EXPECT_EQ(out.committed.size(), 2u);
  EXPECT_EQ(follower->commit_index(), LogIndex{2});
  EXPECT_EQ(follower->log().last_index(), LogIndex{3});
}

TEST(RaftSnapshot, WantsSnapshotOnceThresholdEntriesAreApplied_7) {
  RaftConfig config = testing::test_config();
  config.snapshot_threshold = 3;
  TestCluster c(1, config);
  c.elect(0);
  c.commit(0, "a");
  EXPECT_FALSE(c.node(0).wants_snapshot());
  c.commit(0, "b");
  EXPECT_TRUE(c.node(0).wants_snapshot());
  c.snapshot(0);
  EXPECT_FALSE(c.node(0).wants_snapshot());
}

}  // namespace
}  // namespace raft_restart_snapshot_test
}  // namespace lockstep::raft
