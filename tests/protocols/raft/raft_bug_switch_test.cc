// The planted bug switch bug_vote_without_log_check (protocols/raft/README.md): with it on, a
// voter grants its vote and its PreVote to a candidate whose log is behind its own, which §5.4.1
// forbids; with it off (the default) the same requests are refused.
#include <gtest/gtest.h>

#include "tests/protocols/raft/raft_test_cluster.h"

namespace lockstep::raft {
namespace raft_bug_switch_test {
namespace {

// A voter at term 2 whose log holds entries of terms 1 and 2, with the switch as given.
std::unique_ptr<RaftReplica> voter(bool bug) {
  RaftConfig config = testing::test_config();
  config.bug_vote_without_log_check = bug;
  auto r = std::make_unique<RaftReplica>(config, NodeId{0},
                                         std::vector<NodeId>{NodeId{0}, NodeId{1}, NodeId{2}}, 7);
  r->recover(milliseconds(1), testing::records_with_log(Term{2}, {Term{1}, Term{2}}));
  r->take_output();
  return r;
}

// The voter's answer to a (Pre)Vote request from a candidate whose last entry has term 1: a log
// behind the voter's, however long.
bool granted_to_stale_candidate(RaftReplica& r, bool prevote) {
  r.receive(seconds(1), NodeId{1},
            encode(RaftMessage{VoteRequest{Term{3}, LogIndex{5}, Term{1}, prevote, false}}));
  const consensus::Output out = r.take_output();
  if (out.messages.size() != 1) {
    ADD_FAILURE() << out.messages.size() << " messages, expected one VoteResponse";
    return false;
  }
  const auto m = decode_message(out.messages[0].payload);
  if (!m || !std::holds_alternative<VoteResponse>(*m)) {
    ADD_FAILURE() << "the reply is not a VoteResponse";
    return false;
  }
  return std::get<VoteResponse>(*m).granted;
}

TEST(RaftBugSwitch, VoteWithoutLogCheckGrantsAStaleCandidate_5_4_1) {
  auto on = voter(true);
  EXPECT_TRUE(granted_to_stale_candidate(*on, /*prevote=*/true));
  EXPECT_TRUE(granted_to_stale_candidate(*on, /*prevote=*/false));
  EXPECT_EQ(on->voted_for(), NodeId{1});

  auto off = voter(false);
  EXPECT_FALSE(granted_to_stale_candidate(*off, /*prevote=*/true));
  EXPECT_FALSE(granted_to_stale_candidate(*off, /*prevote=*/false));
  EXPECT_EQ(off->voted_for(), std::nullopt);
}

}  // namespace
}  // namespace raft_bug_switch_test
}  // namespace lockstep::raft
