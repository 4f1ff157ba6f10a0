// Log replication and commitment (§5.3, §5.4.2, §8), flow control, untrusted input.
#include <gtest/gtest.h>

#include "tests/protocols/raft/raft_test_cluster.h"

namespace lockstep::raft {
namespace raft_replication_test {
namespace {

using testing::decoded;
using testing::records_with_log;
using testing::terms;
using testing::TestCluster;

RaftConfig no_prevote() {
  RaftConfig c = testing::test_config();
  c.prevote = false;
  return c;
}

// A replica recovered from `records`, members {0, 1, 2}.
std::unique_ptr<RaftReplica> recovered(NodeId self, const std::vector<Bytes>& records,
                                       RaftConfig config = no_prevote()) {
  auto r = std::make_unique<RaftReplica>(config, self,
                                         std::vector<NodeId>{NodeId{0}, NodeId{1}, NodeId{2}}, 5);
  r->recover(milliseconds(1), records);
  r->take_output();
  return r;
}

// Makes `r` (prevote off) leader with one granted vote from node 1.
void win_election(RaftReplica& r) {
  r.tick(r.next_tick());
  r.receive(r.next_tick(), NodeId{1}, encode(RaftMessage{VoteResponse{r.term(), true, false}}));
  ASSERT_EQ(r.role(), RaftRole::leader);
}

Bytes append(Term term, LogIndex prev, Term prev_term, LogIndex commit, std::vector<Term> entry_terms) {
  AppendRequest m{term, prev, prev_term, commit, 0, {}};
  for (Term t : entry_terms) m.entries.push_back(Entry{t, EntryKind::command, to_bytes("y")});
  return encode(RaftMessage{std::move(m)});
}

AppendResponse only_append_response(const consensus::Output& out) {
  EXPECT_EQ(out.messages.size(), 1u);
  if (out.messages.empty()) return {};
  return std::get<AppendResponse>(decoded(out.messages[0].payload));
}

TEST(RaftReplication, CommittedCommandsAppliedInOrderOnEveryReplica_5_3) {
  TestCluster c(3);
  c.elect(0);
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    expected.push_back(testing::numbered("cmd", i));
    ASSERT_EQ(c.propose(0, expected.back()).outcome, consensus::Outcome::accepted);
  }
  c.deliver_all();
  c.run_for(milliseconds(100));
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(c.applied(i), expected) << "node " << i;
}

TEST(RaftReplication, NewLeaderCommitsANoopThatIsNotHandedUp_8) {
  TestCluster c(3);
  c.elect(0);
  const RaftLog& log = c.node(0).log();
  ASSERT_EQ(log.last_index(), LogIndex{1});
  EXPECT_EQ(log.at(LogIndex{1}).kind, EntryKind::noop);
  EXPECT_EQ(log.at(LogIndex{1}).term, c.node(0).term());
  EXPECT_EQ(c.node(0).commit_index(), LogIndex{1});
  EXPECT_TRUE(c.applied(0).empty());
  c.commit(0, "a");
  EXPECT_EQ(c.applied(0), std::vector<std::string>{"a"});
}

// Figure 8: an entry from an earlier term stored on a majority is not committed by counting;
// only once an entry of the current term reaches a majority do both commit.
TEST(RaftReplication, LeaderDoesNotCountOldTermEntriesToCommit_5_4_2) {
  auto leader = recovered(NodeId{0}, records_with_log(Term{3}, terms({{1, 1}, {2, 1}})));
  win_election(*leader);
  ASSERT_EQ(leader->term(), Term{4});
  ASSERT_EQ(leader->log().last_index(), LogIndex{3});  // [t1, t2, no-op t4]
  leader->take_output();                                // its own records are now durable
  // Node 1 acknowledges through index 2: the term-2 entry is now on a majority.
  leader->receive(seconds(1), NodeId{1},
                  encode(RaftMessage{AppendResponse{Term{4}, true, LogIndex{2}, {}, {}, {}, 0}}));
  leader->tick(seconds(1));
  EXPECT_EQ(leader->commit_index(), LogIndex{0}) << "§5.4.2: never commit old-term entries by count";
  EXPECT_TRUE(leader->take_output().committed.empty());
  // The no-op of term 4 reaches the majority: everything up to it commits.
  leader->receive(seconds(1), NodeId{1},
                  encode(RaftMessage{AppendResponse{Term{4}, true, LogIndex{3}, {}, {}, {}, 0}}));
  EXPECT_EQ(leader->commit_index(), LogIndex{3});
  EXPECT_EQ(leader->take_output().committed.size(), 2u);
}

TEST(RaftReplication, FollowerTruncatesConflictingSuffix_5_3) {
  auto follower = recovered(NodeId{1}, records_with_log(Term{2}, terms({{1, 2}, {2, 2}})));
  follower->receive(seconds(1), NodeId{0}, append(Term{3}, LogIndex{2}, Term{1}, LogIndex{0}, {Term{3}}));
  const consensus::Output out = follower->take_output();
  EXPECT_EQ(follower->log().last_index(), LogIndex{3});
  EXPECT_EQ(follower->log().term_at(LogIndex{3}), Term{3});
  const auto reply = only_append_response(out);
  EXPECT_TRUE(reply.success);
  EXPECT_EQ(reply.match_index, LogIndex{3});
  // The new suffix is one record that replaces everything from index 3 on.
  ASSERT_FALSE(out.persist.empty());
  const auto record = decode_record(out.persist.back());
  ASSERT_TRUE(record && std::holds_alternative<EntriesRecord>(*record));
  EXPECT_EQ(std::get<EntriesRecord>(*record).first_index, LogIndex{3});
}

TEST(RaftReplication, MatchingEntriesAreNotTruncated_5_3) {
  // A delayed, shorter AppendEntries must not cut off entries appended after it was sent.
  auto follower = recovered(NodeId{1}, records_with_log(Term{1}, terms({{1, 3}})));
  follower->receive(seconds(1), NodeId{0}, append(Term{1}, LogIndex{1}, Term{1}, LogIndex{0}, {Term{1}}));
  const consensus::Output out = follower->take_output();
  EXPECT_EQ(follower->log().last_index(), LogIndex{3});
  EXPECT_TRUE(out.persist.empty());
  EXPECT_EQ(only_append_response(out).match_index, LogIndex{2});
}

TEST(RaftReplication, ConsistencyCheckRejectsMissingPrevEntry_5_3) {
  auto follower = recovered(NodeId{1}, records_with_log(Term{1}, terms({{1, 1}})));
  follower->receive(seconds(1), NodeId{0}, append(Term{1}, LogIndex{5}, Term{1}, LogIndex{0}, {Term{1}}));
  const auto reply = only_append_response(follower->take_output());
  EXPECT_FALSE(reply.success);
  EXPECT_EQ(reply.reject_index, LogIndex{5});
  EXPECT_EQ(reply.hint_index, LogIndex{1});  // "my log ends at 1"
  EXPECT_EQ(follower->log().last_index(), LogIndex{1});
}

TEST(RaftReplication, FollowerPersistsAndSyncsBeforeAcknowledging_5_3) {
  auto follower = recovered(NodeId{1}, {});
  follower->receive(seconds(1), NodeId{0}, append(Term{1}, LogIndex{0}, Term{0}, LogIndex{0}, {Term{1}, Term{1}}));
  const consensus::Output out = follower->take_output();
  EXPECT_TRUE(only_append_response(out).success);
  EXPECT_TRUE(out.sync_before_send);
  bool has_entries = false;
  for (ByteView b : out.persist) {
    const auto r = decode_record(b);
    if (r && std::holds_alternative<EntriesRecord>(*r)) {
      has_entries = std::get<EntriesRecord>(*r).entries.size() == 2;
    }
  }
  EXPECT_TRUE(has_entries);
}

TEST(RaftReplication, FollowerCommitsOnlyThroughEntriesKnownToMatch_5_3) {
  // Leader commit is 10 but this append only proves the log matches through index 2.
  auto follower = recovered(NodeId{1}, records_with_log(Term{1}, terms({{1, 1}, {1, 4}})));
  follower->receive(seconds(1), NodeId{0}, append(Term{1}, LogIndex{1}, Term{1}, LogIndex{10}, {Term{1}}));
  EXPECT_EQ(follower->commit_index(), LogIndex{2});
}

TEST(RaftReplication, FastBackoffConvergesInFewRoundTrips_5_3) {
  // Node 1 holds 100 uncommitted entries of a deposed term-2 leader; the leader's log diverges at
  // index 2. One rejection per conflicting term, not one per entry.
  std::vector<std::vector<Bytes>> disks{
      records_with_log(Term{3}, terms({{1, 1}, {3, 50}})),
      records_with_log(Term{2}, terms({{1, 1}, {2, 100}})),
      records_with_log(Term{1}, terms({{1, 1}})),
  };
  TestCluster c(3, no_prevote(), 1, disks);
  c.elect(0);
  ASSERT_EQ(c.leader(), 0u);
  int rejects = 0;
  for (int steps = 0; steps < 10000 && !c.network().empty(); ++steps) {
    const testing::Envelope& e = c.network().front();
    if (e.to == NodeId{0}) {
      const auto m = decode_message(e.payload);
      if (m && std::holds_alternative<AppendResponse>(*m) && !std::get<AppendResponse>(*m).success) {
        ++rejects;
      }
    }
    c.deliver_one();
  }
  EXPECT_LE(rejects, 2);
  EXPECT_EQ(c.node(1).log().last_index(), c.node(0).log().last_index());
  EXPECT_EQ(c.node(1).log().last_digest(), c.node(0).log().last_digest());
}

TEST(RaftReplication, LeaderCountsItselfOnlyOnceItsRecordsAreHandedOver) {
  TestCluster c(1);
  c.elect(0);
  ASSERT_EQ(c.node(0).propose(c.now(), to_bytes("a")).outcome, consensus::Outcome::accepted);
  EXPECT_EQ(c.node(0).commit_index(), LogIndex{1}) << "not durable yet: must not count itself";
  c.collect(0);  // hands the record over with sync_before_send
  EXPECT_LE(c.node(0).next_tick(), c.now()) << "asks to be ticked at once";
  c.node(0).tick(c.now());
  EXPECT_EQ(c.node(0).commit_index(), LogIndex{2});
}

TEST(RaftReplication, InflightAppendsAreBoundedPerFollower) {
  RaftConfig config = testing::test_config();
  config.max_inflight_appends = 2;
  config.max_entries_per_append = 1;
  TestCluster c(3, config);
  c.elect(0);
  for (int i = 0; i < 6; ++i) c.propose(0, testing::numbered("c", i));
  std::size_t appends_to_1 = 0;
  for (const auto& e : c.network()) {
    const auto m = decode_message(e.payload);
    if (e.to == NodeId{1} && m && std::holds_alternative<AppendRequest>(*m)) ++appends_to_1;
  }
  EXPECT_EQ(appends_to_1, 2u);
  c.deliver_all();
  c.run_for(milliseconds(100));
  EXPECT_EQ(c.applied(1).size(), 6u);
}

TEST(RaftReplication, AppendsAreBatchedUpToTheEntryLimit) {
  RaftConfig config = testing::test_config();
  config.max_entries_per_append = 4;
  TestCluster c(3, config);
  c.elect(0);
  c.isolate(1);
  for (int i = 0; i < 10; ++i) c.propose(0, testing::numbered("c", i));
  c.deliver_all();
  c.heal();
  std::size_t largest = 0;
  for (int steps = 0; steps < 1000 && c.applied(1).size() < 10; ++steps) {
    c.advance(milliseconds(1));
    c.tick_due();
    while (!c.network().empty()) {
      const testing::Envelope& e = c.network().front();
      const auto m = decode_message(e.payload);
      if (e.to == NodeId{1} && m && std::holds_alternative<AppendRequest>(*m)) {
        largest = std::max(largest, std::get<AppendRequest>(*m).entries.size());
      }
      c.deliver_one();
    }
  }
  EXPECT_EQ(c.applied(1).size(), 10u);
  EXPECT_EQ(largest, 4u);
}

// A host that gathers writes while its disk is busy proposes them in one step: they leave as one
// append per follower, not one append per proposal.
TEST(RaftReplication, ProposalsOfOneStepLeaveAsOneAppendPerFollower) {
  TestCluster c(3);
  c.elect(0);
  c.network().clear();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(c.node(0).propose(c.now(), to_bytes(testing::numbered("c", i))).outcome,
              consensus::Outcome::accepted);
  }
  c.collect(0);
  std::vector<std::size_t> entries_to(3, 0);
  std::size_t appends = 0;
  for (const auto& e : c.network()) {
    const auto m = decode_message(e.payload);
    ASSERT_TRUE(m && std::holds_alternative<AppendRequest>(*m));
    ++appends;
    entries_to[e.to.value] += std::get<AppendRequest>(*m).entries.size();
  }
  EXPECT_EQ(appends, 2u);
  EXPECT_EQ(entries_to[1], 3u);
  EXPECT_EQ(entries_to[2], 3u);
  c.deliver_all();
  c.run_for(milliseconds(100));
  EXPECT_EQ(c.applied(1).size(), 3u);
}

TEST(RaftReplication, LostAppendsAreRecoveredByHeartbeats_5_3) {
  TestCluster c(3);
  c.elect(0);
  c.cut(0, 2);
  for (int i = 0; i < 5; ++i) c.commit(0, testing::numbered("c", i));
  c.heal();
  c.run_for(milliseconds(200));
  EXPECT_EQ(c.applied(2).size(), 5u);
}

TEST(RaftReplication, ProposeOnFollowerReturnsNotLeaderWithHint) {
  TestCluster c(3);
  c.elect(0);
  const auto r = c.propose(1, "x");
  EXPECT_EQ(r.outcome, consensus::Outcome::not_leader);
  EXPECT_EQ(r.leader_hint, NodeId{0});
}

TEST(RaftReplication, ProposeBusyOnceTooManyEntriesAreUncommitted) {
  RaftConfig config = testing::test_config();
  config.max_uncommitted_entries = 3;
  TestCluster c(3, config);
  c.elect(0);
  c.isolate(0);
  EXPECT_EQ(c.propose(0, "a").outcome, consensus::Outcome::accepted);
  EXPECT_EQ(c.propose(0, "b").outcome, consensus::Outcome::accepted);
  EXPECT_EQ(c.propose(0, "c").outcome, consensus::Outcome::accepted);
  EXPECT_EQ(c.propose(0, "d").outcome, consensus::Outcome::busy);
}

TEST(RaftReplication, MalformedMessagesAreDroppedAndCounted) {
  auto follower = recovered(NodeId{1}, records_with_log(Term{1}, terms({{1, 2}})));
  follower->receive(seconds(1), NodeId{0}, to_bytes("garbage"));
  // Decodes, but no leader could send it: entry terms go down.
  follower->receive(seconds(1), NodeId{0}, append(Term{3}, LogIndex{2}, Term{1}, LogIndex{0}, {Term{3}, Term{2}}));
  EXPECT_EQ(follower->malformed_messages(), 2u);
  EXPECT_EQ(follower->log().last_index(), LogIndex{2});
  EXPECT_EQ(follower->term(), Term{3});  // the term rule still applied (§5.1)
  EXPECT_TRUE(follower->take_output().messages.empty());
}

TEST(RaftReplication, StaleLeaderIsToldTheNewerTerm_5_1) {
  auto follower = recovered(NodeId{1}, records_with_log(Term{5}, {}));
  follower->receive(seconds(1), NodeId{0}, append(Term{4}, LogIndex{0}, Term{0}, LogIndex{0}, {Term{4}}));
  const consensus::Output out = follower->take_output();
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(std::get<HeartbeatResponse>(decoded(out.messages[0].payload)).term, Term{5});
  EXPECT_EQ(follower->log().last_index(), LogIndex{0});
}

}  // namespace
}  // namespace raft_replication_test
}  // namespace lockstep::raft
