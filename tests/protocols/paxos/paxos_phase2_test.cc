// Phase 2 and learning (PMS §2.2, §2.3, §3): accepts and their durability, choosing by majority,
// what learners may mark chosen, pipelining and flow control, lost accepts and lagging followers.
#include <gtest/gtest.h>

#include "tests/protocols/paxos/paxos_test_cluster.h"

namespace lockstep::paxos {
namespace paxos_phase2_test {
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

// PMS §2.2 P1a: an acceptor that promised b refuses an accept below b, keeps its slot as it was,
// and tells the proposer about b.
TEST(PaxosPhase2, AcceptorRejectsAcceptBelowPromise_P1a) {
  TestCluster c(3, plain_paxos());
  const Ballot promised = owned_ballot(5, 2, 3);
  c.inject(0, 2, Prepare{promised, Slot{1}, false});
  const consensus::Output out =
      c.inject(0, 1, Accept{owned_ballot(1, 1, 3), Slot{1}, Slot{0}, 0, {command("stale")}});
  EXPECT_FALSE(c.node(0).log().holds(Slot{1}));
  EXPECT_TRUE(messages_of<Accepted>(out).empty());
  const auto nacks = messages_of<Nack>(out);
  ASSERT_EQ(nacks.size(), 1u);
  EXPECT_EQ(nacks[0].second.promised, promised);
}

// PMS §2.2: an acceptor may accept at or above its promise; doing so raises the promise.
TEST(PaxosPhase2, AcceptAtOrAbovePromiseIsTakenAndRaisesIt_2_2) {
  TestCluster c(3, plain_paxos());
  c.inject(0, 1, Prepare{owned_ballot(1, 1, 3), Slot{1}, false});
  const Ballot higher = owned_ballot(4, 1, 3);
  c.inject(0, 1, Accept{higher, Slot{1}, Slot{0}, 0, {command("x")}});
  EXPECT_EQ(c.node(0).promised(), higher);
  EXPECT_EQ(c.node(0).log().at(Slot{1}).ballot, higher);
}

// PMS §2.5: the accepted value is in stable storage before the answer leaves.
TEST(PaxosPhase2, AcceptIsPersistedAndSyncedBeforeTheAnswer_2_5) {
  TestCluster c(3, plain_paxos());
  const Ballot b = owned_ballot(1, 1, 3);
  const consensus::Output out = c.inject(0, 1, Accept{b, Slot{1}, Slot{0}, 7, {command("x")}});
  EXPECT_TRUE(out.sync_before_send);
  bool found = false;
  for (ByteView r : out.persist) {
    const auto record = decode_record(r);
    if (const auto* a = std::get_if<AcceptRecord>(&*record)) {
      EXPECT_EQ(*a, (AcceptRecord{b, Slot{1}, {command("x")}}));
      found = true;
    }
  }
  EXPECT_TRUE(found);
  const auto answers = messages_of<Accepted>(out);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].second, (Accepted{b, Slot{1}, true, Slot{1}, Slot{0}, 7}));
}

// PMS §2.2, §2.3: a value accepted by a majority is chosen; every learner applies it, in slot order.
TEST(PaxosPhase2, ValuesAcceptedByAMajorityAreChosenAndLearnedInOrder_2_3) {
  TestCluster c(5);
  c.elect(0);
  for (int i = 0; i < 5; ++i) c.commit(0, testing::numbered("c", i));
  const std::vector<std::string> expected{"c0", "c1", "c2", "c3", "c4"};
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(c.applied(i), expected) << "node " << i;
  EXPECT_EQ(c.node(3).commit_index(), Slot{5});
}

// Without a majority of acceptances nothing is chosen.
TEST(PaxosPhase2, NothingIsChosenWithoutAMajority_2_2) {
  TestCluster c(5);
  c.elect(0);
  c.cut(0, 2);
  c.cut(0, 3);
  c.cut(0, 4);
  c.propose(0, "x");
  c.run_for(milliseconds(100));
  EXPECT_EQ(c.node(0).commit_index(), Slot{0});
  EXPECT_TRUE(c.applied(0).empty());
}

// PMS §2.3: a learner told "chosen through c" by the leader of ballot b marks a slot chosen only
// if it holds the value b proposed there; an older ballot's value at that slot may not be the one
// chosen.
TEST(PaxosPhase2, LearnerMarksChosenOnlySlotsHoldingTheLeadersBallot_2_3) {
  TestCluster c(3, plain_paxos());
  c.inject(1, 2, Accept{owned_ballot(1, 2, 3), Slot{1}, Slot{0}, 0, {command("old")}});
  const Ballot leader = owned_ballot(3, 0, 3);
  c.inject(1, 0, Heartbeat{leader, Slot{1}, 1});
  EXPECT_EQ(c.node(1).commit_index(), Slot{0});
  EXPECT_TRUE(c.applied(1).empty());
  c.inject(1, 0, Accept{leader, Slot{1}, Slot{1}, 1, {command("new")}});
  EXPECT_EQ(c.node(1).commit_index(), Slot{1});
  EXPECT_EQ(c.applied(1), std::vector<std::string>{"new"});
}

// Phase 2 is pipelined and batched, bounded per follower; propose() says busy at the bound on
// proposed-but-unchosen slots.
TEST(PaxosPhase2, AcceptsAreBatchedAndInFlightIsBounded) {
  PaxosConfig config = testing::test_config();
  config.max_slots_per_accept = 2;
  config.max_inflight_accepts = 2;
  config.max_unchosen_slots = 6;
  TestCluster c(3, config);
  c.elect(0);
  c.network().clear();
  std::size_t accepts_to_1 = 0;
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(c.node(0).propose(c.now(), to_bytes(testing::numbered("c", i))).outcome,
              consensus::Outcome::accepted);
    const consensus::Output out = c.collect(0);
    for (const auto& [to, a] : messages_of<Accept>(out)) {
      if (to == NodeId{1}) ++accepts_to_1;
      EXPECT_LE(a.values.size(), 2u);
    }
  }
  EXPECT_LE(accepts_to_1, 2u);  // the pipeline is full; the rest waits for answers
  EXPECT_EQ(c.node(0).propose(c.now(), to_bytes("x")).outcome, consensus::Outcome::busy);
  c.deliver_all();
  c.run_for(milliseconds(100));
  EXPECT_EQ(c.applied(1).size(), 6u);
  EXPECT_EQ(c.propose(0, "y").outcome, consensus::Outcome::accepted);
}

// A host that gathers writes while its disk is busy proposes them in one step: they leave as one
// accept per acceptor, not one accept per proposal.
TEST(PaxosPhase2, ProposalsOfOneStepLeaveAsOneAcceptPerAcceptor) {
  TestCluster c(3);
  c.elect(0);
  c.network().clear();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(c.node(0).propose(c.now(), to_bytes(testing::numbered("c", i))).outcome,
              consensus::Outcome::accepted);
  }
  const consensus::Output out = c.collect(0);
  std::vector<std::size_t> values_to(3, 0);
  std::size_t accepts = 0;
  for (const auto& [to, a] : messages_of<Accept>(out)) {
    ++accepts;
    values_to[to.value] += a.values.size();
  }
  EXPECT_EQ(accepts, 2u);
  EXPECT_EQ(values_to[1], 3u);
  EXPECT_EQ(values_to[2], 3u);
  c.deliver_all();
  c.run_for(milliseconds(100));
  EXPECT_EQ(c.applied(1).size(), 3u);
}

TEST(PaxosPhase2, NonLeaderRefusesProposalsWithALeaderHint) {
  TestCluster c(3);
  c.elect(0);
  const auto r = c.node(1).propose(c.now(), to_bytes("x"));
  EXPECT_EQ(r.outcome, consensus::Outcome::not_leader);
  EXPECT_EQ(r.leader_hint, NodeId{0});
}

// PMS §3: slots are independent. An accept whose batch below was lost is still taken (the slot
// is accepted), the answer's match shows the hole, and the leader resends it.
TEST(PaxosPhase2, LostAcceptLeavesAHoleThatTheLeaderFills_3) {
  TestCluster c(3);
  c.elect(0);
  c.propose(0, "a");
  // Lose the accept of slot 1 to n1.
  auto& net = c.network();
  for (auto it = net.begin(); it != net.end(); ++it) {
    if (it->to == NodeId{1}) {
      net.erase(it);
      break;
    }
  }
  c.deliver_all();
  c.propose(0, "b");
  ASSERT_FALSE(net.empty());
  c.deliver_all();
  c.run_for(milliseconds(100));
  EXPECT_EQ(c.applied(1), (std::vector<std::string>{"a", "b"}));
}

// A follower that was cut off catches up from the leader's values (in the leader's ballot).
TEST(PaxosPhase2, LaggingFollowerCatchesUp_3) {
  TestCluster c(5);
  c.elect(0);
  c.isolate(4);
  for (int i = 0; i < 20; ++i) c.commit(0, testing::numbered("c", i));
  EXPECT_TRUE(c.applied(4).empty());
  c.heal();
  c.run_for(milliseconds(200));
  EXPECT_EQ(c.applied(4), c.applied(0));
  EXPECT_EQ(c.applied(4).size(), 20u);
}

// Duplicated and reordered accepts change nothing.
TEST(PaxosPhase2, DuplicateAcceptsAreHarmless) {
  TestCluster c(3);
  c.elect(0);
  c.propose(0, "a");
  c.propose(0, "b");
  std::deque<testing::Envelope> copy = c.network();
  c.deliver_all();
  for (auto it = copy.rbegin(); it != copy.rend(); ++it) c.deliver(*it);
  c.deliver_all();
  c.run_for(milliseconds(100));
  EXPECT_EQ(c.applied(1), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.applied(2), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace paxos_phase2_test
}  // namespace lockstep::paxos
