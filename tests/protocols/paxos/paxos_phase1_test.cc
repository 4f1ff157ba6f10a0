// Phase 1 and leadership (PMS §2.2, §2.4, §2.5, §3): owned ballots, promises, what a new leader
// re-proposes, no-op gap filling, nacks and stepping down.
#include <gtest/gtest.h>

#include "tests/protocols/paxos/paxos_test_cluster.h"

namespace lockstep::paxos {
namespace paxos_phase1_test {
namespace {

using testing::command;
using testing::messages_of;
using testing::owned_ballot;
using testing::TestCluster;

PaxosConfig plain_paxos() {
  PaxosConfig c = testing::test_config();
  c.master_lease = false;
  c.ballot_boost = false;
  return c;
}

TEST(PaxosPhase1, SingleNodeLeadsAndChooses_3) {
  TestCluster c(1);
  c.run_for(milliseconds(400));
  ASSERT_EQ(c.leader(), 0u);
  c.commit(0, "a");
  EXPECT_EQ(c.applied(0), std::vector<std::string>{"a"});
}

TEST(PaxosPhase1, ExactlyOneLeaderAfterTimeouts_2_4) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    TestCluster c(5, testing::test_config(), seed);
    c.run_for(seconds(2));
    const auto leader = c.leader();
    ASSERT_TRUE(leader.has_value()) << "seed " << seed;
    for (std::size_t i = 0; i < c.size(); ++i) {
      EXPECT_EQ(c.node(i).leader(), NodeId{static_cast<std::uint32_t>(*leader)}) << "seed " << seed;
      EXPECT_EQ(c.node(i).promised(), c.node(*leader).ballot());
    }
  }
}

// PMS §2.5: proposers draw ballots from disjoint sets, above every round they have seen, and
// remember the highest they issued in stable storage (synced before the prepares leave).
TEST(PaxosPhase1, BallotIsOwnedAboveWhatWasSeenAndPersistedBeforePrepares_2_5) {
  TestCluster c(3);
  c.inject(1, 2, Heartbeat{owned_ballot(7, 2, 3), Slot{0}, 0});  // seen: round 8, owner n2
  c.advance(seconds(1));
  c.node(1).tick(c.now());
  const consensus::Output out = c.collect(1);
  const Ballot b = c.node(1).ballot();
  EXPECT_EQ(b.node, NodeId{1});
  EXPECT_EQ(b.round % 3, 1u);
  EXPECT_GT(b.round, 8u);
  EXPECT_TRUE(out.sync_before_send);
  ASSERT_FALSE(out.persist.empty());
  EXPECT_EQ(std::get<ProposerRecord>(*decode_record(out.persist[0])).round, b.round);
  const auto prepares = messages_of<Prepare>(out);
  ASSERT_EQ(prepares.size(), 2u);
  EXPECT_EQ(prepares[0].second.ballot, b);
}

// PMS §2.2 P1a: an acceptor refuses a prepare below its promise, and says which ballot it holds.
TEST(PaxosPhase1, AcceptorRejectsPrepareBelowPromise_2_2) {
  TestCluster c(3, plain_paxos());
  c.inject(0, 2, Prepare{owned_ballot(5, 2, 3), Slot{1}, false});
  const consensus::Output out = c.inject(0, 1, Prepare{owned_ballot(1, 1, 3), Slot{1}, false});
  const auto nacks = messages_of<Nack>(out);
  ASSERT_EQ(nacks.size(), 1u);
  EXPECT_EQ(nacks[0].second.promised, owned_ballot(5, 2, 3));
  EXPECT_TRUE(messages_of<Promise>(out).empty());
  EXPECT_EQ(c.node(0).promised(), owned_ballot(5, 2, 3));
}

// PMS §2.2 phase 1b: the promise is persisted (synced) before it leaves, and reports every value
// accepted from the prepare's first slot, with the ballot it was accepted in.
TEST(PaxosPhase1, PromiseIsDurableAndReportsAcceptedValues_2_2) {
  TestCluster c(3, plain_paxos());
  const Ballot old = owned_ballot(1, 1, 3);
  c.inject(0, 1, Accept{old, Slot{1}, Slot{0}, 0, {command("a"), command("b")}});
  const Ballot b = owned_ballot(4, 2, 3);
  const consensus::Output out = c.inject(0, 2, Prepare{b, Slot{2}, false});
  EXPECT_TRUE(out.sync_before_send);
  EXPECT_EQ(std::get<PromiseRecord>(*decode_record(out.persist.back())).promised, b);
  const auto promises = messages_of<Promise>(out);
  ASSERT_EQ(promises.size(), 1u);
  const Promise& p = promises[0].second;
  EXPECT_EQ(p.ballot, b);
  ASSERT_EQ(p.entries.size(), 1u);  // slot 1 is below the prepare's first slot
  EXPECT_EQ(p.entries[0], (PromisedEntry{Slot{2}, old, command("b")}));
}

// PMS §2.2 P2c: the new leader proposes, in each slot, the value of the highest ballot among the
// promises of its quorum, not its own or the first it hears of.
TEST(PaxosPhase1, NewLeaderReProposesHighestBallotValue_P2c) {
  TestCluster c(3, plain_paxos());
  c.inject(0, 2, Accept{owned_ballot(1, 2, 3), Slot{1}, Slot{0}, 0, {command("old")}});
  c.inject(1, 2, Accept{owned_ballot(4, 2, 3), Slot{1}, Slot{0}, 0, {command("new")}});
  c.inject(0, 2, Heartbeat{owned_ballot(4, 2, 3), Slot{0}, 0});  // n0 has seen round 5
  c.cut(0, 2);  // the quorum is {0, 1}: n2's own log does not help
  c.elect(0);
  ASSERT_EQ(c.node(0).role(), PaxosRole::leader);
  EXPECT_EQ(lockstep::to_string(c.node(0).log().at(Slot{1}).data), "new");
  EXPECT_EQ(c.node(0).log().at(Slot{1}).ballot, c.node(0).ballot());
  c.run_for(milliseconds(100));
  EXPECT_EQ(c.applied(0), std::vector<std::string>{"new"});
  EXPECT_EQ(c.applied(1), std::vector<std::string>{"new"});
}

// PMS §2.2 P2c with a chosen value: a value a promise reports as chosen wins even over a higher
// ballot's (which can only hold the same value), and is known chosen at once.
TEST(PaxosPhase1, ValueReportedChosenIsKeptAndLearnedAtOnce_2_3) {
  TestCluster c(3, plain_paxos());
  c.elect(0);
  c.commit(0, "x");
  c.isolate(0);
  c.elect(1);
  ASSERT_EQ(c.node(1).role(), PaxosRole::leader);
  EXPECT_EQ(c.node(1).commit_index(), Slot{1});
  EXPECT_EQ(c.applied(1), std::vector<std::string>{"x"});
}

// PMS §3: a slot that no promise reports, below the highest slot one does, gets a no-op, so the
// log has no gap and later commands can be applied.
TEST(PaxosPhase1, NewLeaderFillsGapsWithNoops_3) {
  TestCluster c(3, plain_paxos());
  // n1 accepted slots 1 and 3 of n2's ballot; the accept for slot 2 never reached anyone.
  const Ballot old = owned_ballot(1, 2, 3);
  c.inject(1, 2, Accept{old, Slot{1}, Slot{0}, 0, {command("a")}});
  c.inject(1, 2, Accept{old, Slot{3}, Slot{0}, 0, {command("c")}});
  EXPECT_FALSE(c.node(1).log().holds(Slot{2}));
  c.cut(0, 2);
  c.elect(0);
  ASSERT_EQ(c.node(0).role(), PaxosRole::leader);
  EXPECT_EQ(c.node(0).log().at(Slot{2}).kind, ValueKind::noop);
  c.commit(0, "d");
  EXPECT_EQ(c.applied(0), (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_EQ(c.applied(1), (std::vector<std::string>{"a", "c", "d"}));
}

// PMS §2.4: a leader that learns of a higher ballot through a nack stops leading (without the
// ballot boost), and proposals are refused with a hint.
TEST(PaxosPhase1, DeposedLeaderStepsDownOnNack_2_4) {
  TestCluster c(3, plain_paxos());
  c.elect(0);
  const Ballot higher = owned_ballot(c.node(0).ballot().round + 1, 2, 3);
  c.inject(1, 2, Prepare{higher, c.node(1).commit_index().next(), false});
  c.network().clear();
  c.propose(0, "late");
  c.deliver_all();  // n1 nacks the accept
  EXPECT_EQ(c.node(0).role(), PaxosRole::follower);
  EXPECT_EQ(c.node(0).propose(c.now(), to_bytes("x")).outcome, consensus::Outcome::not_leader);
}

// A leader that receives an accept or heartbeat of a higher ballot follows it.
TEST(PaxosPhase1, LeaderFollowsAHigherBallotsHeartbeat_2_4) {
  TestCluster c(3, plain_paxos());
  c.elect(0);
  const Ballot higher = owned_ballot(c.node(0).ballot().round + 1, 2, 3);
  c.inject(0, 2, Heartbeat{higher, Slot{0}, 1});
  EXPECT_EQ(c.node(0).role(), PaxosRole::follower);
  EXPECT_EQ(c.node(0).leader(), NodeId{2});
  EXPECT_EQ(c.node(0).promised(), higher);
}

// A candidate that learns of a higher ballot stands back; it does not finish its phase 1.
TEST(PaxosPhase1, CandidateStandsBackOnHigherBallot_2_4) {
  TestCluster c(3, plain_paxos());
  c.advance(seconds(1));
  c.node(0).tick(c.now());
  c.collect(0);
  ASSERT_EQ(c.node(0).role(), PaxosRole::candidate);
  c.network().clear();
  const Ballot mine = c.node(0).ballot();
  c.inject(0, 1, Nack{mine, owned_ballot(mine.round + 1, 1, 3), std::nullopt, false});
  EXPECT_EQ(c.node(0).role(), PaxosRole::follower);
}

// PMS §2.5 separates the proposer's memory of its ballots from the acceptor's promise: a candidate
// that cannot win leaves its acceptor's promise alone, so the live leader's accepts still land
// there when the partition heals (no nack, no disruption).
TEST(PaxosPhase1, FailedCandidacyLeavesTheAcceptorsPromiseAlone_2_5) {
  TestCluster c(3, plain_paxos());
  c.elect(0);
  const Ballot leader_ballot = c.node(0).ballot();
  c.isolate(2);
  c.advance(seconds(1));
  c.node(2).tick(c.now());
  c.collect(2);
  ASSERT_EQ(c.node(2).role(), PaxosRole::candidate);
  EXPECT_GT(c.node(2).ballot(), leader_ballot);
  EXPECT_EQ(c.node(2).promised(), leader_ballot);
  EXPECT_EQ(c.node(2).status().role, consensus::Role::candidate);
  EXPECT_EQ(c.node(2).propose(c.now(), to_bytes("x")).outcome, consensus::Outcome::not_leader);
  c.network().clear();
  c.heal();
  c.commit(0, "a");  // accepted by n2 too: it drops its campaign and follows
  EXPECT_EQ(c.node(0).role(), PaxosRole::leader);
  EXPECT_EQ(c.node(0).ballot(), leader_ballot);
  EXPECT_EQ(c.node(2).role(), PaxosRole::follower);
  EXPECT_EQ(c.applied(2), std::vector<std::string>{"a"});
}

// Membership is fixed in this module: documented as unsupported.
TEST(PaxosPhase1, MembershipChangeIsUnsupported) {
  TestCluster c(3);
  c.elect(0);
  const auto r = c.node(0).change_membership(
      c.now(), consensus::MembershipChange{consensus::MembershipChange::Kind::add, NodeId{7}});
  EXPECT_EQ(r.outcome, consensus::Outcome::unsupported);
}

}  // namespace
}  // namespace paxos_phase1_test
}  // namespace lockstep::paxos
