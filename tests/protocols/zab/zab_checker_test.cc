// The Zab cluster checker against fabricated broken ensembles: each property must be reported by
// name when, and only when, it is broken. Broken states are built from real replicas given
// inconsistent pasts (separate one-server ensembles, forged record logs, messages by hand).
#include <gtest/gtest.h>

#include "tests/protocols/zab/zab_test_solo.h"

namespace lockstep::zab {
namespace zab_checker_test {
namespace {

using testing::Solo;
using testing::txn;

// A one-server ensemble whose only server elects itself, is established, and proposes
// `commands`; they are delivered unless `deliver` is false.
std::unique_ptr<ZabReplica> solo_leader(std::uint32_t self, const std::vector<Bytes>& records,
                                        const std::vector<std::string>& commands,
                                        bool deliver = true) {
  auto r = std::make_unique<ZabReplica>(testing::test_config(), NodeId{self},
                                        std::vector<NodeId>{NodeId{self}}, 11);
  r->recover(milliseconds(1), records);
  r->take_output();
  for (int i = 0; i < 3 && !r->established(); ++i) {
    r->tick(r->next_tick());
    r->take_output();
  }
  EXPECT_TRUE(r->established());
  for (const auto& c : commands) r->propose(seconds(1), to_bytes(c));
  r->take_output();
  if (deliver) {
    r->tick(seconds(1));
    r->take_output();
  }
  return r;
}

std::optional<consensus::Violation> check(ZabChecker& checker,
                                          std::vector<const ZabReplica*> replicas) {
  std::vector<const consensus::Replica*> view(replicas.begin(), replicas.end());
  return checker.check(view);
}

TEST(ZabChecker, ListsEveryProperty) {
  const auto names = ZabChecker().properties();
  for (const char* p : {"one_leader_per_epoch", "primary_order", "primary_integrity", "agreement",
                        "synced_prefix", "epoch_monotonic", "commit_monotonic"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), p), names.end()) << p;
  }
}

TEST(ZabChecker, AHealthyEnsemblePassesWithCrashedServersAsNull) {
  testing::TestCluster c(3);  // checks after every step and fails the test on a violation
  const auto leader = c.settle();
  ASSERT_TRUE(leader);
  c.commit(*leader, "a");
  c.crash((*leader + 1) % 3);
  c.commit(*leader, "b");
  c.start((*leader + 1) % 3);
  c.run_for(milliseconds(300));
  EXPECT_FALSE(c.violation());
}

TEST(ZabChecker, ReportsTwoEstablishedLeadersOfOneEpoch) {
  auto a = solo_leader(0, {}, {});
  auto b = solo_leader(1, {}, {});
  ASSERT_EQ(a->current_epoch(), b->current_epoch());
  ZabChecker checker;
  const auto v = check(checker, {a.get(), b.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "one_leader_per_epoch");
}

TEST(ZabChecker, ReportsTwoLeadersOfOneEpochAcrossTime) {
  auto a = solo_leader(0, {}, {});
  ZabChecker checker;
  EXPECT_FALSE(check(checker, {a.get(), nullptr}));
  auto b = solo_leader(1, {}, {});
  const auto v = check(checker, {nullptr, b.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "one_leader_per_epoch");
}

// n0 delivered "x" in epoch 1; n1 leads epoch 6 without it.
TEST(ZabChecker, ReportsALeaderMissingWhatAnEarlierEpochDelivered) {
  auto a = solo_leader(0, {}, {"x"});
  auto b = solo_leader(1, testing::records_with(Epoch{5}, Epoch{5}, {}), {});
  ZabChecker checker;
  EXPECT_FALSE(check(checker, {a.get(), nullptr}));
  const auto v = check(checker, {a.get(), b.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "primary_integrity");
}

// n1 (epoch 6) delivered "y" at position 1; then n0 (epoch 1) delivers "x" there.
TEST(ZabChecker, ReportsTwoTransactionsDeliveredAtOnePosition) {
  auto b = solo_leader(1, testing::records_with(Epoch{5}, Epoch{5}, {}), {"y"});
  ZabChecker checker;
  EXPECT_FALSE(check(checker, {nullptr, b.get()}));
  auto a = solo_leader(0, {}, {"x"});
  const auto v = check(checker, {a.get(), b.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "agreement");
}

// n0, leader of epoch 1, broadcast (1,1) = "x"; n1 delivers a (1,1) that says "z".
TEST(ZabChecker, ReportsADeliveredTransactionItsEpochsLeaderNeverBroadcast) {
  auto a = solo_leader(0, {}, {"x"}, /*deliver=*/false);
  ZabChecker checker;
  EXPECT_FALSE(check(checker, {a.get(), nullptr}));
  std::vector<Bytes> forged = testing::records_with(Epoch{1}, Epoch{1}, {});
  forged.push_back(encode(ZabRecord{TxnsRecord{Position{1}, {txn(1, 1, "z")}}}));
  auto c = solo_leader(1, forged, {});
  const auto v = check(checker, {a.get(), c.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "primary_order");
}

// n0 is made to believe it synchronized with n1 in epoch 1 and holds (1,1); n1, the established
// leader of epoch 1, holds nothing.
TEST(ZabChecker, ReportsASyncedFollowerThatIsNotAPrefixOfItsLeader) {
  auto leader = solo_leader(1, {}, {});
  Solo f(0);
  const std::uint64_t session = f.follow(1, {2});
  f.sync_with(1, session, Epoch{1}, {txn(1, 1, "fake")}, Zxid{});
  ASSERT_TRUE(f.r().synced());
  ZabChecker checker;
  const auto v = check(checker, {&f.r(), leader.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "synced_prefix");
}

TEST(ZabChecker, ReportsAnEpochThatWentBack) {
  auto before = std::make_unique<Solo>(0, 3, testing::test_config(),
                                       testing::records_with(Epoch{5}, Epoch{5}, {}));
  ZabChecker checker;
  EXPECT_FALSE(check(checker, {&before->r()}));
  Solo after(0, 3, testing::test_config(), testing::records_with(Epoch{5}, Epoch{3}, {}));
  before.reset();
  const auto v = check(checker, {&after.r()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "epoch_monotonic");
}

// forget_unsynced: an epoch that was never synced may be gone after the crash that cut the sync.
TEST(ZabChecker, ForgivesAnUnsyncedEpochAfterForgetUnsynced) {
  auto before = std::make_unique<Solo>(0, 3, testing::test_config(),
                                       testing::records_with(Epoch{5}, Epoch{5}, {}));
  ZabChecker checker;
  EXPECT_FALSE(check(checker, {&before->r()}));
  before.reset();
  EXPECT_FALSE(check(checker, {nullptr}));
  checker.forget_unsynced(0);
  Solo after(0, 3, testing::test_config(), testing::records_with(Epoch{4}, Epoch{3}, {}));
  EXPECT_FALSE(check(checker, {&after.r()}));
}

// A follower that delivered through position 2 is cut back to position 1 in a new session.
TEST(ZabChecker, ReportsACommitPositionThatWentBack) {
  Solo f(0);
  const std::uint64_t session = f.follow(1, {2});
  f.sync_with(1, session, Epoch{1}, {txn(0, 1, "a"), txn(0, 2, "b")}, Zxid{Epoch{0}, 2});
  ASSERT_EQ(f.r().commit_position(), Position{2});
  ZabChecker checker;
  EXPECT_FALSE(check(checker, {&f.r()}));
  // A gap that never closes: the follower reconnects, and the "leader" answers with a TRUNC.
  f.feed(1, Ping{session, f.next_seq() + 1, 1});
  f.advance(f.r().config().gap_timeout);
  const auto infos = f.sent_of<FollowerInfo>(1);
  ASSERT_EQ(infos.size(), 1u);
  f.feed(1, NewEpoch{infos[0].session, 1, Epoch{1}});
  f.feed(1, Trunc{infos[0].session, 2, Zxid{Epoch{0}, 1}});
  const auto v = check(checker, {&f.r()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "commit_monotonic");
}

}  // namespace
}  // namespace zab_checker_test
}  // namespace lockstep::zab
