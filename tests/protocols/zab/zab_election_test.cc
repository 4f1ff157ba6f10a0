// Fast Leader Election (ZooKeeper's FastLeaderElection; rules FLE-1..8 in zab_election.cc), each
// rule by a test that fails when the rule is taken out.
#include <gtest/gtest.h>

#include "tests/protocols/zab/zab_test_solo.h"

namespace lockstep::zab {
namespace zab_election_test {
namespace {

using testing::Solo;
using testing::TestCluster;

Vote vote(std::uint32_t leader, Zxid zxid, std::uint64_t peer_epoch) {
  return Vote{NodeId{leader}, zxid, Epoch{peer_epoch}};
}

// FLE-2: (peer epoch, zxid, server id), in that order.
TEST(ZabElection, VotesOrderByPeerEpochThenZxidThenServerId) {
  const Zxid low{Epoch{1}, 9};
  const Zxid high{Epoch{2}, 1};
  EXPECT_TRUE(better(vote(0, low, 3), vote(2, high, 2)));   // the epoch decides first
  EXPECT_FALSE(better(vote(2, high, 2), vote(0, low, 3)));
  EXPECT_TRUE(better(vote(0, high, 2), vote(2, low, 2)));   // then the zxid
  EXPECT_TRUE(better(vote(2, high, 2), vote(1, high, 2)));  // then the id
  EXPECT_FALSE(better(vote(1, high, 2), vote(1, high, 2)));  // strict
}

// FLE-2 end to end: n1 has the shorter history but the later currentEpoch (it acknowledged
// NEWLEADER of epoch 2, whose initial history ended at (1,3)); n0's (1,4), (1,5) were never
// committed. Ordering by zxid first would elect n0 and keep them.
TEST(ZabElection, ElectsTheServerWithTheHighestCurrentEpochThenZxid) {
  TestCluster c(3, testing::test_config(), 1,
                {testing::records_with(Epoch{1}, Epoch{1}, testing::zxids({{1, 5}})),
                 testing::records_with(Epoch{2}, Epoch{2}, testing::zxids({{1, 3}})),
                 testing::records_with(Epoch{2}, Epoch{1}, testing::zxids({{1, 2}}))});
  const auto leader = c.settle();
  ASSERT_EQ(leader, 1u);
  EXPECT_EQ(c.node(1).current_epoch(), Epoch{3});
  EXPECT_EQ(c.node(0).history().last_zxid(), (Zxid{Epoch{1}, 3}));  // TRUNC'd
  EXPECT_EQ(c.delivered(0), c.delivered(1));
  EXPECT_EQ(c.delivered(1).size(), 3u);
}

// FLE-1: a LOOKING server votes for itself and notifies everyone else.
TEST(ZabElection, StartsLookingWithAVoteForItselfToEveryone) {
  Solo s(0, 3, testing::test_config(),
         testing::records_with(Epoch{4}, Epoch{3}, testing::zxids({{3, 2}})));
  EXPECT_EQ(s.r().state(), ServerState::looking);
  EXPECT_EQ(s.r().round(), 1u);
  EXPECT_EQ(s.r().vote(), vote(0, (Zxid{Epoch{3}, 2}), 3));
  // recover() notified n1 and n2; the next resend (FLE-8) says the same.
  s.advance(s.r().config().notification_timeout_max * 2);
  for (std::uint32_t to : {1u, 2u}) {
    const auto n = s.sent_of<Notification>(to);
    ASSERT_EQ(n.size(), 1u) << to;
    EXPECT_EQ(n[0], (Notification{ServerState::looking, s.r().vote(), 1}));
  }
}

// FLE-3: a later round moves us to it, with the better of its vote and ours, re-broadcast.
TEST(ZabElection, ALaterRoundIsJoinedWithTheBetterVote) {
  Solo s(0);
  s.feed(2, Notification{ServerState::looking, vote(2, Zxid{}, 0), 5});
  EXPECT_EQ(s.r().round(), 5u);
  EXPECT_EQ(s.r().vote().leader, NodeId{2});
  const auto n = s.sent_of<Notification>(1);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].round, 5u);
  EXPECT_EQ(n[0].vote.leader, NodeId{2});
}

// FLE-4: a LOOKING sender in an older round gets our vote and round, and changes nothing here.
TEST(ZabElection, AnOlderRoundIsAnsweredNotCounted) {
  Solo s(2);
  s.feed(1, Notification{ServerState::looking, vote(1, Zxid{}, 0), 4});  // we join round 4
  ASSERT_EQ(s.r().round(), 4u);
  s.feed(0, Notification{ServerState::looking, vote(0, Zxid{Epoch{9}, 9}, 0), 2});
  EXPECT_EQ(s.r().vote().leader, NodeId{2});  // the better-looking vote of round 2 is ignored
  const auto n = s.sent_of<Notification>(0);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].round, 4u);
  EXPECT_EQ(n[0].vote.leader, NodeId{2});
  EXPECT_EQ(s.r().state(), ServerState::looking);  // one vote of ours is no quorum
}

// FLE-5 and FLE-6: a quorum for n1 forms, but a better vote (n2) within finalize_wait wins.
// Settling at once would follow n1.
TEST(ZabElection, FinalizeWaitLetsABetterVoteWin) {
  Solo s(0);
  s.feed(1, Notification{ServerState::looking, vote(1, Zxid{}, 0), 1});
  ASSERT_EQ(s.r().vote().leader, NodeId{1});  // FLE-5: adopted, and with it a quorum of two
  s.advance(s.r().config().finalize_wait / 2);
  EXPECT_EQ(s.r().state(), ServerState::looking);
  s.feed(2, Notification{ServerState::looking, vote(2, Zxid{}, 0), 1});
  s.advance(s.r().config().finalize_wait);
  EXPECT_EQ(s.r().state(), ServerState::following);
  EXPECT_EQ(s.r().leader(), NodeId{2});
}

// FLE-6: no quorum, no decision, however long we wait.
TEST(ZabElection, NoQuorumNoDecision) {
  Solo s(0, 5);
  s.feed(4, Notification{ServerState::looking, vote(4, Zxid{}, 0), 1});  // us and n4: 2 of 5
  s.advance(seconds(5));
  EXPECT_EQ(s.r().state(), ServerState::looking);
}

// FLE-7 (checkLeader): a quorum saying they follow n2 is not enough while n2 itself does not say
// it leads.
TEST(ZabElection, JoiningNeedsTheLeaderToSayItLeads) {
  Solo s(0, 5);
  const Vote v = vote(2, Zxid{}, 0);
  for (std::uint32_t o : {1u, 3u, 4u}) s.feed(o, Notification{ServerState::following, v, 3});
  EXPECT_EQ(s.r().state(), ServerState::looking);
  s.feed(2, Notification{ServerState::leading, v, 3});
  EXPECT_EQ(s.r().state(), ServerState::following);
  EXPECT_EQ(s.r().leader(), NodeId{2});
  EXPECT_EQ(s.r().round(), 3u);
}

// FLE-7: a restarted follower rejoins the established leader through the settled servers'
// answers, with no new election and no new epoch.
TEST(ZabElection, ARestartedServerRejoinsWithoutAnElection) {
  TestCluster c(3);
  const auto leader = c.settle();
  ASSERT_TRUE(leader);
  c.commit(*leader, "a");
  const std::size_t follower = (*leader + 1) % 3;
  const Epoch epoch = c.node(*leader).current_epoch();
  c.crash(follower);
  c.commit(*leader, "b");
  c.start(follower);
  c.run_for(milliseconds(300));
  EXPECT_EQ(c.leader(), leader);
  EXPECT_EQ(c.node(*leader).current_epoch(), epoch);
  EXPECT_EQ(c.node(follower).leader(), NodeId{static_cast<std::uint32_t>(*leader)});
  EXPECT_EQ(c.node(follower).phase(), Phase::broadcast);
  EXPECT_EQ(c.delivered(follower), (std::vector<std::string>{"a", "b"}));
}

// FLE-7: a settled server answers a LOOKING one with its leader and its (the leader's) epoch.
TEST(ZabElection, SettledServersAnswerWithTheirLeaderAndEpoch) {
  TestCluster c(3);
  const auto leader = c.settle();
  ASSERT_TRUE(leader);
  const std::size_t follower = (*leader + 1) % 3;
  const std::size_t other = (*leader + 2) % 3;
  c.node(follower).receive(c.now(), NodeId{static_cast<std::uint32_t>(other)},
                           encode(Notification{ServerState::looking, vote(static_cast<std::uint32_t>(other), Zxid{}, 0), 99}));
  const consensus::Output out = c.collect(follower);
  ASSERT_EQ(out.messages.size(), 1u);
  const auto n = std::get<Notification>(testing::decoded(out.messages[0].payload));
  EXPECT_EQ(n.state, ServerState::following);
  EXPECT_EQ(n.vote.leader, NodeId{static_cast<std::uint32_t>(*leader)});
  EXPECT_EQ(n.vote.peer_epoch, c.node(*leader).current_epoch());
  c.network().clear();
}

// FLE-8: with no news, notifications go out again, less and less often, up to the bound.
TEST(ZabElection, NotificationsAreResentWithBackoff) {
  Solo s(0);
  std::vector<Nanos> sent_at;
  for (int ms = 0; ms < 3000; ++ms) {
    s.advance(milliseconds(1));
    if (!s.sent_of<Notification>(1).empty()) sent_at.push_back(s.now());
  }
  ASSERT_GE(sent_at.size(), 4u);
  EXPECT_LT(sent_at[1] - sent_at[0], sent_at[3] - sent_at[2]);
  const ZabConfig c;
  for (std::size_t i = 1; i < sent_at.size(); ++i) {
    EXPECT_LE(sent_at[i] - sent_at[i - 1], c.notification_timeout_max * 3 / 2 + milliseconds(1));
  }
}

}  // namespace
}  // namespace zab_election_test
}  // namespace lockstep::zab
