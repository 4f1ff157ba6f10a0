#include "sim/world.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include <fmt/format.h>

#include "support/actors.h"

namespace lockstep::sim {
namespace world_test {
namespace {

using testing::PingActor;
using testing::Recorder;
using testing::recorder;

WorldConfig uniform_latency(std::uint64_t seed) {
  WorldConfig config;
  config.seed = seed;
  config.network.latency.kind = LatencyDistribution::Kind::uniform;
  config.network.latency.min = microseconds(100);
  config.network.latency.max = milliseconds(3);
  return config;
}

std::uint64_t ping_hash(WorldConfig config, std::uint32_t nodes, Nanos until) {
  World world(config);
  for (std::uint32_t i = 0; i < nodes; ++i) {
    world.add_node(fmt::format("n{}", i), [nodes](NodeId) {
      return std::make_unique<PingActor>(nodes, milliseconds(10));
    });
  }
  world.run_until(until);
  return world.trace().hash();
}

TEST(World, SameSeedSameTraceHash) {
  EXPECT_EQ(ping_hash(uniform_latency(7), 5, seconds(1)), ping_hash(uniform_latency(7), 5, seconds(1)));
}

TEST(World, DifferentSeedDifferentTraceHash) {
  EXPECT_NE(ping_hash(uniform_latency(7), 5, seconds(1)), ping_hash(uniform_latency(8), 5, seconds(1)));
}

TEST(World, RunUntilStopsAtDeadlineAndLeavesLaterEvents) {
  World world(WorldConfig{});
  std::vector<Nanos> ran;
  world.at(milliseconds(5), [&] { ran.push_back(world.now()); });
  world.at(milliseconds(15), [&] { ran.push_back(world.now()); });
  EXPECT_EQ(world.run_until(milliseconds(10)), StopReason::time_reached);
  EXPECT_EQ(ran, std::vector<Nanos>{milliseconds(5)});
  EXPECT_EQ(world.now(), milliseconds(10));
  EXPECT_EQ(world.run_until_quiescent(), StopReason::quiescent);
  EXPECT_EQ(ran, (std::vector<Nanos>{milliseconds(5), milliseconds(15)}));
}

TEST(World, EventLimitStopsTheRun) {
  World world(WorldConfig{});
  world.add_node("a", [](NodeId) { return std::make_unique<PingActor>(2, milliseconds(1)); });
  world.add_node("b", [](NodeId) { return std::make_unique<PingActor>(2, milliseconds(1)); });
  world.set_event_limit(100);
  EXPECT_EQ(world.run_until(seconds(10)), StopReason::event_limit);
  EXPECT_EQ(world.stats().events, 100u);
}

RC_GTEST_PROP(World, EventsRunInTimeOrderAndTiesInScheduleOrder, ()) {
  const auto times = *rc::gen::container<std::vector<std::int64_t>>(rc::gen::inRange<std::int64_t>(0, 50));
  World world(WorldConfig{});
  std::vector<std::pair<Nanos, std::size_t>> ran;
  for (std::size_t i = 0; i < times.size(); ++i) {
    world.at(Nanos{times[i]}, [&ran, &world, i] {
      ran.emplace_back(world.now(), i);
      // Events scheduled from inside an event at the same instant run after it.
      if (i % 3 == 0) world.at(world.now(), [&ran, &world, i] { ran.emplace_back(world.now(), 1000 + i); });
    });
  }
  world.run_until_quiescent();
  for (std::size_t k = 1; k < ran.size(); ++k) RC_ASSERT(ran[k - 1].first <= ran[k].first);
  // Among the top-level events, equal times keep their scheduling order.
  std::vector<std::pair<Nanos, std::size_t>> top;
  for (auto& r : ran) if (r.second < 1000) top.push_back(r);
  RC_ASSERT(std::is_sorted(top.begin(), top.end()));
  RC_ASSERT(top.size() == times.size());
}

TEST(World, CrashDestroysVolatileStateAndRestartStartsFresh) {
  World world(WorldConfig{});
  int starts = 0;
  int* starts_p = &starts;
  world.add_node("a", [starts_p](NodeId) {
    ++*starts_p;
    return std::make_unique<PingActor>(2, milliseconds(10));
  });
  world.add_node("b", [](NodeId) { return std::make_unique<PingActor>(2, milliseconds(10)); });
  world.run_until(milliseconds(105));
  auto* before = dynamic_cast<PingActor*>(world.process(NodeId{0}));
  ASSERT_NE(before, nullptr);
  EXPECT_GT(before->pings, 5u);
  world.crash(NodeId{0});
  EXPECT_EQ(world.process(NodeId{0}), nullptr);
  EXPECT_FALSE(world.is_up(NodeId{0}));
  world.run_until(milliseconds(200));  // b keeps pinging a crashed node: dropped
  world.restart(NodeId{0});
  auto* after = dynamic_cast<PingActor*>(world.process(NodeId{0}));
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->pings, 0u);
  EXPECT_EQ(starts, 2);
  EXPECT_EQ(world.incarnation(NodeId{0}), 2u);
  world.run_until(milliseconds(300));
  EXPECT_GT(after->pings, 5u);
}

TEST(World, CrashedNodeTimersNeverFire) {
  World world(WorldConfig{});
  std::vector<Recorder::Seen> log;
  world.add_node("a", recorder(&log, [](Recorder& r) {
    r.on_start_fn = [](Env& env) { env.set_timer(milliseconds(10)); };
  }));
  world.run_until(milliseconds(5));
  world.crash(NodeId{0});
  world.run_until(milliseconds(50));
  EXPECT_TRUE(log.empty());
}

TEST(World, PausedNodeSeesNothingUntilResumeThenEverythingInOrder) {
  World world(WorldConfig{});  // constant 500us latency
  std::vector<Recorder::Seen> log;
  world.add_node("a", recorder(&log));
  world.add_node("b", recorder(nullptr, [](Recorder& r) {
    r.on_start_fn = [](Env& env) {
      for (int i = 0; i < 3; ++i) env.send(NodeId{0}, to_bytes(fmt::format("m{}", i)));
    };
  }));
  world.run_until(Nanos::zero());  // both nodes start; b sends
  world.pause(NodeId{0});
  world.run_until(milliseconds(100));
  EXPECT_TRUE(log.empty());
  world.resume(NodeId{0});
  world.run_until(milliseconds(101));
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].payload, "m0");
  EXPECT_EQ(log[2].payload, "m2");
  // The node's clock froze at 0 and resumed from there: it has seen no time pass.
  EXPECT_EQ(log[0].local_time, Nanos::zero());
}

TEST(World, PauseDelaysTimersByThePauseLength) {
  World world(WorldConfig{});
  std::vector<Recorder::Seen> log;
  std::vector<Nanos> fired_true;
  World* w = &world;
  world.add_node("a", recorder(&log, [w, &fired_true](Recorder& r) {
    r.on_start_fn = [](Env& env) { env.set_timer(milliseconds(100)); };
    r.on_timer_fn = [w, &fired_true](Env&, TimerId) { fired_true.push_back(w->now()); };
  }));
  world.run_until(milliseconds(40));
  world.pause(NodeId{0});
  world.run_until(milliseconds(140));  // the timer would have fired at 100ms
  EXPECT_TRUE(fired_true.empty());
  world.resume(NodeId{0});
  world.run_until(seconds(1));
  EXPECT_EQ(fired_true, std::vector<Nanos>{milliseconds(200)});
  EXPECT_EQ(log.at(0).local_time, milliseconds(100));  // 100ms of the node's own time passed
}

TEST(World, DriftStretchesTimersInTrueTime) {
  World world(WorldConfig{});
  std::vector<Nanos> fired_true;
  World* w = &world;
  world.add_node("fast", recorder(nullptr, [w, &fired_true](Recorder& r) {
    r.on_start_fn = [](Env& env) { env.set_timer(milliseconds(110)); };
    r.on_timer_fn = [w, &fired_true](Env&, TimerId) { fired_true.push_back(w->now()); };
  }));
  world.set_clock_drift(NodeId{0}, 100'000.0);  // +10%: 110ms local pass in 100ms true
  world.run_until(seconds(1));
  EXPECT_EQ(fired_true, std::vector<Nanos>{milliseconds(100)});
}

TEST(World, ClockJumpMovesWallClockButNotTimers) {
  World world(WorldConfig{});
  std::vector<Recorder::Seen> log;
  world.add_node("a", recorder(&log, [](Recorder& r) {
    r.on_start_fn = [](Env& env) { env.set_timer(milliseconds(100)); };
  }));
  world.run_until(milliseconds(10));
  world.clock_jump(NodeId{0}, seconds(-5));
  world.run_until(seconds(1));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].local_time, milliseconds(100) - seconds(5));
}

TEST(World, CancelledTimerDoesNotFire) {
  World world(WorldConfig{});
  std::vector<Recorder::Seen> log;
  world.add_node("a", recorder(&log, [](Recorder& r) {
    r.on_start_fn = [](Env& env) {
      const TimerId t = env.set_timer(milliseconds(10));
      env.set_timer(milliseconds(20));
      env.cancel_timer(t);
    };
  }));
  world.run_until(seconds(1));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].local_time, milliseconds(20));
}

TEST(World, NodeRandomStreamDoesNotDependOnOtherNodes) {
  auto first_draw_of_node1 = [](std::uint32_t extra_nodes) {
    World world(WorldConfig{.seed = 42});
    std::uint64_t draw = 0;
    world.add_node("a", recorder(nullptr));
    world.add_node("b", recorder(nullptr, [&draw](Recorder& r) {
      r.on_start_fn = [&draw](Env& env) { draw = env.random(); };
    }));
    for (std::uint32_t i = 0; i < extra_nodes; ++i) world.add_node("x", recorder(nullptr));
    world.run_until(milliseconds(1));
    return draw;
  };
  EXPECT_EQ(first_draw_of_node1(0), first_draw_of_node1(5));
}

// Servers 0-2 chatter over a random-latency network with loss, duplication and reordering;
// clients (nodes 3..) chatter with server 0 on their own links. Whatever the seed and however
// many clients, what the servers see of each other must not change.
RC_GTEST_PROP(World, AddingClientsDoesNotChangeWhatServersSeeOfTheNetwork, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const auto clients = *rc::gen::inRange<std::uint32_t>(1, 6);
  auto server_deliveries = [seed](std::uint32_t client_count) {
    WorldConfig config = uniform_latency(seed);
    config.network.loss = 0.1;
    config.network.duplicate = 0.1;
    config.network.reorder = 0.2;
    World world(config);
    std::vector<Recorder::Seen> log;
    auto chatter = [](std::uint32_t to) {
      return [to](Recorder& r) {
        r.on_start_fn = [](Env& env) { env.set_timer(milliseconds(1)); };
        r.on_timer_fn = [to](Env& env, TimerId) {
          env.send(NodeId{to}, to_bytes("x"));
          env.set_timer(milliseconds(1));
        };
      };
    };
    for (std::uint32_t i = 0; i < 3; ++i) {
      world.add_node("s", recorder(i == 1 ? &log : nullptr, chatter((i + 1) % 3)));
    }
    for (std::uint32_t c = 0; c < client_count; ++c) world.add_node("client", recorder(nullptr, chatter(0)));
    world.run_until(milliseconds(20) + microseconds(500));
    std::vector<std::pair<Nanos, std::uint32_t>> seen;
    for (auto& s : log) seen.emplace_back(s.local_time, s.from.value);
    return seen;
  };
  const auto without = server_deliveries(0);
  RC_ASSERT(!without.empty());
  RC_ASSERT(without == server_deliveries(clients));
}

TEST(World, PartitionAndHealThroughTheWorld) {
  World world(WorldConfig{});
  std::vector<Recorder::Seen> log;
  world.add_node("a", recorder(&log));
  world.add_node("b", recorder(nullptr, [](Recorder& r) {
    r.on_timer_fn = [](Env& env, TimerId) {
      env.send(NodeId{0}, to_bytes("tick"));
      env.set_timer(milliseconds(10));
    };
    r.on_start_fn = [](Env& env) { env.set_timer(milliseconds(10)); };
  }));
  world.run_until(milliseconds(55));
  const auto before = log.size();
  EXPECT_EQ(before, 5u);
  world.network().isolate(NodeId{0});
  world.run_until(milliseconds(105));
  EXPECT_EQ(log.size(), before);
  world.network().heal();
  world.run_until(milliseconds(155));
  EXPECT_EQ(log.size(), before + 5);
}

}  // namespace
}  // namespace world_test
}  // namespace lockstep::sim
