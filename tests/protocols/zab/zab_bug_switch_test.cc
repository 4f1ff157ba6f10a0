// The two bug switches of protocols/zab/README.md, each shown to break what it should, and its
// twin (the switch off) shown to hold.
#include <gtest/gtest.h>

#include "tests/protocols/zab/zab_test_solo.h"

namespace lockstep::zab {
namespace zab_bug_switch_test {
namespace {

using testing::Solo;
using testing::TestCluster;
using testing::txn;

ZabConfig with_ack_before_sync(bool on) {
  ZabConfig c = testing::test_config();
  c.ack_newleader_before_sync = on;
  return c;
}

ZabConfig with_diff_instead_of_trunc(bool on) {
  ZabConfig c = testing::test_config();
  c.diff_instead_of_trunc = on;
  return c;
}

// ZOOKEEPER-3911 class: with the switch on, NEWLEADER's ACK leaves once currentEpoch is synced,
// but the DIFF's transactions reach the log only at UPTODATE, without a sync.
TEST(ZabBugSwitch, AckNewLeaderBeforeSyncAcknowledgesTransactionsNotOnDisk) {
  Solo s(0, 3, with_ack_before_sync(true));
  const std::uint64_t session = s.follow(1, {2});
  s.feed(1, NewEpoch{session, 1, Epoch{2}});
  s.feed(1, Diff{session, 2, Zxid{}, {txn(1, 1, "a"), txn(1, 2, "b")}});
  EXPECT_TRUE(s.persisted().empty());
  s.feed(1, NewLeader{session, 3, Epoch{2}, Zxid{Epoch{1}, 2}});
  ASSERT_EQ(s.persisted().size(), 1u);
  EXPECT_TRUE(std::holds_alternative<EpochRecord>(s.persisted()[0]));
  EXPECT_EQ(s.sent_of<Ack>(1).size(), 1u);
  s.feed(1, UpToDate{session, 4, Zxid{Epoch{1}, 2}});
  ASSERT_EQ(s.persisted().size(), 1u);
  EXPECT_EQ(std::get<TxnsRecord>(s.persisted()[0]).txns.size(), 2u);
  EXPECT_FALSE(s.out().sync_before_send);
}

// n0 holds (1,2) and (1,3), which nobody else has, and is elected; it synchronizes n1 and n2 and
// commits them as its initial history of epoch 2. With the switch on, n1 and n2 acknowledged
// before those transactions were on disk: crashed right after, they lose them, and without n0
// they establish epoch 3 on a history that lacks what epoch 2 delivered.
std::optional<consensus::Violation> run_ack_before_sync(bool on) {
  TestCluster c(3, with_ack_before_sync(on), 1,
                {testing::records_with(Epoch{1}, Epoch{1}, testing::zxids({{1, 3}})),
                 testing::records_with(Epoch{1}, Epoch{1}, testing::zxids({{1, 1}})),
                 testing::records_with(Epoch{1}, Epoch{1}, testing::zxids({{1, 1}}))});
  c.lose_unsynced(true);
  c.expect_violation();
  EXPECT_EQ(c.settle(), 0u);
  EXPECT_EQ(c.delivered(1).size(), 3u);
  c.crash(1);
  c.crash(2);
  c.crash(0);
  c.start(1);
  c.start(2);
  c.run_for(seconds(2));
  return c.violation();
}

TEST(ZabBugSwitch, AckNewLeaderBeforeSyncLosesCommittedTransactions) {
  const auto v = run_ack_before_sync(true);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "primary_integrity");
}

TEST(ZabBugSwitch, WithoutAckNewLeaderBeforeSyncNothingIsLost) {
  EXPECT_FALSE(run_ack_before_sync(false));
}

// ZOOKEEPER-1154 class: n0 holds (1,3), a proposal of epoch 1 never committed; n1 and n2 moved on
// to epoch 2. When n0 rejoins, the switch sends it a DIFF of everything above (1,3) instead of a
// TRUNC to (1,2): n0 keeps (1,3), and its history is no longer a prefix of the leader's.
std::unique_ptr<TestCluster> run_diff_instead_of_trunc(bool on) {
  auto c = std::make_unique<TestCluster>(
      3, with_diff_instead_of_trunc(on), 1,
      std::vector<std::vector<Bytes>>{
          testing::records_with(Epoch{1}, Epoch{1}, testing::zxids({{1, 3}})),
          testing::records_with(Epoch{2}, Epoch{2}, testing::zxids({{1, 2}, {2, 2}})),
          testing::records_with(Epoch{2}, Epoch{2}, testing::zxids({{1, 2}, {2, 2}}))});
  c->expect_violation();
  EXPECT_EQ(c->settle(), 2u);
  c->run_for(milliseconds(100));
  return c;
}

TEST(ZabBugSwitch, DiffInsteadOfTruncKeepsAnUncommittedProposal) {
  const auto c = run_diff_instead_of_trunc(true);
  ASSERT_TRUE(c->violation());
  EXPECT_EQ(c->violation()->property, "synced_prefix");
  EXPECT_EQ(c->node(0).history().zxid_at(Position{3}), (Zxid{Epoch{1}, 3}));
}

TEST(ZabBugSwitch, WithoutDiffInsteadOfTruncTheProposalIsTruncated) {
  const auto c = run_diff_instead_of_trunc(false);
  EXPECT_FALSE(c->violation());
  EXPECT_EQ(c->node(0).history().zxid_at(Position{3}), (Zxid{Epoch{2}, 1}));
  EXPECT_EQ(c->delivered(0), c->delivered(2));
}

}  // namespace
}  // namespace zab_bug_switch_test
}  // namespace lockstep::zab
