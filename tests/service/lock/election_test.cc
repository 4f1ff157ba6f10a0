// Leader election (Chubby §2.4's primary election, etcd's concurrency.Election): campaign until
// elected with a sequencer as fencing token, resign, observe the leader and watch it change.
#include <gtest/gtest.h>

#include "tests/service/lock/lock_test_support.h"

namespace lockstep::service::lock::testing {
namespace election_test {
namespace {

class LockElection : public ::testing::Test {
 protected:
  void SetUp() override {
    h.begin_leadership(1);
    a = h.open();
    b2 = h.open();
    h.create_ok(a, election);
  }
  Harness h;
  SessionId a;
  SessionId b2;
  const std::string election = p("/primary");
};

TEST_F(LockElection, FirstCandidateIsElectedOthersWaitAndResignHandsOver) {
  const Result won = h.run(a, Campaign{election, b("addr-a")}).result;
  ASSERT_EQ(won.code, Code::ok);
  const Sequencer token_a = sequencer_of(won);
  EXPECT_EQ(token_a.mode, LockMode::exclusive);
  ASSERT_EQ(h.code(b2, Campaign{election, b("addr-b")}), Code::waiting);
  const std::uint64_t qb = h.next_request[b2];

  ASSERT_EQ(h.code(a, Resign{election}), Code::ok);
  ASSERT_EQ(h.completions(), (std::vector<CompletionSeen>{{b2, qb, Code::ok}}));
  const Sequencer token_b =
      sequencer_of(std::get<Completion>(h.last.notifications.back().body).result);
  EXPECT_GT(token_b.generation, token_a.generation);  // the old leader's token is now stale
  EXPECT_EQ(h.code(a, CheckSequencer{token_a}), Code::stale_sequencer);
  EXPECT_EQ(h.code(a, CheckSequencer{token_b}), Code::ok);
}

TEST_F(LockElection, ObserveNamesTheLeaderWithItsValueAndToken) {
  EXPECT_EQ(h.code(b2, Observe{election}), Code::no_leader);
  const Sequencer token = sequencer_of(h.run(a, Campaign{election, b("addr-a")}).result);
  const Result seen = h.run(b2, Observe{election}).result;
  ASSERT_EQ(seen.code, Code::ok);
  EXPECT_EQ(std::get<Leader>(seen.value), (Leader{a, token, b("addr-a")}));
  ASSERT_EQ(h.code(a, Resign{election}), Code::ok);
  EXPECT_EQ(h.code(b2, Observe{election}), Code::no_leader);
}

TEST_F(LockElection, ResignWithoutCampaigningIsNotHeld) {
  EXPECT_EQ(h.code(a, Resign{election}), Code::not_held);
  // A plain exclusive lock is not a candidacy: Resign leaves it alone.
  h.acquire_ok(a, election);
  EXPECT_EQ(h.code(a, Resign{election}), Code::not_held);
  ASSERT_EQ(h.code(b2, Acquire{election, LockMode::exclusive, true}), Code::waiting);
  EXPECT_EQ(h.code(b2, Resign{election}), Code::not_held);
  EXPECT_EQ(h.code(a, Release{election}), Code::ok);
}

TEST_F(LockElection, WithdrawnCandidacyCompletesCancelled) {
  h.run(a, Campaign{election, {}});
  ASSERT_EQ(h.code(b2, Campaign{election, {}}), Code::waiting);
  const std::uint64_t qb = h.next_request[b2];
  ASSERT_EQ(h.code(b2, Resign{election}), Code::ok);
  EXPECT_EQ(h.completions(), (std::vector<CompletionSeen>{{b2, qb, Code::cancelled}}));
  EXPECT_EQ(std::get<Leader>(h.run(b2, Observe{election}).result.value).session, a);
}

TEST_F(LockElection, CampaignTwiceIsAlreadyHeldOrAlreadyWaiting) {
  h.run(a, Campaign{election, {}});
  EXPECT_EQ(h.code(a, Campaign{election, {}}), Code::already_held);
  h.run(b2, Campaign{election, {}});
  EXPECT_EQ(h.code(b2, Campaign{election, {}}), Code::already_waiting);
}

TEST_F(LockElection, OversizedValueIsContentTooLarge) {
  EXPECT_EQ(h.code(a, Campaign{election, Bytes(17, std::byte{'x'})}), Code::content_too_large);
  EXPECT_EQ(h.code(b2, Observe{election}), Code::no_leader);
}

TEST_F(LockElection, LeaderExpiryLeavesTheElectionEmptyForALockDelay) {
  h.run(a, Campaign{election, {}});
  ASSERT_EQ(h.code(b2, Campaign{election, {}}), Code::waiting);
  const std::uint64_t qb = h.next_request[b2];
  ASSERT_EQ(h.expire(a).result.code, Code::ok);
  // The old leader may still be doing fenced work it started: nobody takes over yet.
  EXPECT_TRUE(h.completions().empty());
  EXPECT_EQ(h.code(b2, Observe{election}), Code::no_leader);
  ASSERT_EQ(h.end_delay(election).result.code, Code::ok);
  EXPECT_EQ(h.completions(), (std::vector<CompletionSeen>{{b2, qb, Code::ok}}));
}

TEST_F(LockElection, ObserversWatchLeaderChanges) {
  const SessionId observer = h.open();
  ASSERT_EQ(h.code(observer,
                   Watch{9,
                         election,
                         false,
                         watch_bit(EventKind::lock_acquired) | watch_bit(EventKind::lock_released),
                         {}}),
            Code::ok);
  h.run(a, Campaign{election, {}});
  ASSERT_EQ(h.fired(observer).size(), 1u);
  EXPECT_EQ(h.fired(observer)[0].event.kind, EventKind::lock_acquired);
  EXPECT_EQ(h.fired(observer)[0].event.session, a);
  h.run(b2, Campaign{election, {}});
  ASSERT_EQ(h.code(a, Resign{election}), Code::ok);
  const auto fired = h.fired(observer);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].event.kind, EventKind::lock_released);
  EXPECT_EQ(fired[0].event.cause, Cause::released);
  EXPECT_EQ(fired[1].event.kind, EventKind::lock_acquired);
  EXPECT_EQ(fired[1].event.session, b2);
}

}  // namespace
}  // namespace election_test
}  // namespace lockstep::service::lock::testing
