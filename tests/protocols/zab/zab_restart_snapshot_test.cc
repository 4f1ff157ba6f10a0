// Restart from persisted records (the paper's "persistent variables": acceptedEpoch, currentEpoch,
// history) and snapshots (compact(), SNAP, Output::snapshot).
#include <gtest/gtest.h>

#include "tests/protocols/zab/zab_test_cluster.h"

namespace lockstep::zab {
namespace zab_restart_snapshot_test {
namespace {

using testing::TestCluster;

TEST(ZabRestart, RecoversEpochsAndHistoryAndRelearnsTheCommitPosition) {
  TestCluster c(3);
  const auto leader = c.settle();
  ASSERT_TRUE(leader);
  c.commit(*leader, "a");
  c.commit(*leader, "b");
  const std::size_t f = (*leader + 1) % 3;
  const Epoch accepted = c.node(f).accepted_epoch();
  const Epoch current = c.node(f).current_epoch();
  const auto digest = c.node(f).history().last_digest();
  c.crash(f);
  c.start(f);
  EXPECT_EQ(c.node(f).accepted_epoch(), accepted);
  EXPECT_EQ(c.node(f).current_epoch(), current);
  EXPECT_EQ(c.node(f).history().last_position(), Position{2});
  EXPECT_EQ(c.node(f).history().last_digest(), digest);
  EXPECT_EQ(c.node(f).state(), ServerState::looking);
  EXPECT_EQ(c.node(f).commit_position(), Position{0});  // volatile: relearned from the leader
  c.run_for(milliseconds(300));
  EXPECT_EQ(c.delivered(f), (std::vector<std::string>{"a", "b"}));
}

// Primary integrity across a leader crash: the new leader's initial history holds everything
// delivered, and the old leader rejoins as a follower.
TEST(ZabRestart, LeaderCrashLosesNothingDelivered) {
  TestCluster c(5);
  const auto leader = c.settle();
  ASSERT_TRUE(leader);
  for (int i = 0; i < 5; ++i) c.commit(*leader, testing::numbered("c", i));
  const Epoch epoch = c.node(*leader).current_epoch();
  c.crash(*leader);
  c.run_for(seconds(1));
  const auto next = c.leader();
  ASSERT_TRUE(next);
  ASSERT_NE(*next, *leader);
  EXPECT_GT(c.node(*next).current_epoch(), epoch);
  c.commit(*next, "after");
  c.start(*leader);
  c.run_for(milliseconds(500));
  for (std::size_t i = 0; i < 5; ++i) {
    ASSERT_EQ(c.delivered(i).size(), 6u) << i;
    EXPECT_EQ(c.delivered(i), c.delivered(*next)) << i;
  }
}

// compact() drops the delivered prefix and rewrites the record log; a restart from it hands the
// host the snapshot first (Output::snapshot), then what commits after it.
TEST(ZabSnapshot, CompactionRewritesTheLogAndRecoveryInstallsTheSnapshot) {
  TestCluster c(3);
  const auto leader = c.settle();
  ASSERT_TRUE(leader);
  for (int i = 0; i < 4; ++i) c.commit(*leader, testing::numbered("c", i));
  const std::size_t f = (*leader + 1) % 3;
  c.snapshot(f);
  EXPECT_EQ(c.node(f).history().snapshot_position(), Position{4});
  ASSERT_EQ(c.disk(f).size(), 2u);  // the epochs and the snapshot; no transactions above it
  EXPECT_TRUE(std::holds_alternative<SnapshotRecord>(*decode_record(c.disk(f)[1])));
  c.crash(f);
  c.start(f);
  EXPECT_EQ(c.delivered(f).size(), 4u);  // from the snapshot, at once
  EXPECT_EQ(c.node(f).commit_position(), Position{4});
  c.commit(*leader, "after");
  c.run_for(milliseconds(300));
  EXPECT_EQ(c.delivered(f), c.delivered(*leader));
}

// A follower behind the leader's snapshot gets SNAP, installs it (Output::snapshot) and continues
// with the DIFF after it.
TEST(ZabSnapshot, AFollowerBehindTheSnapshotGetsSnap) {
  TestCluster c(3);
  const auto leader = c.settle();
  ASSERT_TRUE(leader);
  const std::size_t f = (*leader + 1) % 3;
  c.commit(*leader, "a");
  c.crash(f);
  for (int i = 0; i < 4; ++i) c.commit(*leader, testing::numbered("c", i));
  c.snapshot(*leader);
  c.commit(*leader, "tail");
  c.start(f);
  c.run_for(milliseconds(300));
  EXPECT_EQ(c.node(f).history().snapshot_position(), Position{5});
  EXPECT_EQ(c.node(f).history().last_position(), Position{6});
  EXPECT_EQ(c.delivered(f), c.delivered(*leader));
  EXPECT_EQ(c.delivered(f).size(), 6u);
}

}  // namespace
}  // namespace zab_restart_snapshot_test
}  // namespace lockstep::zab
