// Discovery and synchronization (Zab paper §III-B, Algorithms 1 and 2; ZooKeeper's
// LearnerHandler.syncFollower for the choice of DIFF, TRUNC or SNAP).
#include <gtest/gtest.h>

#include "tests/protocols/zab/zab_test_solo.h"

namespace lockstep::zab {
namespace zab_discovery_sync_test {
namespace {

using testing::Solo;
using testing::TestCluster;
using testing::txn;

constexpr std::uint64_t kSession = 77;

HistorySummary summary_of(const std::vector<Zxid>& zxids) {
  History h;
  for (Zxid z : zxids) h.append(z, to_bytes("x"));
  HistorySummary s;
  s.last_position = h.last_position();
  s.last_zxid = h.last_zxid();
  s.runs = h.runs();
  return s;
}

// A leader n0 with `disk`, brought to synchronizing n1: n1 connects, gets NEWEPOCH and answers
// ACKEPOCH with `follower`. The output then holds what n0 sends n1.
Solo leader_syncing(const std::vector<Bytes>& disk, Epoch follower_epoch,
                    const HistorySummary& follower, ZabConfig config = testing::test_config()) {
  Solo s(0, 3, config, disk);
  s.lead({1});
  s.feed(1, FollowerInfo{kSession, Epoch{0}, follower.last_zxid});
  const auto epochs = s.sent_of<NewEpoch>(1);
  EXPECT_EQ(epochs.size(), 1u);
  s.feed(1, AckEpoch{kSession, follower_epoch, follower});
  return s;
}

// Algorithm 1: the new epoch is above every acceptedEpoch of the quorum. n0 accepted epoch 7 from
// a leader that never got established; n2 must propose 8, or n0 refuses it and n2 never leads.
TEST(ZabDiscovery, NewEpochIsAboveEveryAcceptedEpochOfTheQuorum) {
  TestCluster c(3, testing::test_config(), 1,
                {testing::records_with(Epoch{7}, Epoch{1}, testing::zxids({{1, 2}})),
                 testing::records_with(Epoch{1}, Epoch{1}, testing::zxids({{1, 2}})),
                 testing::records_with(Epoch{3}, Epoch{1}, testing::zxids({{1, 3}}))});
  c.isolate(1);  // the quorum must be {n0, n2}
  const auto leader = c.settle();
  ASSERT_EQ(leader, 2u);
  EXPECT_EQ(c.node(2).current_epoch(), Epoch{8});
  EXPECT_EQ(c.node(0).accepted_epoch(), Epoch{8});
  EXPECT_EQ(c.node(0).current_epoch(), Epoch{8});
}

// Algorithm 1, follower: NEWEPOCH below the accepted epoch is refused; the follower goes back to
// election and acknowledges nothing.
TEST(ZabDiscovery, FollowerRefusesAnOlderEpoch) {
  Solo s(0, 3, testing::test_config(), testing::records_with(Epoch{5}, Epoch{4}, {}));
  const std::uint64_t session = s.follow(1, {2});
  s.feed(1, NewEpoch{session, 1, Epoch{3}});
  EXPECT_EQ(s.r().state(), ServerState::looking);
  EXPECT_EQ(s.r().accepted_epoch(), Epoch{5});
  EXPECT_TRUE(s.sent_of<AckEpoch>(1).empty());
  EXPECT_TRUE(s.persisted().empty());
}

// One established leader per epoch: an epoch already accepted from another leader is refused
// too; the same epoch again from the same leader (a reconnect) is acknowledged.
TEST(ZabDiscovery, AnAcceptedEpochIsAcknowledgedToItsOwnLeaderOnly) {
  Solo other(0, 3, testing::test_config(), testing::records_with(Epoch{5}, Epoch{4}, {}, NodeId{2}));
  std::uint64_t session = other.follow(1, {2});
  other.feed(1, NewEpoch{session, 1, Epoch{5}});
  EXPECT_EQ(other.r().state(), ServerState::looking);

  Solo same(0, 3, testing::test_config(), testing::records_with(Epoch{5}, Epoch{4}, {}, NodeId{1}));
  session = same.follow(1, {2});
  same.feed(1, NewEpoch{session, 1, Epoch{5}});
  EXPECT_EQ(same.r().phase(), Phase::synchronization);
  EXPECT_EQ(same.sent_of<AckEpoch>(1).size(), 1u);
}

// Algorithm 1: acceptedEpoch is persisted, and synced, before ACKEPOCH leaves.
TEST(ZabDiscovery, AcceptedEpochIsSyncedBeforeAckEpoch) {
  Solo s(0);
  const std::uint64_t session = s.follow(1, {2});
  s.feed(1, NewEpoch{session, 1, Epoch{6}});
  EXPECT_TRUE(s.out().sync_before_send);
  const auto records = s.persisted();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(std::get<EpochRecord>(records[0]), (EpochRecord{Epoch{6}, NodeId{1}, Epoch{0}}));
  const auto acks = s.sent_of<AckEpoch>(1);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].session, session);
}

// A session is named by the follower, but numbered by the leadership that takes it, from its
// NEWEPOCH: a follower still in discovery keeps sending FOLLOWERINFO, and a leader that lost its
// quorum and was elected again meanwhile takes the same session a second time. What the follower
// held before NEWEPOCH under another numbering is the earlier leadership's, and must not stand in
// for this one's messages (found by fuzzing: scenarios/zab/session-reused-across-leaderships.json).
TEST(ZabDiscovery, ASessionIsNumberedFromItsNewEpoch) {
  Solo s(0);
  const std::uint64_t session = s.follow(1, {2});
  s.feed(1, Ping{session, 5008, 1});  // the earlier leadership's, numbered from 5001
  s.feed(1, Ping{session, 1001, 2});  // this one's, overtaking its NEWEPOCH
  EXPECT_TRUE(s.sent_to(1).empty());
  s.feed(1, NewEpoch{session, 1000, Epoch{6}});
  EXPECT_EQ(s.sent_of<AckEpoch>(1).size(), 1u);
  const auto answers = s.sent_of<PingAck>(1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].round, 2u);
  // Nothing is left behind a gap: no reconnect.
  s.advance(s.r().config().gap_timeout + milliseconds(1));
  EXPECT_EQ(s.r().reconnects(), 0u);
  EXPECT_EQ(s.r().phase(), Phase::synchronization);
}

// The leader's side: a retransmitted FOLLOWERINFO gets NEWEPOCH again under the same number, and
// the same session taken by a later leadership of the same server is numbered apart.
TEST(ZabDiscovery, EachLeadershipNumbersTheSessionsItTakes) {
  Solo s(0);
  s.lead({1});
  s.feed(1, FollowerInfo{kSession, Epoch{0}, Zxid{}});
  const auto first = s.sent_of<NewEpoch>(1);
  ASSERT_EQ(first.size(), 1u);
  s.feed(1, FollowerInfo{kSession, Epoch{0}, Zxid{}});
  const auto again = s.sent_of<NewEpoch>(1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].seq, first[0].seq);

  s.advance(s.r().config().init_timeout);  // no ACKEPOCH: back to election
  ASSERT_EQ(s.r().state(), ServerState::looking);
  s.lead({1});
  s.feed(1, FollowerInfo{kSession, first[0].epoch, Zxid{}});
  const auto second = s.sent_of<NewEpoch>(1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_GT(second[0].epoch, first[0].epoch);
  EXPECT_NE(second[0].seq, first[0].seq);
}

// ZooKeeper's check in waitForEpochAck: a follower of the first quorum that is ahead of the
// leader means the election went wrong; the leader goes back to it instead of truncating that
// follower's (possibly committed) transactions.
TEST(ZabDiscovery, LeaderGoesBackToElectionWhenAFollowerIsAhead) {
  const auto disk = testing::records_with(Epoch{1}, Epoch{1}, testing::zxids({{1, 2}}));
  Solo ahead = leader_syncing(disk, Epoch{1}, summary_of(testing::zxids({{1, 4}})));
  EXPECT_EQ(ahead.r().state(), ServerState::looking);
  EXPECT_TRUE(ahead.sent_of<NewLeader>(1).empty());

  Solo behind = leader_syncing(disk, Epoch{1}, summary_of(testing::zxids({{1, 1}})));
  EXPECT_EQ(behind.r().state(), ServerState::leading);
  EXPECT_EQ(behind.sent_of<NewLeader>(1).size(), 1u);
}

// Algorithm 2 / syncFollower: a follower whose history is a prefix of ours gets a DIFF of the rest.
TEST(ZabSync, DiffWhenTheFollowerHoldsAPrefix) {
  const auto disk = testing::records_with(Epoch{2}, Epoch{2}, testing::zxids({{1, 2}, {2, 2}}));
  Solo s = leader_syncing(disk, Epoch{1}, summary_of(testing::zxids({{1, 2}})));
  const auto msgs = s.sent_to(1);
  ASSERT_EQ(msgs.size(), 2u);
  const auto& diff = std::get<Diff>(msgs[0]);
  EXPECT_EQ(diff.prev_zxid, (Zxid{Epoch{1}, 2}));
  ASSERT_EQ(diff.txns.size(), 2u);
  EXPECT_EQ(diff.txns[0].zxid, (Zxid{Epoch{2}, 1}));
  EXPECT_EQ(std::get<NewLeader>(msgs[1]).epoch, Epoch{3});
  EXPECT_EQ(std::get<NewLeader>(msgs[1]).zxid, (Zxid{Epoch{2}, 2}));
}

// Algorithm 2 / syncFollower: a follower holding a proposal of an old epoch that we never had
// (it was never committed) is cut back to the common prefix first: TRUNC, then DIFF.
TEST(ZabSync, TruncWhenTheFollowerHoldsTransactionsWeDoNot) {
  const auto disk = testing::records_with(Epoch{2}, Epoch{2}, testing::zxids({{1, 2}, {2, 2}}));
  Solo s = leader_syncing(disk, Epoch{1}, summary_of(testing::zxids({{1, 3}})));
  const auto msgs = s.sent_to(1);
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(std::get<Trunc>(msgs[0]).zxid, (Zxid{Epoch{1}, 2}));
  const auto& diff = std::get<Diff>(msgs[1]);
  EXPECT_EQ(diff.prev_zxid, (Zxid{Epoch{1}, 2}));
  EXPECT_EQ(diff.txns.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<NewLeader>(msgs[2]));
}

// The common prefix is found across several epochs the follower holds and we do not.
TEST(ZabSync, TruncFindsTheCommonPrefixAcrossEpochs) {
  const auto disk = testing::records_with(Epoch{5}, Epoch{5}, testing::zxids({{1, 2}, {4, 1}}));
  Solo s = leader_syncing(disk, Epoch{3}, summary_of(testing::zxids({{1, 3}, {2, 2}, {3, 1}})));
  const auto truncs = s.sent_of<Trunc>(1);
  ASSERT_EQ(truncs.size(), 1u);
  EXPECT_EQ(truncs[0].zxid, (Zxid{Epoch{1}, 2}));
}

// Algorithm 2 / syncFollower: when we compacted past the common prefix, SNAP then DIFF.
TEST(ZabSync, SnapWhenWeNoLongerHoldWhatTheFollowerLacks) {
  std::vector<Bytes> disk = testing::records_with(Epoch{2}, Epoch{2}, {});
  disk.push_back(encode(ZabRecord{SnapshotRecord{Position{3}, Zxid{Epoch{1}, 3}, 42, to_bytes("a\nb\nc")}}));
  disk.push_back(encode(ZabRecord{TxnsRecord{Position{4}, {txn(2, 1, "d")}}}));
  Solo s = leader_syncing(disk, Epoch{1}, summary_of(testing::zxids({{1, 1}})));
  const auto msgs = s.sent_to(1);
  ASSERT_EQ(msgs.size(), 3u);
  const auto& snap = std::get<Snap>(msgs[0]);
  EXPECT_EQ(snap.position, Position{3});
  EXPECT_EQ(snap.zxid, (Zxid{Epoch{1}, 3}));
  EXPECT_EQ(snap.digest, 42u);
  const auto& diff = std::get<Diff>(msgs[1]);
  EXPECT_EQ(diff.prev_zxid, (Zxid{Epoch{1}, 3}));
  ASSERT_EQ(diff.txns.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<NewLeader>(msgs[2]));
}

// Algorithm 2, follower: the synchronized history and currentEpoch are on disk before NEWLEADER
// is acknowledged. The DIFF is written but not yet synced; the output carrying the ACK syncs it.
TEST(ZabSync, NewLeaderIsAcknowledgedOnlyAfterTheHistoryIsDurable) {
  Solo s(0);
  const std::uint64_t session = s.follow(1, {2});
  s.feed(1, NewEpoch{session, 1, Epoch{2}});
  s.feed(1, Diff{session, 2, Zxid{}, {txn(1, 1, "a"), txn(1, 2, "b")}});
  EXPECT_TRUE(s.out().messages.empty());
  ASSERT_EQ(s.persisted().size(), 1u);
  EXPECT_EQ(std::get<TxnsRecord>(s.persisted()[0]).txns.size(), 2u);
  s.feed(1, NewLeader{session, 3, Epoch{2}, Zxid{Epoch{1}, 2}});
  EXPECT_TRUE(s.out().sync_before_send);
  ASSERT_EQ(s.persisted().size(), 1u);
  EXPECT_EQ(std::get<EpochRecord>(s.persisted()[0]).current_epoch, Epoch{2});
  const auto acks = s.sent_of<Ack>(1);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].zxid, (Zxid{Epoch{1}, 2}));
  EXPECT_EQ(s.r().current_epoch(), Epoch{2});
}

// Algorithm 2, leader: not established, and so no proposals, until a quorum acknowledged
// NEWLEADER (with 3 servers: itself and one follower).
TEST(ZabSync, LeaderServesOnlyAfterAQuorumOfNewLeaderAcks) {
  const auto disk = testing::records_with(Epoch{1}, Epoch{1}, testing::zxids({{1, 2}}));
  Solo s = leader_syncing(disk, Epoch{1}, summary_of(testing::zxids({{1, 2}})));
  s.tick_now();  // its own currentEpoch is handed over
  EXPECT_FALSE(s.r().established());
  EXPECT_EQ(s.r().propose(s.now(), to_bytes("x")).outcome, consensus::Outcome::busy);
  EXPECT_EQ(s.r().commit_position(), Position{0});
  s.feed(1, Ack{kSession, Zxid{Epoch{1}, 2}});
  EXPECT_TRUE(s.r().established());
  EXPECT_EQ(s.r().commit_position(), Position{2});  // its initial history commits
  const auto up = s.sent_of<UpToDate>(1);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].commit_zxid, (Zxid{Epoch{1}, 2}));
  EXPECT_EQ(s.r().propose(s.now(), to_bytes("x")).outcome, consensus::Outcome::accepted);
}

// With 5 servers, two that can talk elect and establish no one.
TEST(ZabSync, TwoOfFiveEstablishNoLeader) {
  TestCluster c(5);
  for (std::size_t i = 2; i < 5; ++i) c.isolate(i);  // only n0 and n1 can talk
  c.run_for(seconds(2));
  for (std::size_t i = 0; i < 5; ++i) EXPECT_FALSE(c.node(i).established()) << i;
  c.heal();
  EXPECT_TRUE(c.settle());
}

// A follower that joins an established leader is synchronized and gets UPTODATE at once.
TEST(ZabSync, ALateFollowerCatchesUp) {
  TestCluster c(3);
  c.crash(2);
  const auto leader = c.settle();
  ASSERT_TRUE(leader);
  for (int i = 0; i < 5; ++i) c.commit(*leader, testing::numbered("c", i));
  c.start(2);
  c.run_for(milliseconds(300));
  EXPECT_EQ(c.node(2).phase(), Phase::broadcast);
  EXPECT_EQ(c.delivered(2), c.delivered(*leader));
  EXPECT_EQ(c.delivered(2).size(), 5u);
}

}  // namespace
}  // namespace zab_discovery_sync_test
}  // namespace lockstep::zab
