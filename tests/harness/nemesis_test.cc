#include "harness/nemesis.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/fault_actors.h"

namespace lockstep::harness {
namespace nemesis_test {
namespace {

using testing::Beacon;

// Five beaconing servers and a client; the "leader" is the lowest-numbered server that is up and
// not paused, so leader-aimed faults have a target that moves.
struct SimRun {
  std::uint32_t servers;
  std::vector<std::uint64_t> received;
  sim::World world;
  FaultInjector injector;

  SimRun(std::uint32_t server_count, std::uint64_t seed, double drift_ppm_max = 0.0)
      : servers(server_count),
        received(static_cast<std::size_t>(servers + 1) * (servers + 1), 0),
        world(config(seed, drift_ppm_max)),
        injector(
            add_nodes(), servers, [this] { return leader(); }, world.derive_rng(kFaultStream)) {
    world.run_until(Nanos::zero());  // start the nodes
  }

  static sim::WorldConfig config(std::uint64_t seed, double drift_ppm_max) {
    sim::WorldConfig c;
    c.seed = seed;
    c.clocks.drift_ppm_max = drift_ppm_max;
    return c;
  }
  sim::World& add_nodes() {
    for (std::uint32_t i = 0; i <= servers; ++i) {
      world.add_node(fmt::format("n{}", i), [this](NodeId) {
        return std::make_unique<Beacon>(servers + 1, milliseconds(20), &received);
      });
    }
    return world;
  }
  std::optional<NodeId> leader() const {
    for (std::uint32_t i = 0; i < servers; ++i) {
      if (world.is_up(NodeId{i}) && !world.is_paused(NodeId{i})) return NodeId{i};
    }
    return std::nullopt;
  }
  std::vector<std::pair<Nanos, std::string>> log() const {
    std::vector<std::pair<Nanos, std::string>> out;
    for (const AppliedFault& f : injector.log()) out.emplace_back(f.at, f.description);
    return out;
  }
};

Nemesis busy_nemesis() {
  Nemesis n;
  n.enabled = true;
  n.interval = milliseconds(200);
  n.fault_duration_min = milliseconds(100);
  n.fault_duration_max = seconds(2);
  n.kinds = {NemesisKind::partition,   NemesisKind::crash,       NemesisKind::pause,
             NemesisKind::clock_jump,  NemesisKind::clock_drift, NemesisKind::clog,
             NemesisKind::corrupt_disk};
  return n;
}

std::vector<std::pair<Nanos, std::string>> live_log(const Nemesis& settings, std::uint64_t seed,
                                                    Nanos end) {
  SimRun run(5, seed);
  NemesisDriver driver(settings, run.injector, run.world.derive_rng(kNemesisStream), end);
  driver.start();
  run.world.run_until(end);
  return run.log();
}

TEST(Nemesis, SameSeedSameAppliedFaults) {
  const Nemesis settings = busy_nemesis();
  const auto first = live_log(settings, 11, seconds(20));
  EXPECT_GT(first.size(), 100u);
  EXPECT_EQ(first, live_log(settings, 11, seconds(20)));
  EXPECT_NE(first, live_log(settings, 12, seconds(20)));
}

TEST(Nemesis, NeverMoreThanMaxDownServersCrashedOrPaused) {
  for (std::optional<std::uint32_t> max_down :
       {std::optional<std::uint32_t>{}, std::optional<std::uint32_t>{1},
        std::optional<std::uint32_t>{3}}) {
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
      Nemesis settings = busy_nemesis();
      settings.kinds = {NemesisKind::crash, NemesisKind::pause, NemesisKind::partition};
      settings.interval = milliseconds(50);
      settings.max_down = max_down;
      SimRun run(5, seed);
      NemesisDriver driver(settings, run.injector, run.world.derive_rng(kNemesisStream),
                           seconds(20));
      const std::uint32_t limit = max_down.value_or(2);
      std::uint32_t most = 0;
      run.world.set_step_observer([&](std::optional<NodeId>) {
        const std::uint32_t down = run.injector.servers_down();
        most = std::max(most, down);
        ASSERT_LE(down, limit) << "seed " << seed << " at " << run.world.now();
      });
      driver.start();
      run.world.run_until(seconds(20));
      EXPECT_EQ(most, limit) << "seed " << seed;  // the limit is reached, not just respected
      EXPECT_EQ(driver.skipped(), 0u);            // the plan alone keeps to it
    }
  }
}

TEST(Nemesis, EveryFaultIsUndoneAtStop) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    Nemesis settings = busy_nemesis();
    settings.start = seconds(1);
    settings.stop = seconds(8);
    SimRun run(5, seed, 200.0);
    std::vector<double> drift;
    for (std::uint32_t i = 0; i < 5; ++i) drift.push_back(run.world.clock(NodeId{i}).drift_ppm());
    NemesisDriver driver(settings, run.injector, run.world.derive_rng(kNemesisStream), seconds(10));
    driver.start();
    run.world.run_until(seconds(1));
    EXPECT_TRUE(run.injector.log().empty());  // nothing before start
    run.world.run_until(seconds(8));
    for (std::uint32_t a = 0; a < 6; ++a) {
      EXPECT_TRUE(run.world.is_up(NodeId{a}));
      EXPECT_FALSE(run.world.is_paused(NodeId{a}));
      if (a < 5) {
        EXPECT_EQ(run.world.clock(NodeId{a}).drift_ppm(), drift[a]);
      }
      for (std::uint32_t b = 0; b < 6; ++b) {
        EXPECT_TRUE(run.world.network().connected(NodeId{a}, NodeId{b}));
        EXPECT_FALSE(run.world.network().clogged(run.world.now(), NodeId{a}, NodeId{b}));
      }
    }
    const std::size_t faults = run.injector.log().size();
    EXPECT_GT(faults, 20u);
    run.world.run_until(seconds(10));
    EXPECT_EQ(run.injector.log().size(), faults);  // nothing after stop
  }
}

TEST(Nemesis, PlanIsWhatTheLiveRunApplies) {
  const Nemesis settings = busy_nemesis();
  const Nanos end = seconds(10);
  auto live = live_log(settings, 3, end);

  SimRun replay(5, 3);
  const NemesisPlan plan = plan_nemesis(settings, 5, replay.world.derive_rng(kNemesisStream), end,
                                        replay.injector.baseline_drift_ppm());
  ASSERT_TRUE(plan.complete);
  EXPECT_TRUE(std::is_sorted(plan.faults.begin(), plan.faults.end(),
                             [](const Fault& a, const Fault& b) { return a.at < b.at; }));
  replay.injector.schedule(plan.faults);
  replay.world.run_until(end);
  auto replayed = replay.log();
  // The live run prefixes its faults with "nemesis: "; otherwise the injector, which schedules
  // the plan one fault at a time as the driver does, applies the same faults in the same order,
  // undo events due at the very same nanosecond included.
  for (auto& [at, text] : live) {
    if (text.rfind("nemesis: ", 0) == 0) text.erase(0, 9);
  }
  EXPECT_EQ(live, replayed);
}

TEST(Nemesis, PlanIsCutAtTheFaultLimit) {
  const NemesisPlan plan = plan_nemesis(busy_nemesis(), 5, Rng(1), seconds(60), {}, 10);
  EXPECT_EQ(plan.faults.size(), 10u);
  EXPECT_FALSE(plan.complete);
}

TEST(Nemesis, DisabledOrEmptyWindowPlansNothing) {
  Nemesis off = busy_nemesis();
  off.enabled = false;
  EXPECT_TRUE(plan_nemesis(off, 5, Rng(1), seconds(10)).faults.empty());
  EXPECT_EQ(describe_nemesis(off, 5, seconds(10)), "nemesis: off");
  Nemesis late = busy_nemesis();
  late.start = seconds(10);
  EXPECT_TRUE(plan_nemesis(late, 5, Rng(1), seconds(10)).faults.empty());
}

TEST(Nemesis, OneServerClusterGetsNoPartitionsOrCrashes) {
  const NemesisPlan plan = plan_nemesis(busy_nemesis(), 1, Rng(4), seconds(30));
  EXPECT_FALSE(plan.faults.empty());
  for (const Fault& f : plan.faults) {
    EXPECT_FALSE(std::holds_alternative<Partition>(f.action));
    EXPECT_FALSE(std::holds_alternative<Clog>(f.action));
    EXPECT_FALSE(std::holds_alternative<Crash>(f.action));  // max_down is 0 for one server
  }
}

TEST(Nemesis, GapsAverageTheInterval) {
  Nemesis settings = busy_nemesis();
  settings.kinds = {NemesisKind::clock_jump};  // never refused, never undone: one fault per start
  settings.interval = milliseconds(100);
  const NemesisPlan plan = plan_nemesis(settings, 3, Rng(9), seconds(1000), {}, 100000);
  // 10000 starts expected; the standard deviation of the count is about 100.
  EXPECT_GT(plan.faults.size(), 9500u);
  EXPECT_LT(plan.faults.size(), 10500u);
}

TEST(Nemesis, DescribeStatesTheProfile) {
  Nemesis settings;
  settings.enabled = true;
  settings.kinds = {NemesisKind::partition, NemesisKind::crash, NemesisKind::clock_jump};
  EXPECT_EQ(describe_nemesis(settings, 3, seconds(10)),
            "nemesis: from 0s to 10s, a fault every ~1s (exponential gaps), each undone after "
            "500ms..5s; kinds: partition (isolate the leader or a server, random halves, one-way, "
            "bridge or majorities ring; then heal), crash (the leader or a random server; then "
            "restart), clock_jump (a random server by up to ±1s; not undone); at most 1 of 3 "
            "servers crashed or paused at once");
}

}  // namespace
}  // namespace nemesis_test
}  // namespace lockstep::harness
