// The lock-service checks on hand-built histories, continued (see lock_checks_test.cc):
// watch_delivery, lock_handoff, durability, liveness and the counters.
#include "harness/lock_checks.h"

#include <gtest/gtest.h>

#include "harness/lock_check_support.h"

namespace lockstep::harness {
namespace lock_checks_delivery_test {
namespace {

using namespace lock_check_support;  // NOLINT: the builders are the vocabulary of these tests

// ---- watch_delivery ------------------------------------------------------------------------------

// r1 created n, r2 created m, r3 changed n, r4 changed m, r5 changed n, r6 deleted n.
LockHistory watched(std::vector<std::uint64_t> taken, std::uint32_t kinds = lk::kWatchableKinds,
                    std::uint64_t registered = 0) {
  LockHistory h = with_clients();
  h.applied = {applied(1, seconds(1), kS1, 1, lk::Create{kNode, {}, false, false}, Code::ok,
                       {event(1, EventKind::node_created, kNode)}),
               applied(2, seconds(2), kS1, 2, lk::Create{"/ls/local/m", {}, false, false},
                       Code::ok, {event(2, EventKind::node_created, "/ls/local/m")}),
               applied(3, seconds(3), kS1, 3, lk::Set{kNode, {}, {}}, Code::ok,
                       {event(3, EventKind::node_changed, kNode)}),
               applied(4, seconds(4), kS1, 4, lk::Set{"/ls/local/m", {}, {}}, Code::ok,
                       {event(4, EventKind::node_changed, "/ls/local/m")}),
               applied(5, seconds(5), kS1, 5, lk::Set{kNode, {}, {}}, Code::ok,
                       {event(5, EventKind::node_changed, kNode)}),
               applied(6, seconds(6), kS1, 6, lk::Delete{kNode, {}}, Code::ok,
                       {event(6, EventKind::node_deleted, kNode)})};
  WatchRecord w;
  w.client = 0;
  w.session = kS0;
  w.watch_id = 7;
  w.path = kNode;
  w.kinds = kinds;
  w.registered = lk::Revision{registered};
  for (std::uint64_t r : taken) {
    for (const AppliedRecord& a : h.applied) {
      for (const lk::Event& e : a.events) {
        if (e.revision.value == r) w.taken.push_back(e);
      }
    }
  }
  h.watches.push_back(std::move(w));
  return h;
}

lk::Event resync(std::uint64_t revision) { return event(revision, EventKind::resync, kNode); }

TEST(LockChecks, WatchDeliveryPassesTheMatchingEventsInOrder) {
  EXPECT_TRUE(passes(check_watch_delivery(watched({1, 3, 5, 6}))));
  // A watch is due only what it asked for, and only after it registered.
  EXPECT_TRUE(passes(check_watch_delivery(watched({6}, lk::watch_bit(EventKind::node_deleted)))));
  EXPECT_TRUE(passes(check_watch_delivery(watched({5, 6}, lk::kWatchableKinds, 3))));
  // Taking none of what is due yet is not a loss: the watcher may not have asked.
  EXPECT_TRUE(passes(check_watch_delivery(watched({1, 3}))));
}

TEST(LockChecks, WatchDeliveryFailsASkippedEvent) {
  EXPECT_TRUE(fails_naming(check_watch_delivery(watched({1, 5})),
                           {"client 0's watch 7 on /ls/local/n took r5 (node_changed /ls/local/n) "
                            "where r3 (node_changed /ls/local/n) was due: an event was lost"}));
  // Kinds it did not ask for are not due; kinds it did are.
  EXPECT_TRUE(fails_naming(
      check_watch_delivery(watched({6}, lk::watch_bit(EventKind::node_deleted) |
                                            lk::watch_bit(EventKind::node_changed))),
      {"took r6", "where r3"}));
  // Registration bounds what is due from below, not above.
  EXPECT_TRUE(fails_naming(check_watch_delivery(watched({6}, lk::kWatchableKinds, 3)),
                           {"took r6", "where r5"}));
}

TEST(LockChecks, WatchDeliveryFailsAnEventTakenTwice) {
  EXPECT_TRUE(fails_naming(check_watch_delivery(watched({1, 3, 3, 5})),
                           {"took r3", "where r5", "an event twice or out of order"}));
}

TEST(LockChecks, WatchDeliverySaysWhichWayAnEventWasWrong) {
  // The last event again: a repeat, though nothing more is due.
  EXPECT_TRUE(fails_naming(check_watch_delivery(watched({1, 3, 5, 6, 6})),
                           {"took r6", "where nothing more was due: an event twice or out of order"}));
  // An event of another node: neither lost nor repeated.
  EXPECT_TRUE(fails_naming(check_watch_delivery(watched({1, 2})),
                           {"took r2 (node_created /ls/local/m) where r3 (node_changed /ls/local/n) "
                            "was due: an event the watch was never due"}));
}

TEST(LockChecks, WatchDeliveryFailsEventsOutOfOrder) {
  EXPECT_TRUE(fails_naming(check_watch_delivery(watched({1, 5, 3})), {"took r5", "where r3"}));
}

TEST(LockChecks, WatchDeliveryResyncResetsTheExpectation) {
  LockHistory h = watched({1});
  h.watches[0].taken.push_back(resync(4));
  h.watches[0].taken.push_back(h.applied[4].events[0]);  // r5: r3 was dropped, and said so
  EXPECT_TRUE(passes(check_watch_delivery(h)));

  // After a resync at r4, r3 is no longer due.
  h.watches[0].taken.back() = h.applied[2].events[0];
  EXPECT_TRUE(fails_naming(check_watch_delivery(h), {"took r3", "where r5"}));
}

TEST(LockChecks, WatchDeliveryWithoutWatchesIsNotApplicable) {
  EXPECT_EQ(check_watch_delivery(with_clients()).verdict, Verdict::not_applicable);
}

// ---- lock_handoff --------------------------------------------------------------------------------

// Client 0 holds the lock; clients 1, 2, 3 queue for it in that order (their acquires are request
// 1 of their sessions); each holder's release (its request 2) hands it to the next.
LockHistory handoffs() {
  LockHistory h = with_clients();
  h.applied = {applied(1, milliseconds(1), kS0, 1, lk::Acquire{kLock}, Code::ok,
                       {granted(1, kLock, kS0)}),
               applied(2, milliseconds(2), kS1, 1, lk::Acquire{kLock}, Code::waiting),
               applied(3, milliseconds(3), kS2, 1, lk::Acquire{kLock}, Code::waiting),
               applied(4, milliseconds(4), kS3, 1, lk::Acquire{kLock}, Code::waiting),
               applied(5, milliseconds(110), kS0, 2, lk::Release{kLock}, Code::ok,
                       {event(2, EventKind::lock_released, kLock, kS0, Cause::released),
                        granted(3, kLock, kS1)}),
               applied(6, milliseconds(210), kS1, 2, lk::Release{kLock}, Code::ok,
                       {event(4, EventKind::lock_released, kLock, kS1, Cause::released),
                        granted(5, kLock, kS2)}),
               applied(7, milliseconds(310), kS2, 2, lk::Release{kLock}, Code::ok,
                       {event(6, EventKind::lock_released, kLock, kS2, Cause::released),
                        granted(7, kLock, kS3)})};
  // Handoff times 30 ms, 40 ms, 90 ms: release sent to the next acquire answered.
  const auto timed = [&](SessionId releaser, SessionId next, Nanos sent, Nanos answered) {
    h.requests[{releaser, 2}].first_sent = sent;
    h.requests[{next, 1}].answered_at = answered;
    h.wakeups[{next, 1}] = 1;
  };
  timed(kS0, kS1, milliseconds(100), milliseconds(130));
  timed(kS1, kS2, milliseconds(200), milliseconds(240));
  timed(kS2, kS3, milliseconds(300), milliseconds(390));
  return h;
}

TEST(LockChecks, LockHandoffPassesFifoGrantsEachWakingItsWaiter) {
  LockCheckContext c = context();
  c.handoff_p50_max = milliseconds(40);
  c.handoff_max = milliseconds(90);
  const LockCheck check = check_lock_handoff(handoffs(), c);
  EXPECT_TRUE(passes(check));
  EXPECT_NE(check.detail.find("3 handoffs in FIFO order, 3 wake-ups"), std::string::npos)
      << check.detail;
  EXPECT_NE(check.detail.find("p50 40.00ms"), std::string::npos) << check.detail;
}

TEST(LockChecks, LockHandoffFailsAGrantOutOfQueueOrder) {
  LockHistory h = handoffs();
  // Client 0's release hands the lock to client 2, past client 1.
  h.applied[4].events[1].session = kS2;
  h.applied[5].events[1].session = kS1;
  EXPECT_TRUE(fails_naming(check_lock_handoff(h, context()),
                           {"lock /ls/local/locks/a: client 2 (session 13) (queued at index 3) was "
                            "granted at index 5 while client 1 (session 12) (queued at index 2) "
                            "still waited"}));
}

TEST(LockChecks, LockHandoffFollowsTheQueueAsWaitersLeave) {
  // Client 1 leaves the queue ahead of client 2, which is then next: by withdrawing, by closing
  // its session, or by its session expiring.
  for (const AppliedRecord& leave :
       {applied(4, milliseconds(4), kS1, 2, lk::Release{kLock}),
        applied(4, milliseconds(4), kS1, 2, lk::CloseSession{}),
        applied(4, milliseconds(4), SessionId{0}, 0, lk::ExpireSession{kS1, 0, 1})}) {
    LockHistory h = with_clients();
    h.applied = {applied(1, milliseconds(1), kS0, 1, lk::Acquire{kLock}, Code::ok,
                         {granted(1, kLock, kS0)}),
                 applied(2, milliseconds(2), kS1, 1, lk::Acquire{kLock}, Code::waiting),
                 applied(3, milliseconds(3), kS2, 1, lk::Acquire{kLock}, Code::waiting), leave,
                 applied(5, milliseconds(5), kS0, 2, lk::Release{kLock}, Code::ok,
                         {event(2, EventKind::lock_released, kLock, kS0, Cause::released),
                          granted(3, kLock, kS2)})};
    h.wakeups[{kS2, 1}] = 1;
    EXPECT_TRUE(passes(check_lock_handoff(h, context())))
        << lk::command_name(leave.command);
  }
}

TEST(LockChecks, LockHandoffFailsAWaiterWokenTwice) {
  LockHistory h = handoffs();
  h.wakeups[{kS1, 1}] = 2;
  EXPECT_TRUE(fails_naming(check_lock_handoff(h, context()),
                           {"client 1 (session 12) was woken 2 times for request 1"}));
}

TEST(LockChecks, LockHandoffFailsAWakeUpWithoutAGrant) {
  LockHistory h = handoffs();
  h.wakeups[{kS3, 9}] = 1;
  EXPECT_TRUE(fails_naming(check_lock_handoff(h, context()),
                           {"client 3 (session 14) was woken for request 9, which was neither "
                            "granted"}));
}

TEST(LockChecks, LockHandoffAllowsTheWakeUpOfAWaitThatEndedWithoutAGrant) {
  // Client 1 waits for the lock on client 0's ephemeral node; client 2 is handed client 0's other
  // lock (so there is a handoff to judge) and waits for client 3's.
  const std::string node = "/ls/local/locks/e";
  LockHistory h = with_clients();
  h.applied = {
      applied(1, milliseconds(1), kS0, 1, lk::Create{node, {}, true, false}, Code::ok,
              {event(1, EventKind::node_created, node)}),
      applied(2, milliseconds(2), kS0, 2, lk::Acquire{node}, Code::ok, {granted(2, node, kS0)}),
      applied(3, milliseconds(3), kS1, 1, lk::Acquire{node}, Code::waiting),
      applied(4, milliseconds(4), kS0, 3, lk::Acquire{kLock}, Code::ok, {granted(3, kLock, kS0)}),
      applied(5, milliseconds(5), kS2, 1, lk::Acquire{kLock}, Code::waiting),
      applied(6, milliseconds(6), kS3, 1, lk::Acquire{kOther}, Code::ok,
              {granted(4, kOther, kS3)}),
      applied(7, milliseconds(7), kS2, 2, lk::Acquire{kOther}, Code::waiting),
      applied(8, milliseconds(8), kS0, 4, lk::Release{kLock}, Code::ok,
              {event(5, EventKind::lock_released, kLock, kS0, Cause::released),
               granted(6, kLock, kS2)}),
      // Client 2 withdraws its wait for the other lock: its acquire completes `cancelled`.
      applied(9, milliseconds(9), kS2, 3, lk::Release{kOther}),
      // Client 0 expires: its node goes, and client 1's acquire completes `no_node`.
      expiry(10, seconds(3), kS0,
             {event(7, EventKind::lock_released, node, kS0, Cause::node_deleted),
              event(8, EventKind::node_deleted, node)})};
  h.wakeups = {{{kS1, 1}, 1}, {{kS2, 1}, 1}, {{kS2, 2}, 1}};
  EXPECT_TRUE(passes(check_lock_handoff(h, context())));

  // Woken twice for its ended wait is still twice.
  h.wakeups[{kS1, 1}] = 2;
  EXPECT_TRUE(fails_naming(check_lock_handoff(h, context()),
                           {"client 1 (session 12) was woken 2 times for request 1"}));
}

TEST(LockChecks, LockHandoffKeepsAWaiterWhoseWithdrawalWasRefused) {
  // Client 1 queued by Acquire, so its Resign is refused (not_held): it still waits, and client
  // 0's release hands the lock to it from the queue.
  LockHistory h = with_clients();
  h.applied = {applied(1, milliseconds(1), kS0, 1, lk::Acquire{kLock}, Code::ok,
                       {granted(1, kLock, kS0)}),
               applied(2, milliseconds(2), kS1, 1, lk::Acquire{kLock}, Code::waiting),
               applied(3, milliseconds(3), kS2, 1, lk::Acquire{kLock}, Code::waiting),
               applied(4, milliseconds(4), kS1, 2, lk::Resign{kLock}, Code::not_held),
               applied(5, milliseconds(5), kS0, 2, lk::Release{kLock}, Code::ok,
                       {event(2, EventKind::lock_released, kLock, kS0, Cause::released),
                        granted(3, kLock, kS1)})};
  h.wakeups[{kS1, 1}] = 1;
  EXPECT_TRUE(passes(check_lock_handoff(h, context())));

  // So client 2 being granted there instead overtakes it.
  h.applied[4].events[1].session = kS2;
  h.wakeups = {{{kS2, 1}, 1}};
  EXPECT_TRUE(fails_naming(check_lock_handoff(h, context()),
                           {"client 2 (session 13) (queued at index 3) was granted at index 5 "
                            "while client 1 (session 12) (queued at index 2) still waited"}));
}

TEST(LockChecks, LockHandoffFailsAMedianAboveItsBound) {
  LockCheckContext c = context();
  c.handoff_p50_max = milliseconds(39);
  EXPECT_TRUE(fails_naming(check_lock_handoff(handoffs(), c),
                           {"3 handoffs", "p50 40.00ms", "median above handoff_p50_max 39.00ms"}));
}

TEST(LockChecks, LockHandoffFailsAHandoffAboveItsBound) {
  LockCheckContext c = context();
  c.handoff_p50_max = milliseconds(40);
  c.handoff_max = milliseconds(89);
  EXPECT_TRUE(fails_naming(check_lock_handoff(handoffs(), c),
                           {"max 90.00ms", "above handoff_max 89.00ms"}));
}

TEST(LockChecks, LockHandoffWithoutQueuedGrantsIsNotApplicable) {
  LockHistory h = with_clients();
  h.applied = {applied(1, milliseconds(1), kS0, 1, lk::Acquire{kLock}, Code::ok,
                       {granted(1, kLock, kS0)})};
  EXPECT_EQ(check_lock_handoff(h, context()).verdict, Verdict::not_applicable);
}

// ---- durability ----------------------------------------------------------------------------------

LockHistory acknowledged(std::uint64_t index) {
  LockHistory h = with_clients();
  h.applied = {applied(5, seconds(1), kS0, 3, lk::Set{kNode, {}, {}}),
               applied(6, seconds(2), kS1, 1, lk::Set{kNode, {}, {}})};
  h.requests[{kS0, 3}].acknowledged_index = index;
  h.requests[{kS0, 4}].answered_at = seconds(3);  // answered, not a write: nothing to find
  return h;
}

std::vector<ServerState> servers(Bytes third) {
  return {ServerState{0, 6, to_bytes("state at 6")}, ServerState{1, 5, to_bytes("state at 5")},
          ServerState{2, 6, std::move(third)}};
}

TEST(LockChecks, DurabilityPassesWritesAtTheirIndexAndAgreeingServers) {
  EXPECT_TRUE(passes(check_lock_durability(acknowledged(5), servers(to_bytes("state at 6")))));
}

TEST(LockChecks, DurabilityFailsAnAcknowledgedWriteMissingAtItsIndex) {
  EXPECT_TRUE(fails_naming(check_lock_durability(acknowledged(6), servers(to_bytes("state at 6"))),
                           {"client 0 (session 11) request 3 was acknowledged at index 6, but the "
                            "log has session 12 request 1 there"}));
  EXPECT_TRUE(fails_naming(check_lock_durability(acknowledged(9), servers(to_bytes("state at 6"))),
                           {"acknowledged at index 9, but the log has nothing there"}));
}

TEST(LockChecks, DurabilityFailsServersThatDivergedAtTheSameIndex) {
  EXPECT_TRUE(fails_naming(check_lock_durability(acknowledged(5), servers(to_bytes("other"))),
                           {"servers 0 and 2 both applied through index 6 but hold different "
                            "states"}));
}

// ---- liveness ------------------------------------------------------------------------------------

LockCall call(std::uint32_t client, std::string op, Nanos invoked, std::optional<Nanos> returned) {
  LockCall c;
  c.client = client;
  c.op = std::move(op);
  c.invoked = invoked;
  c.returned = returned;
  c.ok = returned.has_value();
  return c;
}

TEST(LockChecks, LivenessPassesCallsFinishedWithinTheBound) {
  LockHistory h = with_clients();
  h.calls = {call(0, "set", seconds(9), milliseconds(11900)),
             call(1, "get", seconds(1), seconds(2)),      // over before the heal
             call(2, "create", seconds(11), std::nullopt)};  // began after it: not judged
  const LockCheck c = check_lock_liveness(h, seconds(10), seconds(2));
  EXPECT_TRUE(passes(c));
  EXPECT_NE(c.detail.find("1 calls pending"), std::string::npos) << c.detail;
}

TEST(LockChecks, LivenessFailsACallPendingPastTheBound) {
  LockHistory h = with_clients();
  h.calls = {call(1, "set", seconds(9), milliseconds(12100))};
  EXPECT_TRUE(fails_naming(check_lock_liveness(h, seconds(10), seconds(2)),
                           {"client 1's set (invoked at 9.000s) was still pending 2s after the "
                            "final heal at 10.000s"}));
  h.calls[0].returned.reset();
  EXPECT_TRUE(fails_naming(check_lock_liveness(h, seconds(10), seconds(2)), {"client 1's set"}));
}

TEST(LockChecks, LivenessLeavesOutCrashedClientsAndCallsThatWait) {
  LockHistory h = with_clients();
  h.calls = {call(1, "set", seconds(9), std::nullopt), call(2, "acquire", seconds(9), std::nullopt)};
  h.calls[1].waits = true;
  h.crashed_clients = {1};
  EXPECT_TRUE(passes(check_lock_liveness(h, seconds(10), seconds(2))));
  h.crashed_clients.clear();
  EXPECT_TRUE(fails_naming(check_lock_liveness(h, seconds(10), seconds(2)), {"client 1's set"}));
}

// ---- count ---------------------------------------------------------------------------------------

TEST(LockChecks, CountTalliesWhatTheRunDid) {
  LockHistory h = with_clients();
  h.applied = {applied(1, seconds(1), kS0, 1, lk::Acquire{kLock}, Code::ok,
                       {granted(1, kLock, kS0)}),
               applied(2, seconds(1), kS1, 1, lk::Campaign{"/ls/local/elections/e", {}}, Code::ok,
                       {granted(2, "/ls/local/elections/e", kS1)}),
               expiry(3, seconds(3), kS0,
                      {event(3, EventKind::lock_released, kLock, kS0, Cause::session_expired)}),
               applied(4, seconds(4), SessionId{0}, 0, lk::EndLockDelay{kLock, {3}, 1}, Code::ok,
                       {granted(4, kLock, kS2)}),
               from_record(applied(5, seconds(5), kS1, 1,
                                   lk::Campaign{"/ls/local/elections/e", {}}))};
  h.resource = {write(seconds(5), 0, kS0, kLock, 1, false), write(seconds(5), 2, kS2, kLock, 4)};
  h.requests[{kS1, 1}].attempts = 3;
  h.requests[{kS2, 1}].attempts = 1;
  h.holdings = {Holding{0, kLock, 1, seconds(1), seconds(6)},  // client 0 never learned it ended
                Holding{2, kLock, 4, seconds(4), std::nullopt},
                Holding{0, kOther, 9, seconds(1), std::nullopt}};
  WatchRecord w;
  w.path = kLock;
  w.taken = {h.applied[2].events[0], h.applied[3].events[0]};
  h.watches.push_back(w);
  h.jeopardies = 2;

  std::map<Counter, std::uint64_t> n = count(h, ServiceSettings{});
  EXPECT_EQ(n[Counter::sessions_expired], 1u);
  EXPECT_EQ(n[Counter::elections], 1u);
  EXPECT_EQ(n[Counter::lock_grants], 2u);
  EXPECT_EQ(n[Counter::lock_delays_served], 1u);
  EXPECT_EQ(n[Counter::handoffs], 0u);  // granted from lock-delay, but never queued
  EXPECT_EQ(n[Counter::stale_writes_rejected], 1u);
  EXPECT_EQ(n[Counter::retried_requests], 1u);
  EXPECT_EQ(n[Counter::retries_from_record], 1u);
  EXPECT_EQ(n[Counter::watch_events], 2u);
  EXPECT_EQ(n[Counter::expiry_events_watched], 1u);
  EXPECT_EQ(n[Counter::session_jeopardy], 2u);
  EXPECT_EQ(n[Counter::overlapping_holders], 1u);
  EXPECT_EQ(n[Counter::watch_resumes], 0u);
  EXPECT_EQ(n.size(), std::size(kCounterNames));
}

}  // namespace
}  // namespace lock_checks_delivery_test
}  // namespace lockstep::harness
