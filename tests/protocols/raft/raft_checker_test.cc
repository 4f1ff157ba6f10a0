// The Raft cluster checker against fabricated broken clusters: each property must be reported by
// name when, and only when, it is broken. Broken states are built from real replicas that are
// given inconsistent histories (separate single-member clusters, or forged record logs).
#include <gtest/gtest.h>

#include "tests/protocols/raft/raft_test_cluster.h"

namespace lockstep::raft {
namespace raft_checker_test {
namespace {

using testing::records_with_log;
using testing::terms;

std::unique_ptr<RaftReplica> replica(NodeId self, std::vector<NodeId> members,
                                     const std::vector<Bytes>& records = {}) {
  auto r = std::make_unique<RaftReplica>(testing::test_config(), self, std::move(members), 11);
  r->recover(milliseconds(1), records);
  r->take_output();
  return r;
}

// A one-member cluster whose only node elects itself, then commits `commands`.
std::unique_ptr<RaftReplica> solo_leader(NodeId self, const std::vector<Bytes>& records,
                                         std::vector<std::string> commands) {
  auto r = replica(self, {self}, records);
  r->tick(r->next_tick());
  EXPECT_EQ(r->role(), RaftRole::leader);
  r->take_output();
  for (const auto& c : commands) r->propose(seconds(1), to_bytes(c));
  r->take_output();
  r->tick(seconds(1));
  r->take_output();
  return r;
}

std::optional<consensus::Violation> check(RaftChecker& checker,
                                          std::vector<const RaftReplica*> replicas) {
  std::vector<const consensus::Replica*> view(replicas.begin(), replicas.end());
  return checker.check(view);
}

TEST(RaftChecker, ListsEveryProperty) {
  const auto names = RaftChecker().properties();
  for (const char* p : {"election_safety", "log_matching", "leader_completeness",
                        "state_machine_safety", "commit_index_monotonic", "term_monotonic",
                        "one_vote_per_term"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), p), names.end()) << p;
  }
}

TEST(RaftChecker, HealthyClusterPassesWithCrashedNodesAsNull) {
  testing::TestCluster c(3);  // checks after every step and fails the test on a violation
  c.elect(0);
  c.commit(0, "a");
  c.crash(2);
  c.commit(0, "b");
  c.start(2);
  c.run_for(milliseconds(200));
  EXPECT_FALSE(c.violation());
}

TEST(RaftChecker, ReportsTwoLeadersInOneTerm_5_2) {
  auto a = solo_leader(NodeId{0}, {}, {});
  auto b = solo_leader(NodeId{1}, {}, {});
  ASSERT_EQ(a->term(), b->term());
  RaftChecker checker;
  const auto v = check(checker, {a.get(), b.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "election_safety");
}

TEST(RaftChecker, ReportsAnElectionSafetyViolationAcrossTime_5_2) {
  // n0 led term 1 and is gone; n1 leads term 1 later: still two leaders in one term.
  auto a = solo_leader(NodeId{0}, {}, {});
  RaftChecker checker;
  EXPECT_FALSE(check(checker, {a.get(), nullptr}));
  auto b = solo_leader(NodeId{1}, {}, {});
  const auto v = check(checker, {nullptr, b.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "election_safety");
}

TEST(RaftChecker, ReportsDivergingCommittedEntries_5_4_3) {
  auto a = solo_leader(NodeId{0}, {}, {"x"});
  auto b = solo_leader(NodeId{1}, records_with_log(Term{1}, {}), {"y"});
  ASSERT_EQ(a->commit_index(), LogIndex{2});
  ASSERT_EQ(b->commit_index(), LogIndex{2});
  RaftChecker checker;
  const auto v = check(checker, {a.get(), b.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "state_machine_safety");
}

TEST(RaftChecker, ReportsSameIndexAndTermWithDifferentPrefixes_5_3) {
  auto forged = [](const char* data) {
    auto records = records_with_log(Term{1}, {});
    records.push_back(encode(RaftRecord{EntriesRecord{
        LogIndex{1},
        {Entry{Term{1}, EntryKind::command, to_bytes("same")},
         Entry{Term{1}, EntryKind::command, to_bytes(data)}}}}));
    return records;
  };
  const std::vector<NodeId> members{NodeId{0}, NodeId{1}, NodeId{2}};
  auto a = replica(NodeId{0}, members, forged("p"));
  auto b = replica(NodeId{1}, members, forged("q"));
  RaftChecker checker;
  EXPECT_FALSE(check(checker, {a.get(), nullptr}));
  const auto v = check(checker, {a.get(), b.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "log_matching");
}

TEST(RaftChecker, AcceptsDifferentTermsAtOneIndexWhileUncommitted_5_3) {
  const std::vector<NodeId> members{NodeId{0}, NodeId{1}, NodeId{2}};
  auto a = replica(NodeId{0}, members, records_with_log(Term{2}, terms({{1, 1}, {2, 1}})));
  auto b = replica(NodeId{1}, members, records_with_log(Term{3}, terms({{1, 1}, {3, 1}})));
  RaftChecker checker;
  EXPECT_FALSE(check(checker, {a.get(), b.get()}));
}

TEST(RaftChecker, ReportsLeaderMissingACommittedEntry_5_4) {
  auto a = solo_leader(NodeId{0}, {}, {"x"});  // term 1, committed through 2
  RaftChecker checker;
  EXPECT_FALSE(check(checker, {a.get(), nullptr}));
  auto b = replica(NodeId{1}, {NodeId{1}}, records_with_log(Term{1}, {}));
  b->tick(b->next_tick());
  ASSERT_EQ(b->role(), RaftRole::leader);
  ASSERT_EQ(b->term(), Term{2});
  const auto v = check(checker, {a.get(), b.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "leader_completeness");
}

TEST(RaftChecker, ReportsTermGoingBackAcrossARestart) {
  auto before = replica(NodeId{0}, {NodeId{0}}, records_with_log(Term{5}, {}));
  auto after = replica(NodeId{0}, {NodeId{0}}, records_with_log(Term{3}, {}));
  RaftChecker checker;
  EXPECT_FALSE(check(checker, {before.get()}));
  EXPECT_FALSE(check(checker, {nullptr}));
  const auto v = check(checker, {after.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "term_monotonic");
}

TEST(RaftChecker, AStateThatNeverBecameDurableMayBeLostWithTheCrash) {
  // The term reached 5 only in memory: the crash cut its sync short (forget_unsynced), so the
  // restart at term 3 is allowed; a later fall below what that incarnation had is not.
  auto before = replica(NodeId{0}, {NodeId{0}}, records_with_log(Term{5}, {}));
  auto after = replica(NodeId{0}, {NodeId{0}}, records_with_log(Term{3}, {}));
  auto later = replica(NodeId{0}, {NodeId{0}}, records_with_log(Term{2}, {}));
  RaftChecker checker;
  EXPECT_FALSE(check(checker, {before.get()}));
  EXPECT_FALSE(check(checker, {nullptr}));
  checker.forget_unsynced(0);
  EXPECT_FALSE(check(checker, {after.get()}));
  EXPECT_FALSE(check(checker, {nullptr}));
  const auto v = check(checker, {later.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "term_monotonic");
}

TEST(RaftChecker, ReportsASecondVoteInOneTermAcrossARestart) {
  auto voted = [](std::uint32_t for_node) {
    return std::vector<Bytes>{encode(RaftRecord{HardStateRecord{Term{2}, NodeId{for_node}}})};
  };
  const std::vector<NodeId> members{NodeId{0}, NodeId{1}, NodeId{2}};
  auto before = replica(NodeId{0}, members, voted(1));
  auto after = replica(NodeId{0}, members, voted(2));
  RaftChecker checker;
  EXPECT_FALSE(check(checker, {before.get()}));
  const auto v = check(checker, {after.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "one_vote_per_term");
}

TEST(RaftChecker, RestartedReplicaMayRelearnItsCommitIndex) {
  testing::TestCluster c(3);
  c.elect(0);
  c.commit(0, "a");
  ASSERT_GT(c.node(1).commit_index(), LogIndex{0});
  c.crash(1);
  c.start(1);  // commit index back to 0 in a new incarnation: fine
  EXPECT_EQ(c.node(1).commit_index(), LogIndex{0});
  EXPECT_FALSE(c.violation());
}

TEST(RaftChecker, KeepsReportingTheFirstViolation) {
  auto a = solo_leader(NodeId{0}, {}, {});
  auto b = solo_leader(NodeId{1}, {}, {});
  RaftChecker checker;
  const auto first = check(checker, {a.get(), b.get()});
  ASSERT_TRUE(first);
  const auto again = check(checker, {a.get(), nullptr});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->detail, first->detail);
}

}  // namespace
}  // namespace raft_checker_test
}  // namespace lockstep::raft
