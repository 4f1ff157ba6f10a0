// The lock server (service/lock/lock_server.h) in a simulated cell: BeginLeadership on every new
// leader, leader timers (lease expiry, lock-delay), grace after a failover, notification routing
// and redirects.
#include <gtest/gtest.h>

#include "service/client_wire.h"
#include "service/lock/lock_codec.h"
#include "tests/service/lock_cluster.h"

namespace lockstep::service::lock::testing {
namespace {

const std::string kLock = "/ls/local/lock";

// Counts what the clients saw, across fibers and restarts.
struct Seen {
  std::vector<std::pair<std::string, Nanos>> marks;  // (what, true time)
  std::uint64_t woken = 0;
  std::vector<SessionEvent> session_events;
  std::optional<Nanos> at(const std::string& what) const {
    for (const auto& [w, t] : marks) {
      if (w == what) return t;
    }
    return std::nullopt;
  }
};

struct CountingObserver : LockClientObserver {
  Seen* seen = nullptr;
  void woken(SessionId, std::uint64_t) override { ++seen->woken; }
  void session_event(SessionId, SessionEvent e) override { seen->session_events.push_back(e); }
};

TEST(LockServer, EveryNewLeaderBeginsItsLeadershipBeforeActing) {
  LockCluster cell;
  ASSERT_TRUE(cell.run_until([&] { return cell.leader().has_value(); }, seconds(2)));
  cell.run_for(milliseconds(50));
  const std::uint32_t first = *cell.leader();
  const std::uint64_t term = cell.host(first)->role().term;
  EXPECT_EQ(cell.server(first).begun_term(), term);
  for (std::uint32_t i = 0; i < 3; ++i) EXPECT_EQ(cell.service(i).machine().leader_term(), term);

  cell.world().crash(NodeId{first});
  ASSERT_TRUE(cell.run_until(
      [&] { return cell.leader().has_value() && *cell.leader() != first; }, seconds(3)));
  cell.run_for(milliseconds(50));
  const std::uint32_t second = *cell.leader();
  const std::uint64_t term2 = cell.host(second)->role().term;
  EXPECT_GT(term2, term);
  EXPECT_EQ(cell.server(second).begun_term(), term2);
  EXPECT_EQ(cell.service(second).machine().leader_term(), term2);
  for (std::uint32_t i = 0; i < 3; ++i) {
    if (i != first && i != second) {
      EXPECT_EQ(cell.server(i).begun_term(), 0U);  // a follower
    }
  }
}

TEST(LockServer, QueuedAcquireIsWokenByOnePushedGrantWithinACommitRound) {
  LockCluster cell;
  Seen seen;
  CountingObserver observer;
  observer.seen = &seen;
  const LockClientConfig config = cell.client_config();
  cell.add_client([&](sim::FiberContext& f) {
    f.sleep(milliseconds(500));
    LockClient client(f, config);
    ASSERT_TRUE(client.create(kLock, {}).ok());
    ASSERT_TRUE(client.acquire(kLock, LockMode::exclusive, seconds(1)).ok());
    seen.marks.emplace_back("a_holds", cell.now());
    f.sleep(milliseconds(300));
    seen.marks.emplace_back("a_releases", cell.now());
    ASSERT_TRUE(client.release(kLock).ok());
    f.sleep(seconds(5));
  });
  cell.add_client([&](sim::FiberContext& f) {
    f.sleep(milliseconds(600));
    LockClient client(f, config, {}, &observer);
    const auto granted = client.acquire(kLock, LockMode::exclusive, seconds(3));
    ASSERT_TRUE(granted.ok()) << to_string(granted.status) << " " << to_string(granted.code);
    seen.marks.emplace_back("b_holds", cell.now());
    EXPECT_EQ(granted.value.path, kLock);
    f.sleep(seconds(5));
  });
  cell.run_for(seconds(2));
  ASSERT_TRUE(seen.at("b_holds").has_value());
  EXPECT_EQ(seen.woken, 1U);  // pushed, not polled
  const Nanos handoff = *seen.at("b_holds") - *seen.at("a_releases");
  // Release to the leader, one replication round, the Completion back: 4 one-way trips of 500us.
  EXPECT_LE(handoff, milliseconds(3)) << handoff;
}

}  // namespace
}  // namespace lockstep::service::lock::testing
