// Sessions (Chubby §2.8, §2.9): opening, KeepAlive, expiry decided by the leader and committed as
// a command, the grace period a new leader grants, and what ending a session cleans up.
#include <gtest/gtest.h>

#include "tests/service/lock/lock_test_support.h"

namespace lockstep::service::lock::testing {
namespace session_test {
namespace {

std::vector<LeaseTimer> lease_timers(const ApplyOutcome& o) {
  std::vector<LeaseTimer> out;
  for (const LeaderTimer& t : o.timers) {
    if (const auto* l = std::get_if<LeaseTimer>(&t)) out.push_back(*l);
  }
  return out;
}

TEST(LockSessions, OpenNamesSessionsInOrderAndArmsTheirLease) {
  Harness h;
  const ApplyOutcome& first = h.apply(SessionId{kOpenTokenBit | 7}, 1, OpenSession{seconds(5)});
  ASSERT_EQ(first.result.code, Code::ok);
  EXPECT_EQ(std::get<SessionInfo>(first.result.value), (SessionInfo{SessionId{1}, seconds(5)}));
  EXPECT_EQ(lease_timers(first), (std::vector<LeaseTimer>{{SessionId{1}, h.index, seconds(5)}}));
  EXPECT_EQ(h.open(), SessionId{2});
  EXPECT_TRUE(h.sm.session_alive(SessionId{1}));
}

TEST(LockSessions, OpenWithTtlOutOfRangeIsInvalidArgument) {
  Harness h;  // ttl in [100ms, 60s]
  EXPECT_EQ(h.apply(SessionId{kOpenTokenBit | 1}, 1, OpenSession{milliseconds(99)}).result.code,
            Code::invalid_argument);
  EXPECT_EQ(h.apply(SessionId{kOpenTokenBit | 2}, 1, OpenSession{seconds(61)}).result.code,
            Code::invalid_argument);
  EXPECT_EQ(h.apply(SessionId{kOpenTokenBit | 3}, 1, OpenSession{Nanos{-1}}).result.code,
            Code::invalid_argument);
  EXPECT_EQ(h.sm.session_count(), 0u);
  EXPECT_EQ(h.apply(SessionId{kOpenTokenBit | 4}, 1, OpenSession{milliseconds(100)}).result.code,
            Code::ok);
}

TEST(LockSessions, OpenWithoutTheTokenBitIsInvalidArgument) {
  Harness h;
  // Without the bit the token could equal a session id and mix up the host's pending requests.
  EXPECT_EQ(h.apply(SessionId{5}, 1, OpenSession{seconds(5)}).result.code, Code::invalid_argument);
  EXPECT_EQ(h.sm.session_count(), 0u);
}

TEST(LockSessions, RetriedOpenGetsTheSameSession) {
  Harness h;
  const SessionId token{kOpenTokenBit | 42};
  const Result first = h.apply(token, 1, OpenSession{seconds(5)}).result;
  const Result retry = h.apply(token, 1, OpenSession{seconds(5)}).result;
  EXPECT_EQ(std::get<SessionInfo>(retry.value), std::get<SessionInfo>(first.value));
  EXPECT_EQ(h.sm.session_count(), 1u);
}

TEST(LockSessions, SessionCountIsBounded) {
  LockConfig c = test_config();
  c.sessions_max = 2;
  Harness h(c);
  h.open();
  const SessionId second = h.open();
  EXPECT_EQ(h.apply(SessionId{kOpenTokenBit | 99}, 1, OpenSession{seconds(5)}).result.code,
            Code::limit_exceeded);
  ASSERT_EQ(h.code(second, CloseSession{}), Code::ok);
  h.open();
}

TEST(LockSessions, UnknownSessionIsSessionUnknown) {
  Harness h;
  const SessionId s = h.open();
  EXPECT_EQ(h.code(SessionId{0}, Get{p("")}), Code::session_unknown);
  EXPECT_EQ(h.code(SessionId{s.value + 1}, KeepAlive{}), Code::session_unknown);
  EXPECT_EQ(h.code(SessionId{kOpenTokenBit | 1}, Create{p("/a"), {}}), Code::session_unknown);
  EXPECT_EQ(h.code(s, Get{p("/a")}), Code::no_node);
}

TEST(LockSessions, EndedSessionIsSessionExpired) {
  Harness h;
  h.begin_leadership(1);
  const SessionId closed = h.open();
  const SessionId expired = h.open();
  ASSERT_EQ(h.code(closed, CloseSession{}), Code::ok);
  ASSERT_EQ(h.expire(expired).result.code, Code::ok);
  for (const SessionId s : {closed, expired}) {
    EXPECT_EQ(h.code(s, KeepAlive{}), Code::session_expired);
    EXPECT_EQ(h.code(s, Create{p("/a"), {}}), Code::session_expired);
    EXPECT_EQ(h.code(s, CloseSession{}), Code::session_expired);
  }
  EXPECT_EQ(h.sm.session_count(), 0u);
}

TEST(LockSessions, KeepAliveRearmsTheLeaseFromItsOwnIndex) {
  Harness h;
  const SessionId s = h.open(seconds(3));
  const ApplyOutcome& kept = h.run(s, KeepAlive{});
  ASSERT_EQ(kept.result.code, Code::ok);
  EXPECT_EQ(lease_timers(kept), (std::vector<LeaseTimer>{{s, h.index, seconds(3)}}));
}

TEST(LockSessions, ExpiryEndsTheSessionAndTellsIt) {
  Harness h;
  h.begin_leadership(1);
  const SessionId s = h.open();
  const ApplyOutcome& out = h.expire(s);
  ASSERT_EQ(out.result.code, Code::ok);
  EXPECT_FALSE(h.sm.session_alive(s));
  ASSERT_EQ(out.notifications.size(), 1u);
  EXPECT_EQ(out.notifications[0].target, s);
  const auto& ended = std::get<SessionEnded>(out.notifications[0].body);
  EXPECT_EQ(ended.event.kind, EventKind::session_expired);
  EXPECT_EQ(ended.event.revision, h.sm.revision());
  EXPECT_EQ(out.timers, (std::vector<LeaderTimer>{LeaseEnded{s}}));
}

TEST(LockSessions, KeepAliveCommittedAfterTheLeadersDecisionWins) {
  Harness h;
  h.begin_leadership(1);
  const SessionId s = h.open();
  const std::uint64_t decided_on = h.lease_index[s];
  ASSERT_EQ(h.code(s, KeepAlive{}), Code::ok);  // raced ahead of the expiry in the log
  EXPECT_EQ(h.leader(ExpireSession{s, decided_on, 1}).result.code, Code::lease_extended);
  EXPECT_TRUE(h.sm.session_alive(s));
  EXPECT_EQ(h.expire(s).result.code, Code::ok);  // the re-armed timer's decision
}

TEST(LockSessions, LeaderCommandsFromClientsAreNotPermitted) {
  Harness h;
  h.begin_leadership(1);
  const SessionId s = h.open();
  h.create_ok(s, p("/a"));
  EXPECT_EQ(h.code(s, ExpireSession{s, h.lease_index[s], 1}), Code::not_permitted);
  EXPECT_EQ(h.code(s, BeginLeadership{2}), Code::not_permitted);
  EXPECT_EQ(h.code(s, EndLockDelay{p("/a"), Revision{1}, 1}), Code::not_permitted);
  EXPECT_TRUE(h.sm.session_alive(s));
  EXPECT_EQ(h.sm.leader_term(), 1u);
}

TEST(LockSessions, ExpiryOutsideTheCurrentLeadershipIsStaleLeader) {
  Harness h;
  const SessionId s = h.open();
  // No leadership has begun: nobody may expire anything yet.
  EXPECT_EQ(h.leader(ExpireSession{s, h.lease_index[s], 0}).result.code, Code::stale_leader);
  h.begin_leadership(3);
  // A deposed leader's decision committed late, and a leader that skipped BeginLeadership.
  EXPECT_EQ(h.leader(ExpireSession{s, h.lease_index[s], 2}).result.code, Code::stale_leader);
  EXPECT_EQ(h.leader(ExpireSession{s, h.lease_index[s], 4}).result.code, Code::stale_leader);
  EXPECT_TRUE(h.sm.session_alive(s));
  EXPECT_EQ(h.leader(ExpireSession{s, h.lease_index[s], 3}).result.code, Code::ok);
}

TEST(LockSessions, ExpiryOfUnknownOrEndedSessionSaysSo) {
  Harness h;
  h.begin_leadership(1);
  const SessionId s = h.open();
  ASSERT_EQ(h.code(s, CloseSession{}), Code::ok);
  EXPECT_EQ(h.expire(s).result.code, Code::session_expired);
  EXPECT_EQ(h.leader(ExpireSession{SessionId{77}, 0, 1}).result.code, Code::session_unknown);
}

TEST(LockSessions, NewLeaderGrantsEverySessionItsTtlPlusGrace) {
  Harness h;  // grace 45s
  h.begin_leadership(1);
  const SessionId a = h.open(seconds(2));
  const SessionId b = h.open(seconds(7));
  ASSERT_EQ(h.code(a, KeepAlive{}), Code::ok);
  const std::uint64_t a_kept = h.index;
  h.create_ok(a, p("/l"));
  h.acquire_ok(b, p("/l"));
  ASSERT_EQ(h.expire(b).result.code, Code::ok);
  const Revision delay = h.delay_started[p("/l")];

  const ApplyOutcome& began = h.leader(BeginLeadership{2});
  ASSERT_EQ(began.result.code, Code::ok);
  EXPECT_EQ(began.timers, (std::vector<LeaderTimer>{
                              LeaseTimer{a, a_kept, seconds(2) + seconds(45)},
                              LockDelayTimer{p("/l"), delay, seconds(10)},
                          }));
  EXPECT_EQ(h.sm.leader_term(), 2u);
}

TEST(LockSessions, BeginLeadershipWithoutANewerTermIsStaleLeader) {
  Harness h;
  h.begin_leadership(5);
  EXPECT_EQ(h.leader(BeginLeadership{5}).result.code, Code::stale_leader);
  EXPECT_EQ(h.leader(BeginLeadership{4}).result.code, Code::stale_leader);
  EXPECT_EQ(h.sm.leader_term(), 5u);
}

TEST(LockSessions, CloseReleasesLocksCleanlyAndDeletesEphemerals) {
  Harness h;
  const SessionId s = h.open();
  const SessionId t = h.open();
  h.create_ok(s, p("/l"));
  ASSERT_EQ(h.code(s, Create{p("/mine"), {}, true, false}), Code::ok);
  h.acquire_ok(s, p("/l"));
  ASSERT_EQ(h.run(t, Acquire{p("/l"), LockMode::exclusive, true}).result.code, Code::waiting);
  const std::uint64_t waiting_request = h.next_request[t];

  ASSERT_EQ(h.code(s, CloseSession{}), Code::ok);
  // A clean end: no lock-delay, the waiter is granted in the same apply.
  EXPECT_EQ(h.completions(), (std::vector<CompletionSeen>{{t, waiting_request, Code::ok}}));
  EXPECT_TRUE(h.delay_timers().empty());
  EXPECT_EQ(h.code(t, Get{p("/mine")}), Code::no_node);
  EXPECT_FALSE(h.sm.session_alive(s));
}

TEST(LockSessions, ExpiryDeletesEphemeralsAndWatchersSeeIt) {
  Harness h;
  h.begin_leadership(1);
  const SessionId owner = h.open();
  const SessionId watcher = h.open();
  h.create_ok(owner, p("/dir"));
  ASSERT_EQ(h.code(owner, Create{p("/dir/e1"), {}, true, false}), Code::ok);
  ASSERT_EQ(h.code(owner, Create{p("/dir/e2"), {}, true, false}), Code::ok);
  ASSERT_EQ(h.code(watcher, Watch{1, p("/dir"), true, kWatchableKinds, {}}), Code::ok);

  ASSERT_EQ(h.expire(owner).result.code, Code::ok);
  std::vector<std::pair<EventKind, std::string>> seen;
  for (const WatchFired& f : h.fired(watcher)) seen.emplace_back(f.event.kind, f.event.path);
  EXPECT_EQ(seen, (std::vector<std::pair<EventKind, std::string>>{
                      {EventKind::node_deleted, p("/dir/e1")},
                      {EventKind::children_changed, p("/dir")},
                      {EventKind::node_deleted, p("/dir/e2")},
                      {EventKind::children_changed, p("/dir")},
                  }));
  EXPECT_EQ(std::get<Children>(h.run(watcher, List{p("/dir")}).result.value).names,
            std::vector<std::string>{});
  EXPECT_EQ(h.sm.node_count(), 2u);  // the root and /dir
}

}  // namespace
}  // namespace session_test
}  // namespace lockstep::service::lock::testing
