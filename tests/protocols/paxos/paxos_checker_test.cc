// The Paxos cluster checker against fabricated broken clusters: each property must be reported by
// name when, and only when, it is broken. Broken states are built from real replicas handed forged
// messages (a "leader" that proposes two values in one ballot), forged record logs, or a lost
// promise; the leader's choice of values is checked on hand-made evidence.
#include <gtest/gtest.h>

#include "tests/protocols/paxos/paxos_test_cluster.h"

namespace lockstep::paxos {
namespace paxos_checker_test {
namespace {

using testing::command;
using testing::owned_ballot;

const std::vector<NodeId> kThree{NodeId{0}, NodeId{1}, NodeId{2}};

PaxosConfig plain_paxos() {
  PaxosConfig c = testing::test_config();
  c.master_lease = false;
  c.ballot_boost = false;
  return c;
}

std::unique_ptr<PaxosReplica> replica(std::uint32_t self, const std::vector<Bytes>& records = {}) {
  auto r = std::make_unique<PaxosReplica>(plain_paxos(), NodeId{self}, kThree, 11);
  r->recover(milliseconds(1), records);
  r->take_output();
  return r;
}

void give(PaxosReplica& r, std::uint32_t from, const PaxosMessage& m) {
  r.receive(milliseconds(2), NodeId{from}, encode(m));
  r.take_output();
}

std::optional<consensus::Violation> check(PaxosChecker& checker,
                                          std::vector<const PaxosReplica*> replicas) {
  std::vector<const consensus::Replica*> view(replicas.begin(), replicas.end());
  return checker.check(view);
}

Accept accept(Ballot b, std::string_view value) {
  return Accept{b, Slot{1}, Slot{0}, 0, {command(value)}};
}

std::vector<Bytes> committed_log(Ballot b, std::string_view value) {
  return {encode(PaxosRecord{PromiseRecord{b}}),
          encode(PaxosRecord{AcceptRecord{b, Slot{1}, {command(value)}}}),
          encode(PaxosRecord{ChosenRecord{Slot{1}}})};
}

TEST(PaxosChecker, ListsEveryProperty) {
  const auto names = PaxosChecker().properties();
  for (const char* p : {"one_value_chosen", "one_proposal_per_ballot", "accept_respects_promise",
                        "promise_monotonic", "proposal_respects_promises", "learned_value_chosen",
                        "chosen_prefix_agreement"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), p), names.end()) << p;
  }
}

TEST(PaxosChecker, HealthyClusterPassesThroughCrashesAndLeaderChanges) {
  testing::TestCluster c(3);  // checks after every step and fails the test on a violation
  c.elect(0);
  c.commit(0, "a");
  c.crash(2);
  c.commit(0, "b");
  c.start(2);
  c.crash(0);
  c.run_for(seconds(1));
  ASSERT_TRUE(c.leader().has_value());
  c.commit(*c.leader(), "c");
  EXPECT_FALSE(c.violation());
}

// PMS §2.1: once a value is chosen in a slot, no other value may ever be.
TEST(PaxosChecker, ReportsASecondValueChosenInOneSlot) {
  auto n0 = replica(0), n1 = replica(1), n2 = replica(2);
  PaxosChecker checker;
  give(*n0, 1, accept(owned_ballot(1, 1, 3), "x"));
  give(*n2, 1, accept(owned_ballot(1, 1, 3), "x"));
  EXPECT_FALSE(check(checker, {n0.get(), n1.get(), n2.get()}));
  // A proposer that ignored P2c: a higher ballot with another value reaches a majority.
  give(*n0, 1, accept(owned_ballot(4, 1, 3), "y"));
  EXPECT_FALSE(check(checker, {n0.get(), n1.get(), n2.get()}));
  give(*n2, 1, accept(owned_ballot(4, 1, 3), "y"));
  const auto v = check(checker, {n0.get(), n1.get(), n2.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "one_value_chosen");
}

TEST(PaxosChecker, ReportsTwoValuesInOneBallot) {
  auto n0 = replica(0), n1 = replica(1), n2 = replica(2);
  PaxosChecker checker;
  give(*n0, 1, accept(owned_ballot(1, 1, 3), "x"));
  give(*n2, 1, accept(owned_ballot(1, 1, 3), "y"));
  const auto v = check(checker, {n0.get(), n1.get(), n2.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "one_proposal_per_ballot");
}

// An incarnation that lost its promise (without a crash cutting a sync short) and then accepts
// below it: the acceptor broke P1a.
TEST(PaxosChecker, ReportsAnAcceptBelowAPromise) {
  auto n0 = replica(0), n1 = replica(1), n2 = replica(2);
  PaxosChecker checker;
  give(*n0, 2, Prepare{owned_ballot(5, 2, 3), Slot{1}, false});
  EXPECT_FALSE(check(checker, {n0.get(), n1.get(), n2.get()}));
  auto again = replica(0);
  give(*again, 1, accept(owned_ballot(1, 1, 3), "x"));
  const auto v = check(checker, {again.get(), n1.get(), n2.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "accept_respects_promise");
}

TEST(PaxosChecker, ReportsAPromiseGoingBack) {
  auto n0 = replica(0), n1 = replica(1), n2 = replica(2);
  PaxosChecker checker;
  give(*n0, 2, Prepare{owned_ballot(5, 2, 3), Slot{1}, false});
  EXPECT_FALSE(check(checker, {n0.get(), n1.get(), n2.get()}));
  n0.reset();
  EXPECT_FALSE(check(checker, {nullptr, n1.get(), n2.get()}));
  auto again = replica(0);  // its record log lost the promise
  const auto v = check(checker, {again.get(), n1.get(), n2.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "promise_monotonic");
}

// forget_unsynced: what a crash cut short never reached anyone, so losing it is no violation —
// neither the promise nor an acceptance, nor a value "chosen" only thanks to that acceptance.
TEST(PaxosChecker, ForgetUnsyncedForgivesWhatTheCrashCutShort) {
  auto n0 = replica(0), n1 = replica(1), n2 = replica(2);
  PaxosChecker checker;
  give(*n0, 1, accept(owned_ballot(1, 1, 3), "x"));
  give(*n2, 1, accept(owned_ballot(1, 1, 3), "x"));
  EXPECT_FALSE(check(checker, {n0.get(), n1.get(), n2.get()}));
  // n2's acceptance was never synced: it crashes and comes back without it.
  n2.reset();
  EXPECT_FALSE(check(checker, {n0.get(), n1.get(), nullptr}));
  checker.forget_unsynced(2);
  auto again = replica(2);
  EXPECT_FALSE(check(checker, {n0.get(), n1.get(), again.get()}));
  give(*n0, 1, accept(owned_ballot(4, 1, 3), "y"));
  give(*again, 1, accept(owned_ballot(4, 1, 3), "y"));
  EXPECT_FALSE(check(checker, {n0.get(), n1.get(), again.get()}));
}

// The same loss without forget_unsynced is reported: the checker does not forgive blindly.
TEST(PaxosChecker, WithoutForgetUnsyncedTheLostAcceptanceStillCounts) {
  auto n0 = replica(0), n1 = replica(1), n2 = replica(2);
  PaxosChecker checker;
  give(*n0, 1, accept(owned_ballot(1, 1, 3), "x"));
  give(*n2, 1, accept(owned_ballot(1, 1, 3), "x"));
  EXPECT_FALSE(check(checker, {n0.get(), n1.get(), n2.get()}));
  auto again = replica(2);
  give(*n0, 1, accept(owned_ballot(4, 1, 3), "y"));
  give(*again, 1, accept(owned_ballot(4, 1, 3), "y"));
  const auto v = check(checker, {n0.get(), n1.get(), again.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "one_value_chosen");
}

// PMS §2.3: a learner may take as chosen only the value that was chosen.
TEST(PaxosChecker, ReportsALearnerCommittingAValueThatWasNotChosen) {
  auto n0 = replica(0), n2 = replica(2);
  PaxosChecker checker;
  give(*n0, 1, accept(owned_ballot(1, 1, 3), "x"));
  give(*n2, 1, accept(owned_ballot(1, 1, 3), "x"));
  EXPECT_FALSE(check(checker, {n0.get(), nullptr, n2.get()}));
  auto n1 = replica(1, committed_log(owned_ballot(4, 1, 3), "y"));
  ASSERT_EQ(n1->commit_index(), Slot{1});
  const auto v = check(checker, {n0.get(), n1.get(), n2.get()});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "learned_value_chosen");
}

TEST(PaxosChecker, ReportsReplicasCommittingDifferentValues) {
  auto n0 = replica(0, committed_log(owned_ballot(1, 1, 3), "x"));
  auto n1 = replica(1, committed_log(owned_ballot(4, 1, 3), "y"));
  PaxosChecker checker;
  const auto v = check(checker, {n0.get(), n1.get(), nullptr});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->property, "chosen_prefix_agreement");
}

// ---- proposal_respects_promises (PMS §2.2 P2c, §3) on hand-made evidence ------------------------

constexpr std::uint64_t kX = 0x1111;
constexpr std::uint64_t kY = 0x2222;

Phase1Evidence evidence(std::vector<std::uint64_t> proposed) {
  Phase1Evidence ev;
  ev.ballot = Ballot{9, NodeId{0}};
  ev.first = Slot{1};
  ev.last = Slot{proposed.size()};
  // n0 accepted x in ballot 1 at slot 1; n1 accepted y in ballot 4 at slot 1; nobody slot 2.
  ev.reports.push_back(PromiseReport{NodeId{0}, Slot{0}, {{Slot{1}, Ballot{1, NodeId{1}}, kX}}});
  ev.reports.push_back(PromiseReport{NodeId{1}, Slot{0}, {{Slot{1}, Ballot{4, NodeId{1}}, kY}}});
  ev.proposed = std::move(proposed);
  return ev;
}

const std::uint64_t kNoop = value_digest(ValueKind::noop, {});

TEST(PaxosChecker, AcceptsAChoiceThatFollowsP2c) {
  EXPECT_FALSE(PaxosChecker::check_phase1_choice(evidence({kY, kNoop}), 2));
}

TEST(PaxosChecker, ReportsAProposalIgnoringTheHighestBallot_P2c) {
  const auto problem = PaxosChecker::check_phase1_choice(evidence({kX, kNoop}), 2);
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("highest ballot"), std::string::npos) << *problem;
}

TEST(PaxosChecker, ReportsAProposalIgnoringAValueKnownChosen_P2c) {
  Phase1Evidence ev = evidence({kY, kNoop});
  ev.reports[0].commit = Slot{1};  // n0 knows x chosen at slot 1
  const auto problem = PaxosChecker::check_phase1_choice(ev, 2);
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("known chosen"), std::string::npos) << *problem;
}

TEST(PaxosChecker, ReportsAGapNotFilledWithANoop_3) {
  EXPECT_TRUE(PaxosChecker::check_phase1_choice(evidence({kY, kX}), 2));
}

TEST(PaxosChecker, ReportsAReportedSlotLeftUnproposed_3) {
  Phase1Evidence ev = evidence({kY});
  ev.reports[1].accepted.push_back(Acceptance{Slot{3}, Ballot{4, NodeId{1}}, kX});
  EXPECT_TRUE(PaxosChecker::check_phase1_choice(ev, 2));
}

TEST(PaxosChecker, ReportsPromisesFromLessThanAQuorum) {
  Phase1Evidence ev = evidence({kY, kNoop});
  EXPECT_TRUE(PaxosChecker::check_phase1_choice(ev, 3));
  ev.reports[1].from = NodeId{0};  // the same acceptor twice
  EXPECT_TRUE(PaxosChecker::check_phase1_choice(ev, 2));
}

}  // namespace
}  // namespace paxos_checker_test
}  // namespace lockstep::paxos
