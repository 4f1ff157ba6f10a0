// The lock server (service/lock/lock_server.h) in a simulated cell: BeginLeadership on every new
// leader, leader timers (lease expiry, lock-delay), grace after a failover, notification routing
// and redirects.
#include <gtest/gtest.h>

#include "service/client_wire.h"
#include "service/lock/lock_codec.h"
#include "tests/service/lock_cluster.h"

namespace lockstep::service::lock::testing {
namespace lock_server_test {
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
  cell.run_for(milliseconds(200));  // followers learn the commit with a later heartbeat
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
  // Release to the leader, one replication round (two syncs of up to 1ms, two trips), the
  // Completion back: 4 one-way trips of 500us and two syncs, not a re-send interval (1s).
  EXPECT_LE(handoff, milliseconds(5)) << handoff;
}

// The leader's lease timer: a client that stops keeping alive (its node crashed) loses its
// session about one TTL after its last KeepAlive, and with it its lock, which enters lock-delay
// for LockConfig::lock_delay before anyone else gets it (Chubby §2.4, §2.8).
TEST(LockServer, LeaseTimerExpiresASilentSessionThenLockDelayRunsOut) {
  LockCluster cell;
  const LockClientConfig config = cell.client_config();
  SessionId holder;
  const NodeId a = cell.add_client([&](sim::FiberContext& f) {
    f.sleep(milliseconds(500));
    LockClient client(f, config);
    holder = client.session();
    ASSERT_TRUE(client.create(kLock, {}).ok());
    ASSERT_TRUE(client.acquire(kLock, LockMode::exclusive, seconds(1)).ok());
    f.sleep(seconds(60));
  });
  std::vector<std::pair<Code, Nanos>> tries;
  cell.add_client([&](sim::FiberContext& f) {
    f.sleep(milliseconds(700));
    LockClient client(f, config);
    for (;;) {
      const auto r = client.try_acquire(kLock, LockMode::exclusive);
      tries.emplace_back(r.code, cell.now());
      if (r.ok()) break;
      f.sleep(milliseconds(5));
    }
    f.sleep(seconds(60));
  });
  cell.run_for(seconds(1));
  ASSERT_NE(holder.value, 0U);
  const Nanos crashed = cell.now();
  cell.world().crash(a);
  std::optional<Nanos> expired;
  ASSERT_TRUE(cell.run_until(
      [&] {
        const auto l = cell.leader();
        if (l && !expired && !cell.service(*l).machine().session_alive(holder)) {
          expired = cell.now();
        }
        return !tries.empty() && tries.back().first == Code::ok;
      },
      seconds(5)));
  ASSERT_TRUE(expired.has_value());
  const Nanos ttl = config.session_ttl;
  // The last KeepAlive was applied at most TTL/3 before the crash.
  EXPECT_GE(*expired - crashed, ttl - ttl / 3 - milliseconds(5)) << *expired - crashed;
  EXPECT_LE(*expired - crashed, ttl + milliseconds(10)) << *expired - crashed;
  // Refused lock_busy while held, lock_delay after the expiry, granted once the delay ran out.
  bool saw_delay = false;
  for (const auto& [code, at] : tries) {
    if (code == Code::lock_delay) {
      saw_delay = true;
      EXPECT_GE(at, *expired - milliseconds(2));
    }
    if (code == Code::lock_busy) {
      EXPECT_LE(at, *expired + milliseconds(2));
    }
  }
  EXPECT_TRUE(saw_delay);
  const Nanos granted_after = tries.back().second - *expired;
  EXPECT_GE(granted_after, milliseconds(500)) << granted_after;
  EXPECT_LE(granted_after, milliseconds(520)) << granted_after;
}

// Chubby §2.9: a new leader cannot know when clients last kept alive, so it gives every session
// TTL + grace from its own start. A lock holder that finds the new leader keeps its session and
// its lock through the failover, and nobody else gets the lock.
TEST(LockServer, FailoverGivesEverySessionTheGracePeriodAndTheLockStaysHeld) {
  LockCluster cell;
  const LockClientConfig config = cell.client_config();
  SessionId holder;
  Sequencer held;
  std::vector<SessionEvent> events;
  cell.add_client([&](sim::FiberContext& f) {
    f.sleep(milliseconds(500));
    LockClient client(f, config, [&](SessionEvent e) { events.push_back(e); });
    holder = client.session();
    ASSERT_TRUE(client.create(kLock, {}).ok());
    const auto g = client.acquire(kLock, LockMode::exclusive, seconds(1));
    ASSERT_TRUE(g.ok());
    held = g.value;
    f.sleep(seconds(60));
  });
  bool other_granted = false;
  cell.add_client([&](sim::FiberContext& f) {
    f.sleep(milliseconds(700));
    LockClient client(f, config);
    other_granted = client.acquire(kLock, LockMode::exclusive, seconds(30)).ok();
  });
  cell.run_for(seconds(1));
  const std::uint32_t old_leader = *cell.leader();
  cell.world().crash(NodeId{old_leader});
  std::uint32_t new_leader = 0;
  ASSERT_TRUE(cell.run_until(
      [&] {
        const auto l = cell.leader();
        if (!l || *l == old_leader || cell.server(*l).begun_term() == 0) return false;
        new_leader = *l;
        return true;
      },
      seconds(3)));
  // Right after BeginLeadership the holder's lease runs TTL + grace on the new leader's clock.
  const auto deadline = cell.server(new_leader).lease_deadline(holder);
  ASSERT_TRUE(deadline.has_value());
  const Nanos left = *deadline - cell.world().clock(NodeId{new_leader}).monotonic(cell.now());
  EXPECT_GE(left, config.session_ttl + seconds(2) - milliseconds(10)) << left;
  cell.run_for(seconds(5));
  const std::uint32_t l = *cell.leader();
  EXPECT_TRUE(cell.service(l).machine().session_alive(holder));
  EXPECT_EQ(cell.service(l).machine().query(CheckSequencer{held}).code, Code::ok);
  EXPECT_FALSE(other_granted);
}

// A raw client: sends hand-made requests from its node and keeps every message it gets.
struct RawClient : Process {
  Env* env = nullptr;
  std::vector<std::pair<NodeId, Bytes>>* inbox = nullptr;
  void on_start(Env& e) override { env = &e; }
  void on_message(Env&, NodeId from, ByteView payload) override {
    inbox->emplace_back(from, Bytes(payload.begin(), payload.end()));
  }
  void on_timer(Env&, TimerId) override {}
};

Bytes request(std::uint64_t client, std::uint64_t n, const Command& command) {
  return encode(ClientRequest{client, n, ClientOp::write, encode(RequestPayload{0, command})});
}

std::optional<Result> reply_result(const std::vector<std::pair<NodeId, Bytes>>& inbox,
                                   std::uint64_t client, std::uint64_t n) {
  for (const auto& [from, bytes] : inbox) {
    const auto r = decode_reply(bytes);
    if (r && r->client == client && r->request == n && r->status == ReplyStatus::ok) {
      return decode_result(r->payload);
    }
  }
  return std::nullopt;
}

std::vector<std::pair<NodeId, Notification>> notes(
    const std::vector<std::pair<NodeId, Bytes>>& inbox) {
  std::vector<std::pair<NodeId, Notification>> out;
  for (const auto& [from, bytes] : inbox) {
    if (const auto body = notify_body(bytes)) out.emplace_back(from, *decode_notification(*body));
  }
  return out;
}

class RawCell : public ::testing::Test {
 protected:
  RawCell() {
    for (int i = 0; i < 2; ++i) {
      nodes[i] = cell.world().add_node(fmt::format("raw{}", i), [this, i](NodeId) {
        auto p = std::make_unique<RawClient>();
        raw[i] = p.get();
        p->inbox = &inbox[i];
        return p;
      });
    }
    cell.run_until([&] { return cell.leader().has_value(); }, seconds(2));
    cell.run_for(milliseconds(50));
  }
  // Sends from raw client `i` to `server` and runs 20ms.
  void send(int i, std::uint32_t server, Bytes message) {
    raw[i]->env->send(NodeId{server}, message);
    cell.run_for(milliseconds(20));
  }
  SessionId open(int i, std::uint32_t server) {
    const std::uint64_t token = kOpenTokenBit | static_cast<std::uint64_t>(i + 1);
    send(i, server, request(token, 1, OpenSession{seconds(5)}));
    const auto r = reply_result(inbox[i], token, 1);
    EXPECT_TRUE(r.has_value());
    return r ? std::get<SessionInfo>(r->value).session : SessionId{};
  }

  LockCluster cell;
  RawClient* raw[2] = {nullptr, nullptr};
  NodeId nodes[2];
  std::vector<std::pair<NodeId, Bytes>> inbox[2];
};

TEST_F(RawCell, FollowerRedirectsToTheLeaderAndNobodyMayUseTheHostsClientId) {
  const std::uint32_t leader = *cell.leader();
  const std::uint32_t follower = (leader + 1) % 3;
  send(0, follower, request(kOpenTokenBit | 9, 1, OpenSession{seconds(5)}));
  const auto reply = decode_reply(inbox[0].back().second);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, ReplyStatus::not_leader);
  EXPECT_EQ(reply->leader_hint, NodeId{leader});
  send(0, leader, request(kHostClient, 1, ExpireSession{SessionId{1}, 1, 1}));
  const auto refused = decode_reply(inbox[0].back().second);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, ReplyStatus::rejected);
}

// A grant goes to the node the waiting session spoke from last, sent by the leader alone; a new
// leader that has no route for the session yet holds it until the session's next request.
TEST_F(RawCell, GrantsGoFromTheLeaderToTheSessionsLatestNodeHeldUntilItIsKnown) {
  const std::uint32_t leader = *cell.leader();
  const SessionId s0 = open(0, leader);
  const SessionId s1 = open(1, leader);
  send(0, leader, request(s0.value, 1, Create{kLock, {}, false, false}));
  send(0, leader, request(s0.value, 2, Acquire{kLock, LockMode::exclusive, true}));
  send(1, leader, request(s1.value, 1, Acquire{kLock, LockMode::exclusive, true}));
  EXPECT_EQ(reply_result(inbox[1], s1.value, 1)->code, Code::waiting);

  cell.world().crash(NodeId{leader});
  ASSERT_TRUE(cell.run_until(
      [&] {
        const auto l = cell.leader();
        return l && *l != leader && cell.server(*l).begun_term() != 0;
      },
      seconds(3)));
  const std::uint32_t next = *cell.leader();
  EXPECT_FALSE(cell.server(next).route(s1).has_value());
  send(0, next, request(s0.value, 3, Release{kLock}));
  EXPECT_EQ(reply_result(inbox[0], s0.value, 3)->code, Code::ok);
  EXPECT_TRUE(notes(inbox[1]).empty());
  EXPECT_EQ(cell.server(next).stats().notifications_held, 1U);

  // The waiter's session speaks again, from raw client 0's node this time: that is its route now.
  send(0, next, request(s1.value, 2, KeepAlive{}));
  const auto delivered = notes(inbox[0]);
  ASSERT_EQ(delivered.size(), 1U);
  EXPECT_EQ(delivered[0].first, NodeId{next});
  EXPECT_EQ(delivered[0].second.target, s1);
  const auto* grant = std::get_if<Completion>(&delivered[0].second.body);
  ASSERT_NE(grant, nullptr);
  EXPECT_EQ(grant->request, 1U);
  EXPECT_EQ(grant->result.code, Code::ok);
  EXPECT_TRUE(notes(inbox[1]).empty());
}

}  // namespace
}  // namespace lock_server_test
}  // namespace lockstep::service::lock::testing
