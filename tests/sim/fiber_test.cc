#include "sim/fiber.h"

#include <gtest/gtest.h>

#include "sim/world.h"
#include "support/actors.h"

namespace lockstep::sim {
namespace fiber_test {
namespace {

using testing::Recorder;

// An echo server: answers every message with the same bytes, after `delay` of its own time.
std::unique_ptr<Process> echo_server(Nanos delay) {
  auto r = std::make_unique<Recorder>();
  struct Pending {
    NodeId to;
    Bytes payload;
  };
  auto pending = std::make_shared<std::map<std::uint64_t, Pending>>();
  r->on_message_fn = [pending, delay](Env& env, NodeId from, ByteView payload) {
    const TimerId t = env.set_timer(delay);
    (*pending)[t.value] = Pending{from, Bytes(payload.begin(), payload.end())};
  };
  r->on_timer_fn = [pending](Env& env, TimerId t) {
    auto it = pending->find(t.value);
    env.send(it->second.to, it->second.payload);
    pending->erase(it);
  };
  return r;
}

TEST(Fiber, SleepSuspendsForExactlyTheDuration) {
  World world(WorldConfig{});
  std::vector<Nanos> woke;
  world.add_node("client", [&](NodeId) {
    return std::make_unique<FiberHost>(std::vector<FiberBody>{[&](FiberContext& f) {
      f.sleep(milliseconds(30));
      woke.push_back(world.now());
      f.sleep(milliseconds(5));
      woke.push_back(world.now());
    }});
  });
  world.run_until(seconds(1));
  EXPECT_EQ(woke, (std::vector<Nanos>{milliseconds(30), milliseconds(35)}));
}

TEST(Fiber, CallReturnsTheReplyWhenItComesInTime) {
  World world(WorldConfig{});  // 500us each way
  std::optional<std::string> reply;
  Nanos answered_at;
  world.add_node("server", [](NodeId) { return echo_server(milliseconds(2)); });
  world.add_node("client", [&](NodeId) {
    return std::make_unique<FiberHost>(std::vector<FiberBody>{[&](FiberContext& f) {
      if (auto r = f.call(NodeId{0}, to_bytes("hello"), milliseconds(10))) reply = lockstep::to_string(r->payload);
      answered_at = world.now();
    }});
  });
  world.run_until(seconds(1));
  EXPECT_EQ(reply, "hello");
  EXPECT_EQ(answered_at, milliseconds(3));
}

TEST(Fiber, CallTimesOutWhenTheReplyIsLate) {
  World world(WorldConfig{});
  bool timed_out = false;
  Nanos gave_up_at;
  world.add_node("server", [](NodeId) { return echo_server(milliseconds(50)); });
  world.add_node("client", [&](NodeId) {
    return std::make_unique<FiberHost>(std::vector<FiberBody>{[&](FiberContext& f) {
      timed_out = !f.call(NodeId{0}, to_bytes("hello"), milliseconds(10)).has_value();
      gave_up_at = world.now();
      // The late reply is not lost: it waits in the mailbox for the next receive.
      auto late = f.receive(milliseconds(100));
      EXPECT_TRUE(late.has_value());
    }});
  });
  world.run_until(seconds(1));
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(gave_up_at, milliseconds(10));
}

TEST(Fiber, ReceiveFilterLeavesOtherMessagesForOtherFibers) {
  World world(WorldConfig{});
  std::vector<std::string> got_a, got_b;
  world.add_node("sender", [](NodeId) {
    auto r = std::make_unique<Recorder>();
    r->on_start_fn = [](Env& env) {
      for (const char* m : {"b1", "a1", "b2", "a2"}) env.send(NodeId{1}, to_bytes(m));
    };
    return r;
  });
  auto starts_with = [](char c) {
    return [c](NodeId, ByteView p) { return !p.empty() && static_cast<char>(p[0]) == c; };
  };
  world.add_node("client", [&](NodeId) {
    return std::make_unique<FiberHost>(std::vector<FiberBody>{
        [&](FiberContext& f) {
          for (int i = 0; i < 2; ++i) got_a.push_back(lockstep::to_string(f.receive(seconds(1), starts_with('a'))->payload));
        },
        [&](FiberContext& f) {
          for (int i = 0; i < 2; ++i) got_b.push_back(lockstep::to_string(f.receive(seconds(1), starts_with('b'))->payload));
        }});
  });
  world.run_until(seconds(2));
  EXPECT_EQ(got_a, (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(got_b, (std::vector<std::string>{"b1", "b2"}));
}

TEST(Fiber, DiscardDropsOnlyTheMessagesItPicksFromTheMailbox) {
  World world(WorldConfig{});
  std::vector<std::string> got;
  world.add_node("sender", [](NodeId) {
    auto r = std::make_unique<Recorder>();
    r->on_start_fn = [](Env& env) {
      for (const char* m : {"stale1", "keep1", "stale2", "keep2"}) env.send(NodeId{1}, to_bytes(m));
    };
    return r;
  });
  world.add_node("client", [&](NodeId) {
    return std::make_unique<FiberHost>(std::vector<FiberBody>{[&](FiberContext& f) {
      f.sleep(milliseconds(10));  // all four wait in the mailbox by now
      f.discard([](NodeId, ByteView p) { return lockstep::to_string(p).starts_with("stale"); });
      // What is left comes out in arrival order; nothing else arrives.
      while (auto r = f.receive(milliseconds(10))) got.push_back(lockstep::to_string(r->payload));
    }});
  });
  world.run_until(seconds(1));
  EXPECT_EQ(got, (std::vector<std::string>{"keep1", "keep2"}));
}

TEST(Fiber, PausedNodeFibersDoNotRun) {
  World world(WorldConfig{});
  std::vector<Nanos> woke;
  world.add_node("client", [&](NodeId) {
    return std::make_unique<FiberHost>(std::vector<FiberBody>{[&](FiberContext& f) {
      f.sleep(milliseconds(30));
      woke.push_back(world.now());
    }});
  });
  world.run_until(milliseconds(10));
  world.pause(NodeId{0});
  world.run_until(milliseconds(100));
  EXPECT_TRUE(woke.empty());
  world.resume(NodeId{0});
  world.run_until(seconds(1));
  EXPECT_EQ(woke, std::vector<Nanos>{milliseconds(120)});
}

TEST(Fiber, CrashUnwindsSuspendedFibers) {
  World world(WorldConfig{});
  auto guard_destroyed = std::make_shared<int>(0);
  bool resumed_after_crash = false;
  world.add_node("client", [&](NodeId) {
    return std::make_unique<FiberHost>(std::vector<FiberBody>{[&, guard_destroyed](FiberContext& f) {
      struct Guard {
        std::shared_ptr<int> count;
        ~Guard() { ++*count; }
      } guard{guard_destroyed};
      f.sleep(milliseconds(30));
      resumed_after_crash = true;
    }});
  });
  world.run_until(milliseconds(10));
  world.crash(NodeId{0});
  EXPECT_EQ(*guard_destroyed, 1);  // the fiber's stack was unwound
  world.run_until(seconds(1));
  EXPECT_FALSE(resumed_after_crash);
}

TEST(Fiber, SpawnedFiberRunsBeside) {
  World world(WorldConfig{});
  std::vector<std::string> order;
  world.add_node("client", [&](NodeId) {
    return std::make_unique<FiberHost>(std::vector<FiberBody>{[&](FiberContext& f) {
      f.spawn([&](FiberContext& g) {
        order.push_back("child start");
        g.sleep(milliseconds(5));
        order.push_back("child end");
      });
      order.push_back("parent");
      f.sleep(milliseconds(10));
      order.push_back("parent end");
    }});
  });
  world.run_until(seconds(1));
  EXPECT_EQ(order, (std::vector<std::string>{"child start", "parent", "child end", "parent end"}));
}

}  // namespace
}  // namespace fiber_test
}  // namespace lockstep::sim
