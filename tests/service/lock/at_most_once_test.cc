// At-most-once (Raft dissertation §6.3): a retried request is answered from its record, never
// applied twice; the record is bounded by the client's acknowledgements and a per-session cap.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/service/lock/lock_test_support.h"

namespace lockstep::service::lock::testing {
namespace at_most_once_test {
namespace {

TEST(LockAtMostOnce, RetryIsAnsweredFromTheRecordNotAppliedAgain) {
  Harness h;
  const SessionId s = h.open();
  const Result created = h.apply(s, 1, Create{p("/a"), b("x")}).result;
  ASSERT_EQ(created.code, Code::ok);
  const Result set = h.apply(s, 2, Set{p("/a"), b("y"), std::nullopt}).result;
  ASSERT_EQ(set.code, Code::ok);
  const Revision before = h.sm.revision();

  // The replies were lost; the client retries both under the same numbers.
  EXPECT_EQ(h.apply(s, 1, Create{p("/a"), b("x")}).result, created);  // not node_exists
  EXPECT_EQ(h.apply(s, 2, Set{p("/a"), b("y"), std::nullopt}).result, set);
  EXPECT_EQ(h.sm.revision(), before);
  EXPECT_EQ(std::get<NodeData>(h.apply(s, 3, Get{p("/a")}).result.value).stat.version, 1u);
}

TEST(LockAtMostOnce, RetryOfAQueuedAcquireSeesItsGrant) {
  Harness h;
  const SessionId holder = h.open();
  const SessionId waiter = h.open();
  h.create_ok(holder, p("/l"));
  h.acquire_ok(holder, p("/l"));
  ASSERT_EQ(h.apply(waiter, 1, Acquire{p("/l"), LockMode::exclusive, true}).result.code,
            Code::waiting);
  // Still queued: the retry is not queued twice (already_waiting) but answered "waiting".
  EXPECT_EQ(h.apply(waiter, 1, Acquire{p("/l"), LockMode::exclusive, true}).result.code,
            Code::waiting);
  ASSERT_EQ(h.code(holder, Release{p("/l")}), Code::ok);
  ASSERT_EQ(h.completions(), (std::vector<CompletionSeen>{{waiter, 1, Code::ok}}));
  const Sequencer granted =
      std::get<Granted>(std::get<Completion>(h.last.notifications.back().body).result.value)
          .sequencer;
  // The Completion was lost with the old leader; the retry gets the grant, not a second one.
  const Result retry = h.apply(waiter, 1, Acquire{p("/l"), LockMode::exclusive, true}).result;
  ASSERT_EQ(retry.code, Code::ok);
  EXPECT_EQ(sequencer_of(retry), granted);
  EXPECT_TRUE(h.last.notifications.empty());
}

TEST(LockAtMostOnce, AcknowledgedRequestWithoutRecordIsStale) {
  Harness h;
  const SessionId s = h.open();
  h.apply(s, 1, Create{p("/a"), {}});
  h.apply(s, 2, Create{p("/b"), {}}, /*acked_through=*/1);
  // Request 1's record is gone; a late duplicate of it must not be applied (a delete would go).
  EXPECT_EQ(h.apply(s, 1, Delete{p("/a"), std::nullopt}).result.code, Code::stale_request);
  EXPECT_EQ(h.apply(s, 3, Get{p("/a")}).result.code, Code::ok);
  // Request 2 was not acknowledged: its record answers a retry.
  EXPECT_EQ(h.apply(s, 2, Create{p("/b"), {}}).result.code, Code::ok);
}

TEST(LockAtMostOnce, RequestNumbersStartAtOne) {
  Harness h;
  const SessionId s = h.open();
  EXPECT_EQ(h.apply(s, 0, Create{p("/a"), {}}).result.code, Code::stale_request);
  EXPECT_EQ(h.apply(s, 1, Get{p("/a")}).result.code, Code::no_node);
}

TEST(LockAtMostOnce, RecordIsBoundedAndForgottenNumbersAreStale) {
  LockConfig c = test_config();
  c.results_per_session_max = 4;
  c.waits_per_session_max = 2;
  Harness h(c);
  const SessionId s = h.open();
  const SessionId other = h.open();
  h.create_ok(other, p("/l"));
  h.acquire_ok(other, p("/l"));
  // Request 1 waits; 2..6 finish; the client never acknowledges anything.
  ASSERT_EQ(h.apply(s, 1, Acquire{p("/l"), LockMode::exclusive, true}).result.code, Code::waiting);
  for (std::uint64_t r = 2; r <= 6; ++r) {
    ASSERT_EQ(h.apply(s, r, Create{p(fmt::format("/n{}", r)), {}}).result.code, Code::ok);
  }
  // Four records kept: the queued 1 (never forgotten) and the newest finished 4, 5, 6.
  EXPECT_EQ(h.apply(s, 2, Create{p("/n2"), {}}).result.code, Code::stale_request);
  EXPECT_EQ(h.apply(s, 3, Create{p("/n3"), {}}).result.code, Code::stale_request);
  EXPECT_EQ(h.apply(s, 4, Create{p("/n4"), {}}).result.code, Code::ok);
  EXPECT_EQ(h.apply(s, 1, Acquire{p("/l"), LockMode::exclusive, true}).result.code, Code::waiting);
  // A new request below the forgotten mark that never ran is refused, not applied.
  EXPECT_EQ(h.apply(s, 3, Create{p("/other"), {}}).result.code, Code::stale_request);
  EXPECT_EQ(h.apply(s, 7, Get{p("/other")}).result.code, Code::no_node);
}

TEST(LockAtMostOnce, ReadsAreAnsweredAfreshNotFromARecord) {
  Harness h;
  const SessionId s = h.open();
  h.apply(s, 1, Create{p("/a"), b("old")});
  ASSERT_EQ(std::get<NodeData>(h.apply(s, 2, Get{p("/a")}).result.value).content, b("old"));
  h.apply(s, 3, Set{p("/a"), b("new"), std::nullopt});
  // A read has no effect, so re-running it is safe, and its answer is current.
  EXPECT_EQ(std::get<NodeData>(h.apply(s, 2, Get{p("/a")}).result.value).content, b("new"));
}

}  // namespace
}  // namespace at_most_once_test
}  // namespace lockstep::service::lock::testing
