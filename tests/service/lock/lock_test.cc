// Locks (Chubby §2.4; ZooKeeper's lock recipe without herd effect): modes, FIFO handoff that
// wakes only the next waiter(s), sequencers, lock-delay after expiry only, and each error.
#include <gtest/gtest.h>

#include "tests/service/lock/lock_test_support.h"

namespace lockstep::service::lock::testing {
namespace lock_test {
namespace {

class LockLocks : public ::testing::Test {
 protected:
  void SetUp() override {
    h.begin_leadership(1);
    owner = h.open();
    h.create_ok(owner, path);
  }
  // Queues an acquire and returns its request number.
  std::uint64_t queue(SessionId s, LockMode mode) {
    EXPECT_EQ(h.code(s, Acquire{path, mode, true}), Code::waiting);
    return h.next_request[s];
  }

  Harness h;
  SessionId owner;
  const std::string path = p("/lock");
};

TEST_F(LockLocks, ExclusiveAcquireGrantsASequencerForTheLock) {
  const ApplyOutcome& out = h.run(owner, Acquire{path, LockMode::exclusive, false});
  ASSERT_EQ(out.result.code, Code::ok);
  const Sequencer seq = sequencer_of(out.result);
  EXPECT_EQ(seq.path, path);
  EXPECT_EQ(seq.mode, LockMode::exclusive);
  EXPECT_EQ(seq.generation, h.sm.revision().value);  // the grant's revision
  EXPECT_EQ(h.code(owner, CheckSequencer{seq}), Code::ok);
  EXPECT_EQ(h.code(owner, Release{path}), Code::ok);
  EXPECT_EQ(h.code(owner, CheckSequencer{seq}), Code::stale_sequencer);
}

TEST_F(LockLocks, TryAcquireOfAHeldLockIsLockBusy) {
  const SessionId other = h.open();
  h.acquire_ok(owner, path);
  EXPECT_EQ(h.code(other, Acquire{path, LockMode::exclusive, false}), Code::lock_busy);
  EXPECT_EQ(h.code(other, Acquire{path, LockMode::shared, false}), Code::lock_busy);
}

TEST_F(LockLocks, ReadersShareAndAWriterWaitsForAllOfThem) {
  const SessionId r1 = h.open();
  const SessionId r2 = h.open();
  const SessionId w = h.open();
  h.acquire_ok(r1, path, LockMode::shared);
  h.acquire_ok(r2, path, LockMode::shared);
  EXPECT_EQ(h.code(w, Acquire{path, LockMode::exclusive, false}), Code::lock_busy);
  const std::uint64_t req = queue(w, LockMode::exclusive);
  ASSERT_EQ(h.code(r1, Release{path}), Code::ok);
  EXPECT_TRUE(h.completions().empty());  // r2 still reads
  ASSERT_EQ(h.code(r2, Release{path}), Code::ok);
  EXPECT_EQ(h.completions(), (std::vector<CompletionSeen>{{w, req, Code::ok}}));
}

TEST_F(LockLocks, ReaderDoesNotOvertakeAQueuedWriter) {
  const SessionId reader = h.open();
  const SessionId writer = h.open();
  const SessionId late_reader = h.open();
  h.acquire_ok(reader, path, LockMode::shared);
  queue(writer, LockMode::exclusive);
  // Compatible with the current readers, but joining them would starve the writer.
  EXPECT_EQ(h.code(late_reader, Acquire{path, LockMode::shared, false}), Code::lock_busy);
  const std::uint64_t late = queue(late_reader, LockMode::shared);
  ASSERT_EQ(h.code(reader, Release{path}), Code::ok);
  ASSERT_EQ(h.completions().size(), 1u);
  EXPECT_EQ(h.completions()[0].target, writer);
  ASSERT_EQ(h.code(writer, Release{path}), Code::ok);
  EXPECT_EQ(h.completions(), (std::vector<CompletionSeen>{{late_reader, late, Code::ok}}));
}

TEST_F(LockLocks, FifoHandoffWakesExactlyOneWaiterPerRelease) {
  std::vector<SessionId> waiters;
  std::vector<std::uint64_t> requests;
  h.acquire_ok(owner, path);
  for (int i = 0; i < 5; ++i) {
    waiters.push_back(h.open());
    requests.push_back(queue(waiters.back(), LockMode::exclusive));
  }
  SessionId holder = owner;
  std::uint64_t last_generation = 0;
  for (std::size_t i = 0; i < waiters.size(); ++i) {
    ASSERT_EQ(h.code(holder, Release{path}), Code::ok);
    // One wake-up, to the oldest waiter, and no other notification to anyone else.
    EXPECT_EQ(h.completions(), (std::vector<CompletionSeen>{{waiters[i], requests[i], Code::ok}}));
    const auto& done = std::get<Completion>(h.last.notifications.back().body);
    const Sequencer seq = sequencer_of(done.result);
    EXPECT_GT(seq.generation, last_generation);
    last_generation = seq.generation;
    holder = waiters[i];
  }
}

TEST_F(LockLocks, ReleaseWakesTheRunOfReadersUpToTheNextWriter) {
  h.acquire_ok(owner, path);
  const SessionId r1 = h.open();
  const SessionId r2 = h.open();
  const SessionId w = h.open();
  const SessionId r3 = h.open();
  const std::uint64_t q1 = queue(r1, LockMode::shared);
  const std::uint64_t q2 = queue(r2, LockMode::shared);
  const std::uint64_t qw = queue(w, LockMode::exclusive);
  const std::uint64_t q3 = queue(r3, LockMode::shared);
  ASSERT_EQ(h.code(owner, Release{path}), Code::ok);
  EXPECT_EQ(h.completions(), (std::vector<CompletionSeen>{{r1, q1, Code::ok}, {r2, q2, Code::ok}}));
  ASSERT_EQ(h.code(r1, Release{path}), Code::ok);
  EXPECT_TRUE(h.completions().empty());
  ASSERT_EQ(h.code(r2, Release{path}), Code::ok);
  EXPECT_EQ(h.completions(), (std::vector<CompletionSeen>{{w, qw, Code::ok}}));
  ASSERT_EQ(h.code(w, Release{path}), Code::ok);
  EXPECT_EQ(h.completions(), (std::vector<CompletionSeen>{{r3, q3, Code::ok}}));
}

TEST_F(LockLocks, ReleaseOfALockNotHeldIsNotHeld) {
  const SessionId other = h.open();
  EXPECT_EQ(h.code(owner, Release{path}), Code::not_held);
  h.acquire_ok(other, path);
  EXPECT_EQ(h.code(owner, Release{path}), Code::not_held);
  EXPECT_EQ(
      h.code(other, CheckSequencer{Sequencer{path, LockMode::exclusive, h.sm.revision().value}}),
      Code::ok);  // other still holds it
}

TEST_F(LockLocks, AcquiringTwiceIsAlreadyHeldOrAlreadyWaiting) {
  const SessionId other = h.open();
  h.acquire_ok(owner, path);
  EXPECT_EQ(h.code(owner, Acquire{path, LockMode::exclusive, true}), Code::already_held);
  EXPECT_EQ(h.code(owner, Acquire{path, LockMode::shared, false}), Code::already_held);
  queue(other, LockMode::exclusive);
  EXPECT_EQ(h.code(other, Acquire{path, LockMode::shared, true}), Code::already_waiting);
}

TEST_F(LockLocks, WithdrawnWaitCompletesCancelledAndLetsReadersBehindItGo) {
  const SessionId writer = h.open();
  const SessionId reader = h.open();
  h.acquire_ok(owner, path, LockMode::shared);
  const std::uint64_t qw = queue(writer, LockMode::exclusive);
  const std::uint64_t qr = queue(reader, LockMode::shared);
  // The writer gives up (its client's acquire timed out): the reader behind it can join now.
  ASSERT_EQ(h.code(writer, Release{path}), Code::ok);
  EXPECT_EQ(h.completions(),
            (std::vector<CompletionSeen>{{writer, qw, Code::cancelled}, {reader, qr, Code::ok}}));
  // Its retry is answered from the record.
  EXPECT_EQ(h.apply(writer, qw, Acquire{path, LockMode::exclusive, true}).result.code,
            Code::cancelled);
}

TEST_F(LockLocks, QueuedAcquiresPerSessionAreBounded) {
  LockConfig c = test_config();
  c.waits_per_session_max = 2;
  Harness small(c);
  const SessionId a = small.open();
  const SessionId b2 = small.open();
  for (const char* name : {"/x", "/y", "/z"}) {
    small.create_ok(a, p(name));
    small.acquire_ok(a, p(name));
  }
  EXPECT_EQ(small.code(b2, Acquire{p("/x"), LockMode::exclusive, true}), Code::waiting);
  EXPECT_EQ(small.code(b2, Acquire{p("/y"), LockMode::exclusive, true}), Code::waiting);
  EXPECT_EQ(small.code(b2, Acquire{p("/z"), LockMode::exclusive, true}), Code::limit_exceeded);
  EXPECT_EQ(small.code(b2, Acquire{p("/z"), LockMode::exclusive, false}), Code::lock_busy);
}

TEST_F(LockLocks, GenerationsStrictlyIncreaseEvenAcrossNodeRecreation) {
  const SessionId other = h.open();
  std::uint64_t last = 0;
  for (int round = 0; round < 3; ++round) {
    for (const SessionId s : {owner, other}) {
      const Sequencer seq =
          h.acquire_ok(s, path, round == 1 ? LockMode::shared : LockMode::exclusive);
      EXPECT_GT(seq.generation, last);
      last = seq.generation;
      if (round != 1) {
        ASSERT_EQ(h.code(s, Release{path}), Code::ok);
      }
    }
    if (round == 1) {
      ASSERT_EQ(h.code(owner, Release{path}), Code::ok);
      ASSERT_EQ(h.code(other, Release{path}), Code::ok);
    }
    ASSERT_EQ(h.code(owner, Delete{path, std::nullopt}), Code::ok);
    h.create_ok(owner, path);
  }
}

TEST_F(LockLocks, CheckSequencerRejectsEveryStaleForm) {
  const SessionId other = h.open();
  const Sequencer first = h.acquire_ok(owner, path);
  ASSERT_EQ(h.code(owner, Release{path}), Code::ok);
  const Sequencer second = h.acquire_ok(other, path);
  EXPECT_EQ(h.code(owner, CheckSequencer{first}), Code::stale_sequencer);
  EXPECT_EQ(h.code(owner, CheckSequencer{second}), Code::ok);
  Sequencer wrong_mode = second;
  wrong_mode.mode = LockMode::shared;
  EXPECT_EQ(h.code(owner, CheckSequencer{wrong_mode}), Code::stale_sequencer);
  Sequencer other_lock = second;
  other_lock.path = p("/elsewhere");
  EXPECT_EQ(h.code(owner, CheckSequencer{other_lock}), Code::stale_sequencer);
}

TEST_F(LockLocks, LockDelayFollowsExpiryButNotRelease) {
  const SessionId a = h.open();
  const SessionId b2 = h.open();
  // A clean release hands over at once.
  h.acquire_ok(a, path);
  const std::uint64_t qb = queue(b2, LockMode::exclusive);
  ASSERT_EQ(h.code(a, Release{path}), Code::ok);
  EXPECT_EQ(h.completions(), (std::vector<CompletionSeen>{{b2, qb, Code::ok}}));
  EXPECT_TRUE(h.delay_timers().empty());

  // An expiry does not: the lock waits for the leader's EndLockDelay.
  const std::uint64_t qa = queue(a, LockMode::exclusive);
  ASSERT_EQ(h.expire(b2).result.code, Code::ok);
  EXPECT_TRUE(h.completions().empty());
  ASSERT_EQ(h.delay_timers().size(), 1u);
  EXPECT_EQ(h.delay_timers()[0].path, path);
  EXPECT_EQ(h.delay_timers()[0].end_after, seconds(10));
  const SessionId c = h.open();
  EXPECT_EQ(h.code(c, Acquire{path, LockMode::shared, false}), Code::lock_delay);

  ASSERT_EQ(h.end_delay(path).result.code, Code::ok);
  EXPECT_EQ(h.completions(), (std::vector<CompletionSeen>{{a, qa, Code::ok}}));
}

TEST_F(LockLocks, ExpiredWaiterIsSkippedNotWoken) {
  const SessionId gone = h.open();
  const SessionId next = h.open();
  h.acquire_ok(owner, path);
  queue(gone, LockMode::exclusive);
  const std::uint64_t qn = queue(next, LockMode::exclusive);
  ASSERT_EQ(h.expire(gone).result.code, Code::ok);  // a waiter's expiry: no lock-delay
  EXPECT_TRUE(h.delay_timers().empty());
  ASSERT_EQ(h.code(owner, Release{path}), Code::ok);
  EXPECT_EQ(h.completions(), (std::vector<CompletionSeen>{{next, qn, Code::ok}}));
}

TEST_F(LockLocks, ExpiredFrontWaiterLetsTheReadersBehindItJoin) {
  const SessionId writer = h.open();
  const SessionId reader = h.open();
  h.acquire_ok(owner, path, LockMode::shared);
  queue(writer, LockMode::exclusive);
  const std::uint64_t qr = queue(reader, LockMode::shared);
  ASSERT_EQ(h.expire(writer).result.code, Code::ok);
  EXPECT_EQ(h.completions(), (std::vector<CompletionSeen>{{reader, qr, Code::ok}}));
}

TEST_F(LockLocks, EndLockDelayThatIsNotRunningIsNoLockDelay) {
  const SessionId a = h.open();
  EXPECT_EQ(h.leader(EndLockDelay{path, Revision{1}, 1}).result.code, Code::no_lock_delay);
  h.acquire_ok(a, path);
  ASSERT_EQ(h.expire(a).result.code, Code::ok);
  const Revision started = h.delay_started[path];
  EXPECT_EQ(h.leader(EndLockDelay{path, Revision{started.value - 1}, 1}).result.code,
            Code::no_lock_delay);
  EXPECT_EQ(h.leader(EndLockDelay{p("/none"), started, 1}).result.code, Code::no_lock_delay);
  EXPECT_EQ(h.leader(EndLockDelay{path, started, 0}).result.code, Code::stale_leader);
  EXPECT_EQ(h.code(owner, Acquire{path, LockMode::exclusive, false}), Code::lock_delay);
  EXPECT_EQ(h.leader(EndLockDelay{path, started, 1}).result.code, Code::ok);
  EXPECT_EQ(h.leader(EndLockDelay{path, started, 1}).result.code, Code::no_lock_delay);
  h.acquire_ok(owner, path);
}

TEST_F(LockLocks, EphemeralNodeGoingAwayTakesItsLockWithIt) {
  const SessionId mortal = h.open();
  const SessionId holder = h.open();
  const SessionId waiter = h.open();
  ASSERT_EQ(h.code(mortal, Create{p("/eph"), {}, true, false}), Code::ok);
  h.acquire_ok(holder, p("/eph"));
  ASSERT_EQ(h.code(waiter, Acquire{p("/eph"), LockMode::exclusive, true}), Code::waiting);
  const std::uint64_t qw = h.next_request[waiter];
  ASSERT_EQ(h.code(mortal, CloseSession{}), Code::ok);
  EXPECT_EQ(h.completions(), (std::vector<CompletionSeen>{{waiter, qw, Code::no_node}}));
  EXPECT_EQ(h.code(holder, Release{p("/eph")}), Code::no_node);
}

}  // namespace
}  // namespace lock_test
}  // namespace lockstep::service::lock::testing
