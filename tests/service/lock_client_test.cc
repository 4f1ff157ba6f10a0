// The client library (service/lock/lock_client.h) against a simulated cell: Chubby's jeopardy,
// safe and expired (§2.8, §2.9), retries under one request number across a leader change, queued
// acquires that time out, and watches that resume across a failover without loss or doubles.
#include <gtest/gtest.h>

#include "tests/service/lock_cluster.h"

namespace lockstep::service::lock::testing {
namespace lock_client_test {
namespace {

const std::string kLock = "/ls/local/lock";

std::vector<NodeId> all_servers() { return {NodeId{0}, NodeId{1}, NodeId{2}}; }

void pause_servers(LockCluster& cell) {
  for (NodeId n : all_servers()) cell.world().pause(n);
}
void resume_servers(LockCluster& cell) {
  for (NodeId n : all_servers()) cell.world().resume(n);
}

TEST(LockClient, JeopardyWhenTheLeaseRunsOutThenSafeWhenALeaderAnswersWithinGrace) {
  LockCluster cell;
  const LockClientConfig config = cell.client_config();
  std::vector<std::pair<SessionEvent, Nanos>> events;
  SessionId session;
  bool still_holds = false;
  cell.add_client([&](sim::FiberContext& f) {
    f.sleep(milliseconds(500));
    LockClient client(f, config, [&](SessionEvent e) { events.emplace_back(e, cell.now()); });
    session = client.session();
    ASSERT_TRUE(client.create(kLock, {}).ok());
    const auto g = client.acquire(kLock, LockMode::exclusive, seconds(1));
    ASSERT_TRUE(g.ok());
    f.sleep(seconds(4));
    still_holds = client.check_sequencer(g.value).ok();
    f.sleep(seconds(60));
  });
  cell.run_for(seconds(1));
  const Nanos paused = cell.now();
  pause_servers(cell);
  cell.run_for(milliseconds(1500));  // past the lease (1s), within lease + grace (3s)
  resume_servers(cell);
  cell.run_for(seconds(4));
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].first, SessionEvent::jeopardy);
  EXPECT_EQ(events[1].first, SessionEvent::safe);
  // The lease is counted from the last acknowledged KeepAlive's first send, at most TTL/3 before
  // the pause: jeopardy comes within (TTL - TTL/3, TTL] of it.
  EXPECT_GT(events[0].second - paused, config.session_ttl - config.session_ttl / 3);
  EXPECT_LE(events[0].second - paused, config.session_ttl);
  EXPECT_GE(events[1].second, paused + milliseconds(1500));
  EXPECT_TRUE(still_holds);
  EXPECT_TRUE(cell.service(*cell.leader()).machine().session_alive(session));
}

TEST(LockClient, ExpiredWhenNoLeaderAnswersWithinGraceAndCallsThenFail) {
  LockCluster cell;
  const LockClientConfig config = cell.client_config();
  std::vector<std::pair<SessionEvent, Nanos>> events;
  std::optional<Status> after;
  cell.add_client([&](sim::FiberContext& f) {
    f.sleep(milliseconds(500));
    LockClient client(f, config, [&](SessionEvent e) { events.emplace_back(e, cell.now()); });
    f.sleep(seconds(6));
    after = client.get("/ls/local").status;
  });
  cell.run_for(seconds(1));
  const Nanos paused = cell.now();
  pause_servers(cell);
  cell.run_for(seconds(4));  // past lease + grace (3s)
  resume_servers(cell);
  cell.run_for(seconds(3));
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].first, SessionEvent::jeopardy);
  EXPECT_EQ(events[1].first, SessionEvent::expired);
  EXPECT_EQ(events[1].second - events[0].second, config.grace);
  EXPECT_LE(events[1].second - paused, config.session_ttl + config.grace);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(*after, Status::session_lost);
}

// Raft dissertation §6.3: the reply to a sequential create is lost and its leader crashes; the
// client retries the same request number at the next leader, which answers from the record. One
// node is created, and exactly one apply of that request changed the state.
TEST(LockClient, RequestRetriedAfterALeaderChangeIsAppliedOnce) {
  LockCluster cell;
  std::map<std::pair<SessionId, std::uint64_t>, int> changes;  // applies that changed the state
  std::map<std::pair<SessionId, std::uint64_t>, std::uint64_t> max_index;
  LockClientConfig config = cell.client_config();
  std::optional<Outcome<NodeCreated>> created;
  std::optional<Children> children;
  const NodeId client = cell.add_client([&](sim::FiberContext& f) {
    f.sleep(milliseconds(500));
    LockClient c(f, config);
    ASSERT_TRUE(c.create("/ls/local/q", {}).ok());
    f.sleep(milliseconds(500));
    created = c.create("/ls/local/q/job-", {}, false, true);
    const auto l = c.list("/ls/local/q");
    if (l.ok()) children = l.value;
    f.sleep(seconds(60));
  });
  cell.run_for(milliseconds(800));
  for (std::uint32_t i = 0; i < 3; ++i) {
    // Observe every replica's applies; a replica's first apply of an index counts once.
    const_cast<LockService&>(cell.service(i)).set_apply_observer([&](const AppliedCommand& a) {
      const auto key = std::make_pair(a.caller.session, a.caller.request);
      if (a.index <= max_index[key]) return;
      max_index[key] = a.index;
      if (a.revision_after != a.revision_before) ++changes[key];
    });
  }
  const std::uint32_t leader = *cell.leader();
  const std::vector<NodeId> from{NodeId{leader}};
  const std::vector<NodeId> to{client};
  cell.world().network().partition_one_way(from, to);  // the leader's replies are lost
  cell.run_for(milliseconds(400));                     // the create commits meanwhile
  cell.world().crash(NodeId{leader});
  cell.world().network().heal();
  cell.run_for(seconds(3));
  ASSERT_TRUE(created.has_value());
  ASSERT_TRUE(created->ok()) << to_string(created->status) << " " << to_string(created->code);
  ASSERT_TRUE(children.has_value());
  EXPECT_EQ(children->names.size(), 1U);
  int create_changes = 0;
  for (const auto& [key, n] : changes) {
    EXPECT_LE(n, 1) << "session " << key.first.value << " request " << key.second;
    create_changes += n;
  }
  EXPECT_GE(create_changes, 1);
}

TEST(LockClient, AcquireThatTimesOutWithdrawsItsWait) {
  LockCluster cell;
  const LockClientConfig config = cell.client_config();
  std::optional<Status> waited;
  bool c_granted = false;
  cell.add_client([&](sim::FiberContext& f) {
    f.sleep(milliseconds(500));
    LockClient a(f, config);
    ASSERT_TRUE(a.create(kLock, {}).ok());
    ASSERT_TRUE(a.acquire(kLock, LockMode::exclusive, seconds(1)).ok());
    f.sleep(seconds(1));
    ASSERT_TRUE(a.release(kLock).ok());
    f.sleep(seconds(60));
  });
  cell.add_client([&](sim::FiberContext& f) {
    f.sleep(milliseconds(700));
    LockClient b(f, config);
    waited = b.acquire(kLock, LockMode::exclusive, milliseconds(300)).status;
    f.sleep(seconds(60));
  });
  cell.add_client([&](sim::FiberContext& f) {
    f.sleep(milliseconds(1200));
    LockClient c(f, config);
    c_granted = c.acquire(kLock, LockMode::exclusive, seconds(5)).ok();
    f.sleep(seconds(60));
  });
  cell.run_for(seconds(3));
  ASSERT_TRUE(waited.has_value());
  EXPECT_EQ(*waited, Status::timeout);
  EXPECT_TRUE(c_granted);  // B left the queue: C, behind it, got the lock at A's release
}

// etcd's resumable watch: a watcher reads every change of a key; the leader's notifications to it
// are lost for a while, then the leader crashes after the last write. The watcher finds the
// failover, resumes from the last revision it handed out, and gets each event once, in commit
// order, none missing.
TEST(LockClient, WatchStreamAcrossALeaderChangeLosesAndDoublesNothing) {
  LockCluster cell;
  const LockClientConfig config = cell.client_config();
  const std::string key = "/ls/local/config";
  std::vector<Revision> written;
  std::vector<Event> seen;
  bool writer_done = false;
  cell.add_client([&](sim::FiberContext& f) {
    f.sleep(milliseconds(500));
    LockClient w(f, config);
    ASSERT_TRUE(w.create(key, to_bytes("0")).ok());
    f.sleep(milliseconds(300));
    for (int i = 1; i <= 40; ++i) {
      const auto r = w.set(key, to_bytes(std::to_string(i)));
      ASSERT_TRUE(r.ok());
      written.push_back(r.value.stat.modified);
      f.sleep(milliseconds(50));
    }
    writer_done = true;
    f.sleep(seconds(60));
  });
  const NodeId watcher = cell.add_client([&](sim::FiberContext& f) {
    f.sleep(milliseconds(700));
    LockClient r(f, config);
    ASSERT_TRUE(r.watch(1, key, false, watch_bit(EventKind::node_changed)).ok());
    while (seen.size() < 40) {
      const auto e = r.next_event(1, seconds(10));
      if (!e.ok()) break;
      seen.push_back(e.value);
    }
    f.sleep(seconds(60));
  });
  cell.run_for(milliseconds(2500));
  const std::uint32_t leader = *cell.leader();
  const std::vector<NodeId> from{NodeId{leader}};
  const std::vector<NodeId> to{watcher};
  cell.world().network().partition_one_way(from, to);
  ASSERT_TRUE(cell.run_until([&] { return writer_done; }, seconds(2)));
  cell.run_for(milliseconds(10));
  const std::size_t seen_before_crash = seen.size();
  cell.world().crash(NodeId{leader});
  cell.world().network().heal();
  cell.run_for(seconds(8));
  EXPECT_LT(seen_before_crash, 40U);  // the test did lose some events
  ASSERT_EQ(seen.size(), written.size());
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].revision, written[i]) << i;
    EXPECT_EQ(seen[i].kind, EventKind::node_changed);
  }
}

}  // namespace
}  // namespace lock_client_test
}  // namespace lockstep::service::lock::testing
