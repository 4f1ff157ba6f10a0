// The world and syncs that take time (sim/world.h): messages a node sends while its syncs are in
// flight leave when they complete, or never if it crashes first; crashes inside a sync window
// lose what the node believed it had synced, and the world counts it.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/record_log.h"
#include "sim/world.h"
#include "support/actors.h"

namespace lockstep::sim {
namespace world_sync_test {
namespace {

using testing::DurableCounter;
using testing::Recorder;
using testing::recorder;

// Disk syncs take exactly 2ms, messages exactly 500us.
WorldConfig slow_disk(std::uint64_t seed = 1) {
  WorldConfig config;
  config.seed = seed;
  config.disk.sync_latency =
      LatencyDistribution{.kind = LatencyDistribution::Kind::constant, .value = milliseconds(2)};
  return config;
}

// Node 0 writes and syncs a record, then sends `message` to node 1, all at start.
ProcessFactory write_sync_send(std::string message) {
  return recorder(nullptr, [message](Recorder& r) {
    r.on_start_fn = [message](Env& env) {
      append_record(env.disk(), "log", to_bytes(message));
      env.disk().sync("log");
      env.send(NodeId{1}, to_bytes(message));
    };
  });
}

std::vector<std::string> trace_lines(const std::string& jsonl, std::string_view needle) {
  std::vector<std::string> found;
  std::istringstream in(jsonl);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) found.push_back(line);
  }
  return found;
}

TEST(WorldSync, MessageSentDuringASyncLeavesWhenTheSyncCompletes) {
  World world(slow_disk());
  std::vector<Recorder::Seen> got;
  world.add_node("writer", write_sync_send("after sync"));
  world.add_node("peer", recorder(&got));
  world.run_until(milliseconds(10));
  ASSERT_EQ(got.size(), 1u);
  // 2ms for the sync, then 500us on the wire.
  EXPECT_EQ(got[0].local_time, milliseconds(2) + microseconds(500));
  EXPECT_EQ(world.stats().messages_held, 1u);
}

TEST(WorldSync, MessageSentWithNoSyncInFlightLeavesAtOnce) {
  World world(slow_disk());
  std::vector<Recorder::Seen> got;
  world.add_node("writer", recorder(nullptr, [](Recorder& r) {
    r.on_start_fn = [](Env& env) {
      append_record(env.disk(), "log", to_bytes("x"));
      env.disk().sync("log");
      env.set_timer(milliseconds(5));
    };
    r.on_timer_fn = [](Env& env, TimerId) { env.send(NodeId{1}, to_bytes("later")); };
  }));
  world.add_node("peer", recorder(&got));
  world.run_until(milliseconds(10));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].local_time, milliseconds(5) + microseconds(500));
  EXPECT_EQ(world.stats().messages_held, 0u);
}

TEST(WorldSync, TimersAreNotDelayedBySyncsInFlight) {
  World world(slow_disk());
  std::vector<Recorder::Seen> log;
  world.add_node("writer", recorder(&log, [](Recorder& r) {
    r.on_start_fn = [](Env& env) {
      append_record(env.disk(), "log", to_bytes("x"));
      env.disk().sync("log");  // in flight until 2ms
      env.set_timer(milliseconds(1));
    };
  }));
  world.run_until(milliseconds(10));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].local_time, milliseconds(1));
}

TEST(WorldSync, HeldMessagesDieWithACrashBeforeTheSyncCompletes) {
  World world(slow_disk());
  std::ostringstream trace;
  world.trace().set_sink(&trace);
  std::vector<Recorder::Seen> got;
  world.add_node("writer", write_sync_send("never leaves"));
  world.add_node("peer", recorder(&got));
  world.at(milliseconds(1), [&] { world.crash(NodeId{0}); });
  world.run_until(milliseconds(10));
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(world.stats().messages_lost_in_crash, 1u);
  EXPECT_EQ(world.network().stats().total.sent, 0u);  // it never reached the network
  const auto drops = trace_lines(trace.str(), R"("kind":"drop")");
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_NE(drops[0].find(R"("reason":"sender_crashed")"), std::string::npos) << drops[0];
}

TEST(WorldSync, HeldMessagesLeaveWhenTheCrashComesAtTheCompletion) {
  World world(slow_disk());
  std::vector<Recorder::Seen> got;
  world.add_node("writer", write_sync_send("made it"));
  world.add_node("peer", recorder(&got));
  world.at(milliseconds(2), [&] { world.crash(NodeId{0}); });
  world.run_until(milliseconds(10));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "made it");
  EXPECT_EQ(world.stats().messages_lost_in_crash, 0u);
  EXPECT_EQ(world.stats().crashes_cutting_syncs, 0u);
}

// Node 0's timer fires at 2ms, the instant its sync completes: the message it sends then must
// not overtake the one held since 0ms on the same FIFO link.
TEST(WorldSync, LaterMessagesWaitBehindHeldOnes) {
  World world(slow_disk());
  std::vector<Recorder::Seen> got;
  world.add_node("writer", recorder(nullptr, [](Recorder& r) {
    r.on_start_fn = [](Env& env) {
      env.set_timer(milliseconds(2));  // queued before the held message's departure
      append_record(env.disk(), "log", to_bytes("x"));
      env.disk().sync("log");
      env.send(NodeId{1}, to_bytes("first"));
    };
    r.on_timer_fn = [](Env& env, TimerId) { env.send(NodeId{1}, to_bytes("second")); };
  }));
  world.add_node("peer", recorder(&got));
  world.run_until(milliseconds(10));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].payload, "first");
  EXPECT_EQ(got[1].payload, "second");
}

// A counter appends and syncs a value every millisecond; each sync takes 2ms, so the disk falls
// behind: the sync of value k, issued at k ms, completes at (2k + 1) ms. A crash loses the values
// whose syncs had not completed, and the world says so.
TEST(WorldSync, CrashInsideASyncWindowLosesTheTailAndIsCounted) {
  World world(slow_disk());
  std::ostringstream trace;
  world.trace().set_sink(&trace);
  std::uint64_t recovered = 0;
  world.add_node("counter", [&recovered](NodeId) {
    return std::make_unique<DurableCounter>(1, &recovered);
  });
  world.run_until(milliseconds(10) + microseconds(500));
  auto* before = dynamic_cast<DurableCounter*>(world.process(NodeId{0}));
  ASSERT_NE(before, nullptr);
  const std::uint64_t written = before->value;
  world.crash(NodeId{0});
  world.restart(NodeId{0});
  // At 10.5ms the syncs of values 1..4 have completed (the fourth at 9ms); 5..10 are lost.
  EXPECT_EQ(written, 10u);
  EXPECT_EQ(recovered, 4u);
  EXPECT_EQ(world.stats().crashes_cutting_syncs, 1u);
  EXPECT_EQ(world.stats().crashes_losing_unsynced, 1u);
  EXPECT_GT(world.stats().unsynced_bytes_lost, 0u);
  EXPECT_EQ(world.last_crash_loss(NodeId{0}).syncs_cut, 6u);
  const auto losses = trace_lines(trace.str(), R"("kind":"disk_loss")");
  ASSERT_EQ(losses.size(), 1u);
  EXPECT_NE(losses[0].find(R"("syncs_cut":6)"), std::string::npos) << losses[0];
}

TEST(WorldSync, CrashWithEverySyncCompleteLosesNothing) {
  World world(slow_disk());
  std::uint64_t recovered = 0;
  world.add_node("counter", [&recovered](NodeId) {
    return std::make_unique<DurableCounter>(1, &recovered);
  });
  world.run_until(milliseconds(10) + microseconds(500));
  const std::uint64_t written = dynamic_cast<DurableCounter*>(world.process(NodeId{0}))->value;
  world.pause(NodeId{0});  // no new writes: let the syncs in flight complete
  world.run_until(milliseconds(25));  // the last sync, of value 10, completes at 21ms
  world.crash(NodeId{0});
  world.restart(NodeId{0});
  EXPECT_EQ(recovered, written);
  EXPECT_EQ(world.last_crash_loss(NodeId{0}).syncs_cut, 0u);
  EXPECT_EQ(world.stats().crashes_cutting_syncs, 0u);
  EXPECT_EQ(world.stats().crashes_losing_unsynced, 0u);
}

TEST(WorldSync, SyncLatencyStreamOfANodeDoesNotDependOnOtherNodes) {
  auto done_at_of_node1 = [](std::uint32_t extra_nodes) {
    World world(WorldConfig{.seed = 42});  // the default, random, sync latency
    Nanos done_at;
    world.add_node("a", recorder(nullptr));
    world.add_node("b", recorder(nullptr, [&done_at](Recorder& r) {
      r.on_start_fn = [&done_at](Env& env) {
        env.disk().sync("log");
        done_at = static_cast<SimDisk&>(env.disk()).sync_done_at();
      };
    }));
    for (std::uint32_t i = 0; i < extra_nodes; ++i) world.add_node("x", recorder(nullptr));
    world.run_until(milliseconds(1));
    return done_at;
  };
  EXPECT_GT(done_at_of_node1(0), Nanos::zero());
  EXPECT_EQ(done_at_of_node1(0), done_at_of_node1(5));
}

// Writers that sync and ping each other on random latencies, crashed and restarted inside their
// sync windows: the same seed gives the same trace, another seed another one.
std::uint64_t syncing_hash(std::uint64_t seed) {
  WorldConfig config;
  config.seed = seed;
  config.disk.torn_writes = true;
  config.disk.torn_corruption = 0.5;
  config.network.latency = LatencyDistribution{.kind = LatencyDistribution::Kind::uniform,
                                               .min = microseconds(100), .max = milliseconds(2)};
  World world(config);
  for (std::uint32_t i = 0; i < 3; ++i) {
    world.add_node(fmt::format("n{}", i), recorder(nullptr, [i](Recorder& r) {
      r.on_start_fn = [](Env& env) {
        (void)recover_records(env.disk(), "log");
        env.set_timer(microseconds(300));
      };
      r.on_timer_fn = [i](Env& env, TimerId) {
        append_record(env.disk(), "log", to_bytes(fmt::format("from n{}", i)));
        env.disk().sync("log");
        env.send(NodeId{(i + 1) % 3}, to_bytes("ping"));
        env.set_timer(microseconds(300));
      };
    }));
  }
  for (int k = 1; k <= 6; ++k) {
    const NodeId victim{static_cast<std::uint32_t>(k % 3)};
    world.at(milliseconds(10) * k, [&world, victim] { world.crash(victim); });
    world.at(milliseconds(10) * k + milliseconds(3), [&world, victim] { world.restart(victim); });
  }
  world.run_until(milliseconds(80));
  EXPECT_GT(world.stats().crashes_cutting_syncs, 0u);
  EXPECT_GT(world.stats().messages_lost_in_crash, 0u);
  return world.trace().hash();
}

TEST(WorldSync, SameSeedSameTraceHash) {
  EXPECT_EQ(syncing_hash(3), syncing_hash(3));
  EXPECT_NE(syncing_hash(3), syncing_hash(4));
}

}  // namespace
}  // namespace world_sync_test
}  // namespace lockstep::sim
