// Broadcast (Zab paper §III-B, Algorithm 3), the FIFO session, the leader's and followers' failure
// detection, and read barriers.
#include <gtest/gtest.h>

#include "tests/protocols/zab/zab_test_solo.h"

namespace lockstep::zab {
namespace zab_broadcast_test {
namespace {

using testing::Solo;
using testing::TestCluster;
using testing::txn;

// A follower n0 synchronized with leader n1 in epoch 2, holding (1,1) and (1,2), both delivered.
Solo synced_follower(std::uint64_t& session) {
  Solo s(0);
  session = s.follow(1, {2});
  s.sync_with(1, session, Epoch{2}, {txn(1, 1, "a"), txn(1, 2, "b")}, Zxid{Epoch{1}, 2});
  EXPECT_EQ(s.r().phase(), Phase::broadcast);
  EXPECT_EQ(s.r().commit_position(), Position{2});
  return s;
}

// Algorithm 3: transactions commit and are delivered in zxid order, at strictly increasing
// positions, the same on every replica.
TEST(ZabBroadcast, DeliversInZxidOrderAtIncreasingPositions) {
  TestCluster c(3);
  const auto leader = c.settle();
  ASSERT_TRUE(leader);
  for (const char* x : {"a", "b", "c"}) {
    ASSERT_EQ(c.propose(*leader, x).outcome, consensus::Outcome::accepted);
  }
  c.run_for(milliseconds(20));
  const Epoch e = c.node(*leader).current_epoch();
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(c.delivered(i), (std::vector<std::string>{"a", "b", "c"})) << i;
    const History& h = c.node(i).history();
    for (std::uint64_t p = 1; p <= 3; ++p) {
      EXPECT_EQ(h.zxid_at(Position{p}), (Zxid{e, p})) << i;
    }
  }
}

// Algorithm 3, follower: a proposal is written and synced before its ACK leaves.
TEST(ZabBroadcast, FollowerAcknowledgesOnlyWhatIsOnDisk) {
  std::uint64_t session = 0;
  Solo s = synced_follower(session);
  s.feed(1, Proposal{session, s.next_seq(), Zxid{Epoch{2}, 1}, to_bytes("c")});
  EXPECT_TRUE(s.out().sync_before_send);
  const auto records = s.persisted();
  ASSERT_EQ(records.size(), 1u);
  const auto& tr = std::get<TxnsRecord>(records[0]);
  EXPECT_EQ(tr.first_position, Position{3});
  ASSERT_EQ(tr.txns.size(), 1u);
  EXPECT_EQ(tr.txns[0].zxid, (Zxid{Epoch{2}, 1}));
  const auto acks = s.sent_of<Ack>(1);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].zxid, (Zxid{Epoch{2}, 1}));
  EXPECT_EQ(s.r().commit_position(), Position{2});  // not delivered before COMMIT
  s.feed(1, Commit{session, s.next_seq() + 1, Zxid{Epoch{2}, 1}});
  EXPECT_EQ(s.out().committed.size(), 1u);
}

// Algorithm 3, leader: a proposal commits once a quorum holds it, not before; the leader's own
// copy counts only once its record has been handed to the host.
TEST(ZabBroadcast, CommitsOnAQuorumOfAcks) {
  TestCluster c(5);
  const auto leader = c.settle();
  ASSERT_TRUE(leader);
  std::vector<std::size_t> followers;
  for (std::size_t i = 0; i < 5; ++i) {
    if (i != *leader) followers.push_back(i);
  }
  c.cut(*leader, followers[0]);
  c.cut(*leader, followers[1]);
  c.cut(*leader, followers[2]);
  ASSERT_EQ(c.propose(*leader, "x").outcome, consensus::Outcome::accepted);
  c.run_for(milliseconds(20));
  EXPECT_EQ(c.node(*leader).commit_position(), Position{0});  // itself and one follower: 2 of 5
  c.heal();
  c.cut(*leader, followers[0]);
  c.cut(*leader, followers[1]);
  c.run_for(milliseconds(300));  // the others reconnect and are synchronized: 3 of 5
  EXPECT_EQ(c.node(*leader).commit_position(), Position{1});
}

TEST(ZabBroadcast, OnlyAnEstablishedLeaderTakesProposals) {
  ZabConfig config = testing::test_config();
  config.max_outstanding_proposals = 2;
  TestCluster c(3, config);
  const auto leader = c.settle();
  ASSERT_TRUE(leader);
  const std::size_t follower = (*leader + 1) % 3;
  const auto r = c.propose(follower, "x");
  EXPECT_EQ(r.outcome, consensus::Outcome::not_leader);
  EXPECT_EQ(r.leader_hint, NodeId{static_cast<std::uint32_t>(*leader)});
  c.isolate(*leader);
  EXPECT_EQ(c.propose(*leader, "a").outcome, consensus::Outcome::accepted);
  EXPECT_EQ(c.propose(*leader, "b").outcome, consensus::Outcome::accepted);
  EXPECT_EQ(c.propose(*leader, "c").outcome, consensus::Outcome::busy);  // the in-flight bound
  Solo looking(0);
  const auto lr = looking.r().propose(looking.now(), to_bytes("x"));
  EXPECT_EQ(lr.outcome, consensus::Outcome::not_leader);
  EXPECT_FALSE(lr.leader_hint);
}

// The leader pings; without answers from a quorum of synchronized followers within sync_timeout
// it steps down (ZooKeeper's Leader.lead loop).
TEST(ZabBroadcast, LeaderStepsDownWithoutAQuorum) {
  TestCluster c(3);
  const auto leader = c.settle();
  ASSERT_TRUE(leader);
  c.isolate(*leader);
  c.run_for(c.config().sync_timeout * 3);
  EXPECT_NE(c.node(*leader).state(), ServerState::leading);
  // The other two elect a new leader of a later epoch.
  const auto next = c.leader();
  ASSERT_TRUE(next);
  EXPECT_NE(*next, *leader);
}

// A follower whose leader is silent for sync_timeout goes back to election.
TEST(ZabBroadcast, FollowerReturnsToElectionWhenTheLeaderIsSilent) {
  std::uint64_t session = 0;
  Solo s = synced_follower(session);
  s.advance(s.r().config().sync_timeout - milliseconds(1));
  EXPECT_EQ(s.r().state(), ServerState::following);
  s.feed(1, Ping{session, s.next_seq(), 1});  // heard: the clock restarts
  s.advance(s.r().config().sync_timeout - milliseconds(1));
  EXPECT_EQ(s.r().state(), ServerState::following);
  s.advance(milliseconds(2));
  EXPECT_EQ(s.r().state(), ServerState::looking);
}

// The session gives FIFO: a message that overtakes another is held until the gap closes.
TEST(ZabBroadcast, OvertakingMessagesAreHeldAndTakenInOrder) {
  std::uint64_t session = 0;
  Solo s = synced_follower(session);
  const std::uint64_t seq = s.next_seq();
  s.feed(1, Proposal{session, seq + 1, Zxid{Epoch{2}, 2}, to_bytes("d")});
  EXPECT_TRUE(s.out().messages.empty());
  EXPECT_EQ(s.r().history().last_position(), Position{2});
  s.feed(1, Proposal{session, seq, Zxid{Epoch{2}, 1}, to_bytes("c")});
  EXPECT_EQ(s.r().history().last_zxid(), (Zxid{Epoch{2}, 2}));
  EXPECT_EQ(s.sent_of<Ack>(1).size(), 2u);
  s.feed(1, Proposal{session, seq, Zxid{Epoch{2}, 1}, to_bytes("c")});  // a duplicate
  EXPECT_TRUE(s.out().messages.empty());
  EXPECT_EQ(s.r().reconnects(), 0u);
}

// A message lost for good: after gap_timeout the follower opens a new session with the same
// leader (it will be synchronized again from its last zxid).
TEST(ZabBroadcast, ALostMessageMakesTheFollowerReconnect) {
  std::uint64_t session = 0;
  Solo s = synced_follower(session);
  s.feed(1, Proposal{session, s.next_seq() + 1, Zxid{Epoch{2}, 2}, to_bytes("d")});
  s.advance(s.r().config().gap_timeout);
  EXPECT_EQ(s.r().reconnects(), 1u);
  EXPECT_EQ(s.r().state(), ServerState::following);
  EXPECT_EQ(s.r().phase(), Phase::discovery);
  const auto infos = s.sent_of<FollowerInfo>(1);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_NE(infos[0].session, session);
  EXPECT_EQ(infos[0].last_zxid, (Zxid{Epoch{1}, 2}));
}

// A lost ACK is made good by the next ping's answer, which repeats the latest acknowledged zxid.
TEST(ZabBroadcast, PingAnswersMakeGoodALostAck) {
  TestCluster c(3);
  const auto leader = c.settle();
  ASSERT_TRUE(leader);
  const std::size_t follower = (*leader + 1) % 3;
  c.crash((*leader + 2) % 3);  // one follower left: its ACK is needed
  ASSERT_EQ(c.propose(*leader, "x").outcome, consensus::Outcome::accepted);
  // The proposal reaches the follower, whose ACK we then drop.
  while (c.node(follower).history().last_position() < Position{1}) ASSERT_TRUE(c.deliver_one());
  auto& net = c.network();
  ASSERT_FALSE(net.empty());
  bool dropped = false;
  for (auto it = net.begin(); it != net.end(); ++it) {
    if (std::holds_alternative<Ack>(testing::decoded(it->payload))) {
      net.erase(it);
      dropped = true;
      break;
    }
  }
  ASSERT_TRUE(dropped);
  c.deliver_all();
  EXPECT_EQ(c.node(*leader).commit_position(), Position{0});
  c.run_for(c.config().heartbeat_interval + milliseconds(5));
  EXPECT_EQ(c.node(*leader).commit_position(), Position{1});
}

// Reads: sync-then-read. The barrier completes only once a quorum answered a ping round begun
// after the request, at the position of the last proposal then.
TEST(ZabRead, BarrierWaitsForAQuorumRoundAndTheLastProposal) {
  TestCluster c(3);
  const auto leader = c.settle();
  ASSERT_TRUE(leader);
  c.commit(*leader, "a");
  ASSERT_EQ(c.propose(*leader, "b").outcome, consensus::Outcome::accepted);  // in flight
  ASSERT_EQ(c.node(*leader).read_barrier(c.now(), 9).outcome, consensus::Outcome::accepted);
  c.collect(*leader);
  EXPECT_TRUE(c.reads(*leader).empty());
  c.deliver_all();
  ASSERT_EQ(c.reads(*leader).size(), 1u);
  EXPECT_EQ(c.reads(*leader)[0].read_id, 9u);
  EXPECT_EQ(c.reads(*leader)[0].apply_index, 2u);  // behind "b", which was in the pipeline
}

// A leader cut off from its followers cannot pass a read barrier (it may already be deposed).
TEST(ZabRead, AnIsolatedLeaderCannotPassABarrier) {
  TestCluster c(3);
  const auto leader = c.settle();
  ASSERT_TRUE(leader);
  c.commit(*leader, "a");
  const std::size_t follower = (*leader + 1) % 3;
  const auto r = c.node(follower).read_barrier(c.now(), 2);
  EXPECT_EQ(r.outcome, consensus::Outcome::not_leader);
  EXPECT_EQ(r.leader_hint, NodeId{static_cast<std::uint32_t>(*leader)});
  c.isolate(*leader);
  ASSERT_EQ(c.node(*leader).read_barrier(c.now(), 1).outcome, consensus::Outcome::accepted);
  c.collect(*leader);
  c.run_for(c.config().sync_timeout * 2);
  EXPECT_TRUE(c.reads(*leader).empty());
}

TEST(ZabRead, MembershipChangesAndTransfersAreUnsupported) {
  TestCluster c(3);
  const auto leader = c.settle();
  ASSERT_TRUE(leader);
  EXPECT_EQ(c.node(*leader)
                .change_membership(c.now(), {consensus::MembershipChange::Kind::add, NodeId{5}})
                .outcome,
            consensus::Outcome::unsupported);
  EXPECT_EQ(c.node(*leader).transfer_leadership(c.now(), NodeId{0}).outcome,
            consensus::Outcome::unsupported);
}

}  // namespace
}  // namespace zab_broadcast_test
}  // namespace lockstep::zab
