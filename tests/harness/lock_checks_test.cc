// The lock-service checks (harness/lock_checks.h) on histories built by hand: for each check, a
// history that keeps its rules passes, and each rule its header states, broken in the smallest
// history that breaks it, fails with a detail that names the offending record. Scenario runs only
// ever show mutual_exclusion and fencing failing; these show that every check can. This file:
// mutual_exclusion, fencing, session_safety, at_most_once; lock_checks_delivery_test.cc the rest.
#include "harness/lock_checks.h"

#include <gtest/gtest.h>

#include "harness/lock_check_support.h"

namespace lockstep::harness {
namespace lock_checks_test {
namespace {

using namespace lock_check_support;  // NOLINT: the builders are the vocabulary of these tests

// ---- mutual_exclusion ----------------------------------------------------------------------------

TEST(LockChecks, MutualExclusionPassesWritesInGenerationOrder) {
  LockHistory h = with_clients();
  h.resource = {write(milliseconds(10), 0, kS0, kLock, 5), write(milliseconds(11), 0, kS0, kLock, 5),
                write(milliseconds(20), 1, kS1, kLock, 9),
                // A stale write the resource rejected is what fencing is for, not a violation.
                write(milliseconds(30), 0, kS0, kLock, 5, false),
                // Generations are per lock: 9 on one lock says nothing about another.
                write(milliseconds(40), 2, kS2, kOther, 3)};
  EXPECT_TRUE(passes(check_mutual_exclusion(h)));
}

TEST(LockChecks, MutualExclusionFailsAWriteAcceptedUnderAnOlderGeneration) {
  LockHistory h = with_clients();
  h.resource = {write(milliseconds(20), 1, kS1, kLock, 9),
                write(milliseconds(30), 0, kS0, kLock, 5)};
  EXPECT_TRUE(fails_naming(check_mutual_exclusion(h),
                           {"lock /ls/local/locks/a", "client 0 wrote under generation 5 at 30.00ms",
                            "after client 1 had used generation 9 at 20.00ms"}));
}

TEST(LockChecks, MutualExclusionCountsAReadUnderANewerGeneration) {
  // The newer holder only read; the older one's write after it still interleaves.
  LockHistory h = with_clients();
  h.resource = {read(milliseconds(20), 1, kS1, kLock, 9),
                write(milliseconds(30), 0, kS0, kLock, 5)};
  EXPECT_TRUE(fails_naming(check_mutual_exclusion(h), {"client 0 wrote under generation 5",
                                                       "client 1 had used generation 9"}));
}

// Client 0 held the lock under generation 5 from 1ms until its session expired at 100ms; the
// service granted it to client 1 under generation 9 at 1.2s.
LockHistory expired_then_regranted() {
  LockHistory h = with_clients();
  h.applied = {
      applied(1, milliseconds(1), kS0, 1, lk::Acquire{kLock}, Code::ok, {granted(5, kLock, kS0)}),
      expiry(2, milliseconds(100), kS0,
             {event(6, EventKind::lock_released, kLock, kS0, Cause::session_expired)}),
      applied(3, milliseconds(1200), kS1, 1, lk::Acquire{kLock}, Code::ok,
              {granted(9, kLock, kS1)})};
  return h;
}

TEST(LockChecks, MutualExclusionPassesAStaleWriteLandingBeforeTheNewHoldersFirst) {
  // The resource serializes client 0's late write (generation 5) before everything client 1 does
  // under generation 9: the order fencing promises (Chubby §2.4), though in true time client 0
  // acted after its grant had ended.
  LockHistory h = expired_then_regranted();
  h.resource = {write(milliseconds(50), 0, kS0, kLock, 5),
                write(milliseconds(1250), 0, kS0, kLock, 5),
                write(milliseconds(1300), 1, kS1, kLock, 9)};
  EXPECT_TRUE(passes(check_mutual_exclusion(h)));
}

TEST(LockChecks, MutualExclusionFailsTwoExclusiveGrantsInForceAtOnce) {
  // The service granted the lock to client 1 while client 0's grant was still in force: writes in
  // generation order at the resource do not make that right.
  LockHistory h = with_clients();
  h.applied = {
      applied(1, milliseconds(1), kS0, 1, lk::Acquire{kLock}, Code::ok, {granted(5, kLock, kS0)}),
      applied(2, milliseconds(40), kS1, 1, lk::Acquire{kLock}, Code::ok, {granted(9, kLock, kS1)}),
      applied(3, milliseconds(90), kS0, 2, lk::Release{kLock}, Code::ok,
              {event(10, EventKind::lock_released, kLock, kS0, Cause::released)})};
  h.resource = {write(milliseconds(20), 0, kS0, kLock, 5),
                write(milliseconds(60), 1, kS1, kLock, 9)};
  EXPECT_TRUE(fails_naming(check_mutual_exclusion(h),
                           {"granted it to client 1 (session 12) under generation 9 at 40.00ms",
                            "while client 0 (session 11) still held it under generation 5 "
                            "(granted at 1.00ms, released at 90.00ms)"}));
  // Released first, then granted: one holder at a time.
  h.applied[1].at = milliseconds(95);
  h.applied[2].at = milliseconds(90);
  std::swap(h.applied[1], h.applied[2]);
  EXPECT_TRUE(passes(check_mutual_exclusion(h)));
}

TEST(LockChecks, MutualExclusionPassesAStaleWriteRejectedOrWithNoOtherHolderActing) {
  LockHistory rejected = expired_then_regranted();
  rejected.resource = {write(milliseconds(1250), 0, kS0, kLock, 5, false),
                       write(milliseconds(1300), 1, kS1, kLock, 9)};
  EXPECT_TRUE(passes(check_mutual_exclusion(rejected)));
  // Accepted, but inside the lock-delay (nobody held the lock) or while the new holder never
  // touched the resource: one holder acting is not two.
  LockHistory alone = expired_then_regranted();
  alone.resource = {write(milliseconds(500), 0, kS0, kLock, 5),
                    write(milliseconds(1250), 0, kS0, kLock, 5)};
  EXPECT_TRUE(passes(check_mutual_exclusion(alone)));
}

TEST(LockChecks, MutualExclusionWithoutResourceUseIsNotApplicable) {
  EXPECT_EQ(check_mutual_exclusion(with_clients()).verdict, Verdict::not_applicable);
}

// ---- fencing -------------------------------------------------------------------------------------

LockHistory two_grants() {
  LockHistory h = with_clients();
  h.applied = {applied(1, milliseconds(1), kS0, 1, lk::Acquire{kLock}, Code::ok,
                       {granted(5, kLock, kS0)}),
               applied(2, milliseconds(2), kS1, 1, lk::Acquire{kLock}, Code::ok,
                       {granted(9, kLock, kS1)})};
  return h;
}

TEST(LockChecks, FencingPassesGrantedGenerationsInOrder) {
  LockHistory h = two_grants();
  h.resource = {write(milliseconds(10), 0, kS0, kLock, 5), write(milliseconds(20), 1, kS1, kLock, 9),
                // Rejected writes and reads are not the resource's acceptances.
                write(milliseconds(30), 0, kS0, kLock, 5, false),
                read(milliseconds(31), 3, kS3, kLock, 77)};
  const LockCheck c = check_fencing(h);
  EXPECT_TRUE(passes(c));
  EXPECT_NE(c.detail.find("1 stale writes rejected"), std::string::npos) << c.detail;
}

TEST(LockChecks, FencingFailsAcceptedGenerationsGoingBackwards) {
  LockHistory h = two_grants();
  h.resource = {write(milliseconds(20), 1, kS1, kLock, 9), write(milliseconds(30), 0, kS0, kLock, 5)};
  EXPECT_TRUE(fails_naming(check_fencing(h),
                           {"lock /ls/local/locks/a: the resource accepted generation 5 (client 0, "
                            "30.00ms) after generation 9 (client 1, 20.00ms)"}));
}

TEST(LockChecks, FencingFailsAGenerationTheServiceNeverGranted) {
  LockHistory h = two_grants();
  h.resource = {write(milliseconds(10), 2, kS2, kLock, 7)};
  EXPECT_TRUE(fails_naming(check_fencing(h),
                           {"accepted generation 7 from client 2 (session 13) at 10.00ms",
                            "no such generation"}));
}

TEST(LockChecks, FencingFailsAGenerationGrantedToAnotherSession) {
  LockHistory h = two_grants();
  h.resource = {write(milliseconds(10), 1, kS1, kLock, 5)};  // 5 was client 0's
  EXPECT_TRUE(fails_naming(check_fencing(h), {"accepted generation 5 from client 1 (session 12)",
                                              "the service granted client 0 (session 11)"}));
}

// ---- session_safety ------------------------------------------------------------------------------

TEST(LockChecks, SessionSafetyPassesAnExpiryAfterTheLease) {
  LockHistory h = with_clients();
  h.applied = {opening(1, Nanos{0}, kS0),
               applied(2, seconds(1), kS0, 1, lk::KeepAlive{}),
               expiry(3, seconds(3), kS0)};
  EXPECT_TRUE(passes(check_session_safety(h, context())));
}

TEST(LockChecks, SessionSafetyFailsAnExpiryWithinTTLOfTheLastKeepAlive) {
  LockHistory h = with_clients();
  h.applied = {opening(1, Nanos{0}, kS0),
               applied(2, seconds(1), kS0, 1, lk::KeepAlive{}),
               expiry(3, milliseconds(2500), kS0)};
  EXPECT_TRUE(fails_naming(check_session_safety(h, context()),
                           {"client 0 (session 11) expired at 2.500s, 1.500s after its last "
                            "KeepAlive"}));
}

TEST(LockChecks, SessionSafetyTimesALeaseWithoutKeepAliveFromTheOpening) {
  LockHistory h = with_clients();
  h.applied = {opening(1, seconds(1), kS0), expiry(2, milliseconds(2900), kS0)};
  EXPECT_TRUE(fails_naming(check_session_safety(h, context()),
                           {"client 0 (session 11) expired at 2.900s, 1.900s after"}));
}

TEST(LockChecks, SessionSafetyTimesTheLeaseFromTheApplyThatStartedIt) {
  // The state machine restarts a lease only when a KeepAlive runs or a session opens; a retry
  // answered from the record, or a retried opening answered with the same session, does not. An
  // expiry 2 s after the KeepAlive that ran keeps the 2 s TTL whatever retries came after it.
  LockHistory h = with_clients();
  h.applied = {opening(1, Nanos{0}, kS0), applied(2, seconds(1), kS0, 1, lk::KeepAlive{}),
               from_record(applied(3, milliseconds(2500), kS0, 1, lk::KeepAlive{})),
               expiry(4, seconds(3), kS0)};
  EXPECT_TRUE(passes(check_session_safety(h, context())));

  h.applied = {opening(1, Nanos{0}, kS0), opening(2, milliseconds(1500), kS0),
               expiry(3, seconds(2), kS0)};
  EXPECT_TRUE(passes(check_session_safety(h, context())));
}

TEST(LockChecks, SessionSafetyFailsAnExpiryWithinGraceOfANewLeader) {
  LockHistory h = with_clients();
  h.applied = {opening(1, Nanos{0}, kS0), applied(2, seconds(1), kS0, 1, lk::KeepAlive{}),
               applied(3, seconds(2), SessionId{0}, 0, lk::BeginLeadership{2}),
               // 2.5 s after the KeepAlive (TTL kept), 1.5 s after the new leader (not TTL+grace).
               expiry(4, milliseconds(3500), kS0)};
  EXPECT_TRUE(fails_naming(check_session_safety(h, context()),
                           {"client 0 (session 11) expired at 3.500s, 1.500s after a new leader "
                            "began at 2.000s"}));

  // A leadership that began before the last KeepAlive adds nothing to wait for.
  h.applied = {opening(1, Nanos{0}, kS0),
               applied(2, milliseconds(500), SessionId{0}, 0, lk::BeginLeadership{2}),
               applied(3, seconds(1), kS0, 1, lk::KeepAlive{}), expiry(4, milliseconds(3500), kS0)};
  EXPECT_TRUE(passes(check_session_safety(h, context())));
}

TEST(LockChecks, SessionSafetyFailsALockGrantedAgainWithinLockDelay) {
  LockHistory h = with_clients();
  h.applied = {opening(1, Nanos{0}, kS0),
               applied(2, milliseconds(100), kS0, 1, lk::Acquire{kLock}, Code::ok,
                       {granted(2, kLock, kS0)}),
               expiry(3, seconds(3), kS0,
                      {event(3, EventKind::lock_released, kLock, kS0, Cause::session_expired)}),
               applied(4, milliseconds(3900), SessionId{0}, 0, lk::EndLockDelay{kLock, {3}, 1},
                       Code::ok, {granted(4, kLock, kS1)})};
  EXPECT_TRUE(fails_naming(check_session_safety(h, context()),
                           {"lock /ls/local/locks/a was granted to client 1 (session 12) at 3.900s, "
                            "900.00ms after its holder's session expired"}));

  h.applied[3].at = seconds(4);
  EXPECT_TRUE(passes(check_session_safety(h, context())));
}

TEST(LockChecks, SessionSafetyAllowsAnImmediateGrantAfterACleanRelease) {
  LockHistory h = with_clients();
  h.applied = {applied(1, milliseconds(100), kS0, 1, lk::Acquire{kLock}, Code::ok,
                       {granted(1, kLock, kS0)}),
               applied(2, milliseconds(200), kS0, 2, lk::Release{kLock}, Code::ok,
                       {event(2, EventKind::lock_released, kLock, kS0, Cause::released),
                        granted(3, kLock, kS1)})};
  EXPECT_TRUE(passes(check_session_safety(h, context())));
}

TEST(LockChecks, SessionSafetyFailsAnExpiryThatLeftAnEphemeralNode) {
  const std::string node = "/ls/local/members/m-0000000004";
  LockHistory h = with_clients();
  h.applied = {opening(1, Nanos{0}, kS0),
               applied(2, milliseconds(100), kS0, 1,
                       lk::Create{"/ls/local/members/m-", {}, true, true}, Code::ok,
                       {event(1, EventKind::node_created, node),
                        event(2, EventKind::children_changed, "/ls/local/members")}),
               expiry(3, seconds(3), kS0)};
  EXPECT_TRUE(fails_naming(check_session_safety(h, context()),
                           {"client 0 (session 11) expired at 3.000s but its ephemeral node "
                            "/ls/local/members/m-0000000004 was not deleted"}));

  h.applied[2].events = {event(3, EventKind::node_deleted, node)};
  EXPECT_TRUE(passes(check_session_safety(h, context())));
}

TEST(LockChecks, SessionSafetyAllowsForDriftUpToItsSlack) {
  // At 1000 ppm on each side a 2 s TTL may be timed 4 ms short (plus 1 us of rounding).
  LockCheckContext c = context();
  c.drift_ppm_max = 1000;
  LockHistory h = with_clients();
  h.applied = {opening(1, Nanos{0}, kS0), expiry(2, milliseconds(1996), kS0)};
  EXPECT_TRUE(passes(check_session_safety(h, c)));
  EXPECT_TRUE(fails_naming(check_session_safety(h, context()), {"1.996s after"}));

  h.applied[1].at = milliseconds(1995);
  EXPECT_TRUE(fails_naming(check_session_safety(h, c), {"expired at 1.995s"}));
}

TEST(LockChecks, SessionSafetyFailsARequestAcceptedAfterTheSessionExpired) {
  LockHistory h = with_clients();
  h.applied = {opening(1, Nanos{0}, kS0), expiry(2, seconds(3), kS0),
               applied(3, milliseconds(3200), kS0, 7, lk::Set{kNode, {}, {}})};
  EXPECT_TRUE(fails_naming(check_session_safety(h, context()),
                           {"client 0 (session 11) ended at 3.000s (expired, index 2), but its "
                            "request 7 (set) was accepted at 3.200s (index 3)"}));

  // Refused, or a retry answered from the record: nothing new was accepted.
  h.applied[2].code = Code::session_expired;
  EXPECT_TRUE(passes(check_session_safety(h, context())));
  h.applied[2] = from_record(applied(3, milliseconds(3200), kS0, 7, lk::Set{kNode, {}, {}}));
  EXPECT_TRUE(passes(check_session_safety(h, context())));
  // Other sessions go on.
  h.applied[2] = applied(3, milliseconds(3200), kS1, 7, lk::Set{kNode, {}, {}});
  EXPECT_TRUE(passes(check_session_safety(h, context())));
  // An expiry the service refused ends nothing.
  h.applied[1].code = Code::lease_extended;
  h.applied[2].session = kS0;
  EXPECT_TRUE(passes(check_session_safety(h, context())));
}

TEST(LockChecks, SessionSafetyFailsARequestAcceptedAfterTheSessionClosed) {
  LockHistory h = with_clients();
  h.applied = {opening(1, Nanos{0}, kS1), applied(2, seconds(1), kS1, 4, lk::CloseSession{}),
               applied(3, seconds(2), kS1, 5, lk::Acquire{kLock}, Code::ok,
                       {granted(3, kLock, kS1)})};
  EXPECT_TRUE(fails_naming(check_session_safety(h, context()),
                           {"client 1 (session 12) ended at 1.000s (closed, index 2), but its "
                            "request 5 (acquire) was accepted at 2.000s (index 3)"}));
  h.applied[2].code = Code::session_expired;
  h.applied[2].events.clear();
  EXPECT_TRUE(passes(check_session_safety(h, context())));
}

// ---- at_most_once --------------------------------------------------------------------------------

TEST(LockChecks, AtMostOncePassesRetriesAnsweredFromTheRecord) {
  LockHistory h = with_clients();
  h.applied = {applied(5, seconds(1), kS0, 3, lk::Create{"/ls/local/x", {}, false, false}),
               from_record(applied(6, seconds(2), kS0, 3,
                                   lk::Create{"/ls/local/x", {}, false, false})),
               // Refused before running, so not a second run.
               applied(7, seconds(3), kS0, 3, lk::Create{"/ls/local/x", {}, false, false},
                       Code::stale_request),
               // Reads are not recorded and may run any number of times.
               applied(8, seconds(3), kS0, 4, lk::Get{"/ls/local/x"}),
               applied(9, seconds(3), kS0, 4, lk::Get{"/ls/local/x"}),
               // Leader commands are not client requests.
               applied(10, seconds(4), SessionId{0}, 0, lk::BeginLeadership{2}),
               applied(11, seconds(4), SessionId{0}, 0, lk::BeginLeadership{3})};
  const LockCheck c = check_at_most_once(h);
  EXPECT_TRUE(passes(c));
  EXPECT_NE(c.detail.find("1 client requests ran once each; 1 retries"), std::string::npos)
      << c.detail;
}

TEST(LockChecks, AtMostOnceFailsARequestRunTwice) {
  LockHistory h = with_clients();
  h.applied = {applied(5, seconds(1), kS0, 3, lk::Create{"/ls/local/x", {}, false, false}),
               applied(8, seconds(2), kS0, 3, lk::Create{"/ls/local/x", {}, false, false},
                       Code::node_exists)};
  EXPECT_TRUE(fails_naming(check_at_most_once(h),
                           {"client 0 (session 11) request 3 (create) ran twice: at index 5 and at "
                            "index 8"}));
}

TEST(LockChecks, AtMostOnceWithoutClientRequestsIsNotApplicable) {
  LockHistory h = with_clients();
  h.applied = {applied(1, seconds(1), SessionId{0}, 0, lk::BeginLeadership{1})};
  EXPECT_EQ(check_at_most_once(h).verdict, Verdict::not_applicable);
}

}  // namespace
}  // namespace lock_checks_test
}  // namespace lockstep::harness
