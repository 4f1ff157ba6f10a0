// Leader election (§5.1, §5.2, §5.4.1), PreVote and CheckQuorum (thesis §9.6, §4.2.3) and
// leadership transfer (thesis §3.10).
#include <gtest/gtest.h>

#include "tests/protocols/raft/raft_test_cluster.h"

namespace lockstep::raft {
namespace raft_election_test {
namespace {

using testing::decoded;
using testing::TestCluster;

// A replica at `term` that has voted for nobody and holds entries of the given terms.
std::unique_ptr<RaftReplica> replica_with_log(NodeId self, Term term, std::vector<Term> entry_terms) {
  auto r = std::make_unique<RaftReplica>(testing::test_config(), self,
                                         std::vector<NodeId>{NodeId{0}, NodeId{1}, NodeId{2}}, 7);
  r->recover(milliseconds(1), testing::records_with_log(term, entry_terms));
  r->take_output();
  return r;
}

Bytes vote_request(Term term, LogIndex last_index, Term last_term, bool prevote = false) {
  return encode(RaftMessage{VoteRequest{term, last_index, last_term, prevote, false}});
}

std::optional<VoteResponse> only_vote_response(const consensus::Output& out) {
  if (out.messages.size() != 1) return std::nullopt;
  auto m = decode_message(out.messages[0].payload);
  if (!m || !std::holds_alternative<VoteResponse>(*m)) return std::nullopt;
  return std::get<VoteResponse>(*m);
}

TEST(RaftElection, SingleNodeElectsItselfAndCommits_5_2) {
  TestCluster c(1);
  c.run_for(milliseconds(400));
  ASSERT_EQ(c.leader(), 0u);
  c.commit(0, "a");
  EXPECT_EQ(c.applied(0), std::vector<std::string>{"a"});
}

TEST(RaftElection, ExactlyOneLeaderAfterTimeouts_5_2) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    TestCluster c(5, testing::test_config(), seed);
    c.run_for(seconds(2));
    const auto leader = c.leader();
    ASSERT_TRUE(leader.has_value()) << "seed " << seed;
    for (std::size_t i = 0; i < c.size(); ++i) {
      EXPECT_EQ(c.node(i).term(), c.node(*leader).term());
      EXPECT_EQ(c.node(i).leader(), NodeId{static_cast<std::uint32_t>(*leader)});
    }
  }
}

TEST(RaftElection, ElectionTimeoutIsRandomizedWithinBounds_5_2) {
  const RaftConfig config = testing::test_config();
  std::set<std::int64_t> deadlines;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    RaftReplica r(config, NodeId{0}, {NodeId{0}, NodeId{1}, NodeId{2}}, seed);
    r.recover(Nanos::zero(), {});
    EXPECT_GE(r.next_tick(), config.election_timeout_min);
    EXPECT_LE(r.next_tick(), config.election_timeout_max);
    deadlines.insert(r.next_tick().count);
  }
  EXPECT_GT(deadlines.size(), 40u);  // split votes are rare only if timeouts differ
}

TEST(RaftElection, VoteDeniedToCandidateWithStaleLog_5_4_1) {
  // Voter's last entry has term 2; a candidate whose last term is 1 is behind, however long.
  auto voter = replica_with_log(NodeId{0}, Term{2}, {Term{1}, Term{2}});
  voter->receive(seconds(1), NodeId{1}, vote_request(Term{3}, LogIndex{5}, Term{1}));
  auto reply = only_vote_response(voter->take_output());
  ASSERT_TRUE(reply);
  EXPECT_FALSE(reply->granted);
  EXPECT_EQ(voter->voted_for(), std::nullopt);
  // Same last term but shorter: also behind.
  voter->receive(seconds(1), NodeId{1}, vote_request(Term{4}, LogIndex{1}, Term{2}));
  reply = only_vote_response(voter->take_output());
  ASSERT_TRUE(reply);
  EXPECT_FALSE(reply->granted);
  // Same last term, same length: up to date.
  voter->receive(seconds(1), NodeId{1}, vote_request(Term{5}, LogIndex{2}, Term{2}));
  reply = only_vote_response(voter->take_output());
  ASSERT_TRUE(reply);
  EXPECT_TRUE(reply->granted);
}

TEST(RaftElection, VoteGrantedToCandidateWithHigherLastTerm_5_4_1) {
  auto voter = replica_with_log(NodeId{0}, Term{2}, {Term{1}, Term{1}, Term{1}});
  voter->receive(seconds(1), NodeId{1}, vote_request(Term{3}, LogIndex{1}, Term{2}));
  auto reply = only_vote_response(voter->take_output());
  ASSERT_TRUE(reply);
  EXPECT_TRUE(reply->granted);
  EXPECT_EQ(voter->voted_for(), NodeId{1});
}

TEST(RaftElection, AtMostOneVotePerTerm_5_2) {
  auto voter = replica_with_log(NodeId{0}, Term{1}, {});
  voter->receive(seconds(1), NodeId{1}, vote_request(Term{2}, LogIndex{0}, Term{0}));
  ASSERT_TRUE(only_vote_response(voter->take_output())->granted);
  voter->receive(seconds(1), NodeId{2}, vote_request(Term{2}, LogIndex{0}, Term{0}));
  EXPECT_FALSE(only_vote_response(voter->take_output())->granted);
  // A retransmitted request from the candidate it voted for is granted again.
  voter->receive(seconds(1), NodeId{1}, vote_request(Term{2}, LogIndex{0}, Term{0}));
  EXPECT_TRUE(only_vote_response(voter->take_output())->granted);
}

TEST(RaftElection, VotePersistedAndSyncedBeforeReply_5_2) {
  auto voter = replica_with_log(NodeId{0}, Term{1}, {});
  voter->receive(seconds(1), NodeId{1}, vote_request(Term{2}, LogIndex{0}, Term{0}));
  const consensus::Output out = voter->take_output();
  ASSERT_TRUE(only_vote_response(out)->granted);
  EXPECT_TRUE(out.sync_before_send);
  ASSERT_FALSE(out.persist.empty());
  const auto last = decode_record(out.persist.back());
  ASSERT_TRUE(last && std::holds_alternative<HardStateRecord>(*last));
  EXPECT_EQ(std::get<HardStateRecord>(*last), (HardStateRecord{Term{2}, NodeId{1}}));
}

TEST(RaftElection, CandidatePersistsTermAndSelfVoteBeforeRequestingVotes_5_2) {
  RaftConfig config = testing::test_config();
  config.prevote = false;
  RaftReplica r(config, NodeId{0}, {NodeId{0}, NodeId{1}, NodeId{2}}, 3);
  r.recover(Nanos::zero(), {});
  r.take_output();
  r.tick(r.next_tick());
  const consensus::Output out = r.take_output();
  EXPECT_EQ(r.role(), RaftRole::candidate);
  EXPECT_EQ(out.messages.size(), 2u);
  EXPECT_TRUE(out.sync_before_send);
  ASSERT_EQ(out.persist.size(), 1u);
  EXPECT_EQ(std::get<HardStateRecord>(*decode_record(out.persist[0])),
            (HardStateRecord{Term{1}, NodeId{0}}));
}

TEST(RaftElection, StepsDownOnHigherTerm_5_1) {
  TestCluster c(3);
  c.elect(0);
  ASSERT_EQ(c.leader(), 0u);
  const Term term = c.node(0).term();
  // Any message with a higher term, here a heartbeat response, deposes the leader.
  c.node(0).receive(c.now(), NodeId{1}, encode(RaftMessage{HeartbeatResponse{term.next(), 0}}));
  EXPECT_EQ(c.node(0).role(), RaftRole::follower);
  EXPECT_EQ(c.node(0).term(), term.next());
  EXPECT_EQ(c.node(0).voted_for(), std::nullopt);
  const consensus::Output out = c.node(0).take_output();
  ASSERT_TRUE(out.role_change);
  EXPECT_EQ(out.role_change->role, consensus::Role::follower);
}

TEST(RaftElection, CandidateStepsDownOnAppendFromLeaderOfSameTerm_5_2) {
  RaftConfig config = testing::test_config();
  config.prevote = false;
  RaftReplica r(config, NodeId{0}, {NodeId{0}, NodeId{1}, NodeId{2}}, 3);
  r.recover(Nanos::zero(), {});
  r.tick(r.next_tick());
  ASSERT_EQ(r.role(), RaftRole::candidate);
  r.receive(seconds(1), NodeId{1},
            encode(RaftMessage{AppendRequest{r.term(), LogIndex{0}, Term{0}, LogIndex{0}, 1, {}}}));
  EXPECT_EQ(r.role(), RaftRole::follower);
  EXPECT_EQ(r.leader(), NodeId{1});
}

TEST(RaftElection, RejectedByMajorityCandidateBecomesFollower_5_2) {
  RaftConfig config = testing::test_config();
  config.prevote = false;
  RaftReplica r(config, NodeId{0}, {NodeId{0}, NodeId{1}, NodeId{2}}, 3);
  r.recover(Nanos::zero(), {});
  r.tick(r.next_tick());
  r.receive(seconds(1), NodeId{1}, encode(RaftMessage{VoteResponse{r.term(), false, false}}));
  EXPECT_EQ(r.role(), RaftRole::candidate);
  r.receive(seconds(1), NodeId{2}, encode(RaftMessage{VoteResponse{r.term(), false, false}}));
  EXPECT_EQ(r.role(), RaftRole::follower);
}

TEST(RaftPreVote, PreVoteDoesNotChangeAnyTerm_9_6) {
  TestCluster c(3);
  c.node(0).tick(c.node(0).next_tick());
  EXPECT_EQ(c.node(0).role(), RaftRole::precandidate);
  EXPECT_EQ(c.node(0).term(), Term{0});
  const consensus::Output out = c.collect(0);
  EXPECT_TRUE(out.persist.empty());  // nothing durable changes in a PreVote
  ASSERT_EQ(out.messages.size(), 2u);
  const auto request = std::get<VoteRequest>(decoded(out.messages[0].payload));
  EXPECT_TRUE(request.prevote);
  EXPECT_EQ(request.term, Term{1});
  // Voters answer without moving to term 1.
  c.deliver_one();
  EXPECT_EQ(c.node(1).term(), Term{0});
  EXPECT_EQ(c.node(1).voted_for(), std::nullopt);
}

TEST(RaftPreVote, PartitionedNodeDoesNotDisruptLeader_9_6) {
  TestCluster c(3);
  c.elect(0);
  const Term term = c.node(0).term();
  c.isolate(2);
  c.run_for(seconds(3));  // node 2 times out over and over
  EXPECT_EQ(c.node(2).term(), term) << "PreVote must keep a partitioned node's term";
  c.heal();
  c.run_for(seconds(1));
  EXPECT_EQ(c.leader(), 0u);
  EXPECT_EQ(c.node(0).term(), term);
}

TEST(RaftPreVote, WithoutPreVoteAPartitionedNodeInflatesItsTerm_9_6) {
  // The contrast case: why PreVote exists.
  RaftConfig config = testing::test_config();
  config.prevote = false;
  config.check_quorum = false;
  TestCluster c(3, config);
  c.elect(0);
  const Term term = c.node(0).term();
  c.isolate(2);
  c.run_for(seconds(3));
  EXPECT_GT(c.node(2).term(), term);
  c.heal();
  c.run_for(seconds(2));
  ASSERT_TRUE(c.leader());
  EXPECT_GT(c.node(*c.leader()).term(), term) << "the returning node forced a new election";
}

TEST(RaftCheckQuorum, LeaderStepsDownWithoutQuorum_9_6) {
  TestCluster c(3);
  c.elect(0);
  c.isolate(0);
  c.run_for(c.config().election_timeout_min * 2 + milliseconds(10));
  EXPECT_NE(c.node(0).role(), RaftRole::leader);
}

TEST(RaftCheckQuorum, WithoutCheckQuorumIsolatedLeaderStaysLeader_9_6) {
  RaftConfig config = testing::test_config();
  config.check_quorum = false;
  TestCluster c(3, config);
  c.elect(0);
  c.isolate(0);
  c.run_for(seconds(1));
  EXPECT_EQ(c.node(0).role(), RaftRole::leader);
}

TEST(RaftCheckQuorum, FollowerIgnoresVoteRequestWhileLeaderIsFresh_4_2_3) {
  TestCluster c(3);
  c.elect(0);
  const Term term = c.node(0).term();
  // Node 2 heard from the leader just now: a RequestVote for a higher term is ignored outright.
  c.node(1).receive(c.now(), NodeId{2},
                    vote_request(term.next(), c.node(1).log().last_index(), term));
  const consensus::Output out = c.node(1).take_output();
  EXPECT_TRUE(out.messages.empty());
  EXPECT_EQ(c.node(1).term(), term);
  EXPECT_EQ(c.node(1).voted_for(), NodeId{0});
}

TEST(RaftTransfer, TimeoutNowHandsLeadershipToTarget_3_10) {
  TestCluster c(3);
  c.elect(0);
  c.commit(0, "a");
  EXPECT_EQ(c.node(0).transfer_leadership(c.now(), NodeId{2}).outcome,
            consensus::Outcome::accepted);
  c.collect(0);
  c.deliver_all();
  c.run_for(milliseconds(10));
  EXPECT_EQ(c.leader(), 2u);
  EXPECT_EQ(c.node(0).role(), RaftRole::follower);
  c.commit(2, "b");
  EXPECT_EQ(c.applied(0), (std::vector<std::string>{"a", "b"}));
}

TEST(RaftTransfer, TargetIsCaughtUpBeforeTimeoutNow_3_10) {
  TestCluster c(3);
  c.elect(0);
  c.isolate(2);
  c.commit(0, "a");
  c.commit(0, "b");
  c.heal();
  ASSERT_LT(c.node(2).log().last_index(), c.node(0).log().last_index());
  ASSERT_EQ(c.node(0).transfer_leadership(c.now(), NodeId{2}).outcome,
            consensus::Outcome::accepted);
  c.collect(0);
  c.deliver_all();
  c.run_for(c.config().heartbeat_interval * 2);
  EXPECT_EQ(c.leader(), 2u);
  EXPECT_EQ(c.applied(2), (std::vector<std::string>{"a", "b"}));
}

TEST(RaftTransfer, ProposalsRefusedDuringTransferUntilAborted_3_10) {
  TestCluster c(3);
  c.elect(0);
  c.crash(2);
  ASSERT_EQ(c.node(0).transfer_leadership(c.now(), NodeId{2}).outcome,
            consensus::Outcome::accepted);
  c.collect(0);
  EXPECT_EQ(c.propose(0, "x").outcome, consensus::Outcome::busy);
  c.run_for(c.config().election_timeout_min + milliseconds(5));
  EXPECT_EQ(c.node(0).transfer_target(), std::nullopt);
  EXPECT_EQ(c.leader(), 0u);
  EXPECT_EQ(c.propose(0, "x").outcome, consensus::Outcome::accepted);
}

TEST(RaftTransfer, TransferToNonMemberUnsupported_3_10) {
  TestCluster c(3);
  c.elect(0);
  EXPECT_EQ(c.node(0).transfer_leadership(c.now(), NodeId{9}).outcome,
            consensus::Outcome::unsupported);
  EXPECT_EQ(c.node(1).transfer_leadership(c.now(), NodeId{2}).outcome,
            consensus::Outcome::not_leader);
}

}  // namespace
}  // namespace raft_election_test
}  // namespace lockstep::raft
