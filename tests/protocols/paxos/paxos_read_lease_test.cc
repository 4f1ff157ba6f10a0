// Read barriers, master leases and their stickiness, the ballot boost (PML §5.2) and leadership
// transfer.
#include <gtest/gtest.h>

#include "tests/protocols/paxos/paxos_test_cluster.h"

namespace lockstep::paxos {
namespace paxos_read_lease_test {
namespace {

using testing::messages_of;
using testing::owned_ballot;
using testing::TestCluster;

PaxosConfig lease_reads_config() {
  PaxosConfig c = testing::test_config();
  c.lease_reads = true;
  return c;
}

// The read barrier confirms with a quorum that the ballot is still current before it answers, at
// the commit index recorded when it was asked (as Raft's ReadIndex).
TEST(PaxosRead, ReadBarrierWaitsForAQuorumToConfirmTheBallot) {
  TestCluster c(3);
  c.elect(0);
  c.commit(0, "a");
  c.node(0).read_barrier(c.now(), 7);
  c.collect(0);
  EXPECT_TRUE(c.reads(0).empty());
  c.deliver_all();
  ASSERT_EQ(c.reads(0).size(), 1u);
  EXPECT_EQ(c.reads(0)[0].read_id, 7u);
  EXPECT_EQ(c.reads(0)[0].apply_index, 1u);
}

// A leader cut off from the others cannot confirm its ballot: the read never completes there
// (and the majority side elects someone else).
TEST(PaxosRead, IsolatedLeaderCannotCompleteAReadBarrier) {
  TestCluster c(3);
  c.elect(0);
  c.commit(0, "a");
  c.isolate(0);
  c.node(0).read_barrier(c.now(), 1);
  c.collect(0);
  c.run_for(milliseconds(100));
  EXPECT_TRUE(c.reads(0).empty());
}

// A new leader reads only once what its phase 1 re-proposed is chosen: it may cover a value an
// earlier leader had chosen (and acknowledged) that the new one did not know to be chosen.
TEST(PaxosRead, NewLeaderReadsOnlyAfterItsPhase1ProposalsAreChosen) {
  TestCluster c(3);
  c.elect(0);
  c.commit(0, "a");
  c.propose(0, "b");  // chosen by {n0, n1}; n1 does not learn it
  std::deque<testing::Envelope> to_n1;
  for (const testing::Envelope& e : c.network()) {
    if (e.to == NodeId{1}) to_n1.push_back(e);
  }
  c.network().clear();
  for (const testing::Envelope& e : to_n1) c.deliver(e);
  c.network().clear();
  ASSERT_EQ(c.node(1).commit_index(), Slot{1});
  c.isolate(0);
  c.advance(seconds(1));
  c.node(1).tick(c.now());
  c.collect(1);
  while (c.node(1).role() != PaxosRole::leader && c.deliver_one()) {
  }
  ASSERT_EQ(c.node(1).role(), PaxosRole::leader);
  ASSERT_EQ(c.node(1).commit_index(), Slot{1});
  c.node(1).read_barrier(c.now(), 3);
  c.collect(1);
  c.run_for(milliseconds(20));
  ASSERT_EQ(c.reads(1).size(), 1u);
  EXPECT_EQ(c.reads(1)[0].apply_index, 2u);  // sees "b"
}

TEST(PaxosRead, NonLeaderRefusesReadBarrier) {
  TestCluster c(3);
  c.elect(0);
  EXPECT_EQ(c.node(1).read_barrier(c.now(), 1).outcome, consensus::Outcome::not_leader);
}

// PML §5.2: with lease reads, a leader whose lease holds answers at once, without a round trip.
TEST(PaxosLease, LeaseReadsAnswerWithoutARoundTrip_PML5_2) {
  TestCluster c(3, lease_reads_config());
  c.elect(0);
  c.commit(0, "a");
  ASSERT_TRUE(c.node(0).lease_valid(c.now()));
  c.node(0).read_barrier(c.now(), 9);
  const consensus::Output out = c.collect(0);
  ASSERT_EQ(out.reads.size(), 1u);
  EXPECT_EQ(out.reads[0].apply_index, 1u);
  // Without renewal the lease runs out (election_timeout_min minus the drift bound after it began).
  c.isolate(0);
  c.run_for(c.config().election_timeout_min);
  EXPECT_FALSE(c.node(0).lease_valid(c.now()));
}

// PML §5.2 stickiness: an acceptor that heard from its leader within election_timeout_min refuses
// another proposer's prepare (and says so); with master_lease off it promises.
TEST(PaxosLease, AcceptorRefusesPreparesWhileTheLeaseHolds_PML5_2) {
  for (const bool master_lease : {true, false}) {
    PaxosConfig config = testing::test_config();
    config.master_lease = master_lease;
    config.ballot_boost = master_lease;
    TestCluster c(3, config);
    c.elect(0);
    const Ballot challenger = owned_ballot(c.node(0).ballot().round + 1, 2, 3);
    const consensus::Output out = c.inject(1, 2, Prepare{challenger, Slot{1}, false});
    if (master_lease) {
      const auto nacks = messages_of<Nack>(out);
      ASSERT_EQ(nacks.size(), 1u);
      EXPECT_TRUE(nacks[0].second.lease_refused);
      EXPECT_EQ(nacks[0].second.leader, NodeId{0});
      EXPECT_EQ(c.node(1).promised(), c.node(0).ballot());
    } else {
      EXPECT_EQ(messages_of<Promise>(out).size(), 1u);
      EXPECT_EQ(c.node(1).promised(), challenger);
    }
  }
}

// Once the lease has run out on the acceptor's clock, it promises again.
TEST(PaxosLease, AcceptorPromisesOnceTheLeaseRanOut_PML5_2) {
  TestCluster c(3);
  c.elect(0);
  c.isolate(0);
  c.advance(c.config().election_timeout_min + milliseconds(1));
  const Ballot challenger = owned_ballot(c.node(0).ballot().round + 1, 2, 3);
  const consensus::Output out = c.inject(1, 2, Prepare{challenger, Slot{1}, false});
  EXPECT_EQ(messages_of<Promise>(out).size(), 1u);
}

// PML §5.2: a master that cannot renew its lease with a quorum stops serving; without master
// leases an isolated leader goes on believing it leads.
TEST(PaxosLease, LeaderWithoutAQuorumStepsDown_PML5_2) {
  for (const bool master_lease : {true, false}) {
    PaxosConfig config = testing::test_config();
    config.master_lease = master_lease;
    config.ballot_boost = master_lease;
    TestCluster c(3, config);
    c.elect(0);
    c.isolate(0);
    c.run_for(c.config().election_timeout_min * 3);
    EXPECT_EQ(c.node(0).role() == PaxosRole::leader, !master_lease) << master_lease;
  }
}

// With lease reads, a restarted acceptor promises no one for election_timeout_min: it may have
// acknowledged a lease just before it crashed.
TEST(PaxosLease, RestartedAcceptorStaysQuietForALease_PML5_2) {
  TestCluster c(3, lease_reads_config());
  c.elect(0);
  c.crash(1);
  c.start(1);
  const Ballot challenger = owned_ballot(c.node(0).ballot().round + 1, 2, 3);
  EXPECT_TRUE(messages_of<Promise>(c.inject(1, 2, Prepare{challenger, Slot{1}, false})).empty());
  c.advance(c.config().election_timeout_min);
  EXPECT_EQ(messages_of<Promise>(c.inject(1, 2, Prepare{challenger, Slot{1}, false})).size(), 1u);
}

// PML §5.2 ballot boost: a leader nacked by a would-be challenger's higher ballot runs phase 1
// above it and keeps leading; without the boost it steps down.
TEST(PaxosBoost, LeaderBoostsAboveAChallengerInsteadOfSteppingDown_PML5_2) {
  for (const bool boost : {true, false}) {
    PaxosConfig config = testing::test_config();
    config.ballot_boost = boost;
    TestCluster c(3, config);
    c.elect(0);
    const Ballot old = c.node(0).ballot();
    // n2 missed heartbeats for a while and promised a challenger, whose other prepares failed.
    c.isolate(2);
    c.advance(c.config().election_timeout_min + milliseconds(1));
    c.inject(2, 1, Prepare{owned_ballot(old.round + 1, 1, 3), Slot{1}, false});
    c.network().clear();
    c.heal();
    c.commit(0, "a");  // n2 nacks this accept
    c.run_for(milliseconds(50));
    if (boost) {
      ASSERT_EQ(c.leader(), 0u);
      EXPECT_GT(c.node(0).ballot().round, old.round + 1);
      EXPECT_EQ(c.node(2).leader(), NodeId{0});
    } else {
      EXPECT_NE(c.node(0).role(), PaxosRole::leader);
    }
    c.run_for(seconds(1));
    const auto leader = c.leader();
    ASSERT_TRUE(leader.has_value());
    c.commit(*leader, "b");
    EXPECT_EQ(c.applied(2).back(), "b");
  }
}

// A deposed leader that comes back follows the new one; it does not win its leadership back.
TEST(PaxosBoost, DeposedLeaderFollowsTheNewOneAfterAHeal_PML5_2) {
  TestCluster c(3);
  c.elect(0);
  c.isolate(0);
  c.run_for(seconds(1));
  const auto leader = c.leader();
  ASSERT_TRUE(leader.has_value());
  ASSERT_NE(*leader, 0u);
  c.heal();
  c.run_for(milliseconds(500));
  EXPECT_NE(c.node(0).role(), PaxosRole::leader);
  EXPECT_EQ(c.leader(), leader);
  EXPECT_EQ(c.node(0).leader(), NodeId{static_cast<std::uint32_t>(*leader)});
}

// Leadership transfer: the target runs phase 1 at once, and the acceptors waive their leases.
TEST(PaxosTransfer, TargetTakesOverAtOnce) {
  TestCluster c(3, lease_reads_config());
  c.elect(0);
  c.commit(0, "a");
  EXPECT_EQ(c.node(0).transfer_leadership(c.now(), NodeId{2}).outcome,
            consensus::Outcome::accepted);
  EXPECT_FALSE(c.node(0).lease_valid(c.now()));  // the acceptors will waive it
  EXPECT_EQ(c.node(0).propose(c.now(), to_bytes("x")).outcome, consensus::Outcome::busy);
  c.collect(0);
  c.deliver_all();
  c.run_for(milliseconds(5));
  EXPECT_EQ(c.leader(), 2u);
  EXPECT_EQ(c.node(0).role(), PaxosRole::follower);
  c.commit(2, "b");
  EXPECT_EQ(c.applied(0), (std::vector<std::string>{"a", "b"}));
}

TEST(PaxosTransfer, TransferToANonMemberIsUnsupported) {
  TestCluster c(3);
  c.elect(0);
  EXPECT_EQ(c.node(0).transfer_leadership(c.now(), NodeId{9}).outcome,
            consensus::Outcome::unsupported);
}

}  // namespace
}  // namespace paxos_read_lease_test
}  // namespace lockstep::paxos
