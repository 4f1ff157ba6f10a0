#include "harness/faults.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/actors.h"
#include "support/fault_actors.h"

namespace lockstep::harness {
namespace faults_test {
namespace {

using testing::Beacon;

// `servers` beaconing servers plus `clients` beaconing client nodes after them; the leader is
// whatever the test sets.
struct Cluster {
  std::uint32_t servers;
  std::uint32_t nodes;
  std::vector<std::uint64_t> received;
  std::optional<NodeId> leader;
  sim::World world;
  FaultInjector injector;

  explicit Cluster(std::uint32_t server_count, std::uint32_t clients = 0, std::uint64_t seed = 1)
      : servers(server_count),
        nodes(server_count + clients),
        received(static_cast<std::size_t>(nodes) * nodes, 0),
        world(sim::WorldConfig{seed, {}, {}, {}}),
        injector(
            add_nodes(), servers, [this] { return leader; }, world.derive_rng(kFaultStream)) {
    world.run_until(Nanos::zero());  // start the nodes
  }

  sim::World& add_nodes() {
    for (std::uint32_t i = 0; i < nodes; ++i) {
      world.add_node(fmt::format("n{}", i), [this](NodeId) {
        return std::make_unique<Beacon>(nodes, milliseconds(10), &received);
      });
    }
    return world;
  }
  std::uint64_t got(std::uint32_t to, std::uint32_t from) const {
    return received[static_cast<std::size_t>(to) * nodes + from];
  }
  void apply_at(Nanos at, FaultAction action) {
    const Fault fault{at, std::move(action)};
    injector.schedule(std::span<const Fault>(&fault, 1));
  }
  std::vector<std::string> descriptions() const {
    std::vector<std::string> out;
    for (const AppliedFault& f : injector.log()) out.push_back(f.description);
    return out;
  }
  std::uint32_t count(bool (sim::World::*state)(NodeId) const, bool value) const {
    std::uint32_t n = 0;
    for (std::uint32_t i = 0; i < servers; ++i) n += (world.*state)(NodeId{i}) == value ? 1 : 0;
    return n;
  }
};

using Kind = NodeSelector::Kind;

TEST(Faults, CrashStopsTheServerAndForRestartsItOnTime) {
  Cluster c(3);
  c.apply_at(seconds(1), Crash{NodeSelector::of({2}), seconds(2)});
  c.world.run_until(seconds(1));
  EXPECT_FALSE(c.world.is_up(NodeId{2}));
  c.world.run_until(seconds(3) - nanoseconds(1));
  EXPECT_FALSE(c.world.is_up(NodeId{2}));
  c.world.run_until(seconds(3));
  EXPECT_TRUE(c.world.is_up(NodeId{2}));
  EXPECT_EQ(c.world.incarnation(NodeId{2}), 2u);
  EXPECT_EQ(c.descriptions(),
            (std::vector<std::string>{"crash n2 for 2s", "restart n2 (after crash for 2s)"}));
  EXPECT_EQ(c.injector.log()[1].at, seconds(3));
  EXPECT_EQ(c.injector.applied(), 2u);
}

TEST(Faults, CrashForNeverRestartsAServerItDidNotTakeDown) {
  Cluster c(3);
  c.apply_at(seconds(1), Crash{NodeSelector::of({1}), {}});
  c.apply_at(seconds(2), Crash{NodeSelector::of({1}), seconds(1)});  // already down: no restart
  // Restarted by hand and crashed again: the first crash's timer must not end the second crash.
  c.apply_at(seconds(4), Crash{NodeSelector::of({0}), seconds(2)});
  c.apply_at(seconds(5), Restart{NodeSelector::of({0})});
  c.apply_at(seconds(5) + milliseconds(500), Crash{NodeSelector::of({0}), {}});
  c.world.run_until(seconds(8));
  EXPECT_FALSE(c.world.is_up(NodeId{1}));
  EXPECT_FALSE(c.world.is_up(NodeId{0}));
  EXPECT_EQ(c.injector.log()[1].description, "crash n1 for 1s: skipped, already down");
  EXPECT_TRUE(c.injector.log()[1].skipped);
}

TEST(Faults, PauseFreezesTheServerUntilResumeAfter) {
  Cluster c(3);
  c.apply_at(milliseconds(100), Pause{NodeSelector::of({0}), milliseconds(500)});
  c.world.run_until(milliseconds(100));
  const std::uint64_t before = c.got(0, 1);
  EXPECT_TRUE(c.world.is_paused(NodeId{0}));
  c.world.run_until(milliseconds(599));
  EXPECT_TRUE(c.world.is_paused(NodeId{0}));
  EXPECT_EQ(c.got(0, 1), before);  // nothing runs on a frozen node
  c.world.run_until(milliseconds(700));
  EXPECT_FALSE(c.world.is_paused(NodeId{0}));
  EXPECT_GT(c.got(0, 1), before + 40);  // the backlog ran on resume, then the beacons
  EXPECT_EQ(c.descriptions(),
            (std::vector<std::string>{"pause n0 for 500ms", "resume n0 (after pause for 500ms)"}));
}

TEST(Faults, ResumeAllContinuesPausedServers) {
  Cluster c(3);
  c.apply_at(milliseconds(10), Pause{NodeSelector::of({0, 2}), {}});
  c.apply_at(milliseconds(20), Resume{NodeSelector::symbolic(Kind::all)});
  c.world.run_until(milliseconds(15));
  EXPECT_EQ(c.count(&sim::World::is_paused, true), 2u);
  c.world.run_until(milliseconds(20));
  EXPECT_EQ(c.count(&sim::World::is_paused, true), 0u);
  EXPECT_EQ(c.descriptions().back(), "resume {0,2} (all)");
}

TEST(Faults, OneWayPartitionDeliversInTheOtherDirection) {
  Cluster c(3, 1);
  c.apply_at(milliseconds(100),
             Partition{PartitionOneWay{NodeSelector::of({0}), NodeSelector::of({1})}});
  c.world.run_until(milliseconds(105));
  const std::uint64_t to1 = c.got(1, 0);
  const std::uint64_t to0 = c.got(0, 1);
  c.world.run_until(milliseconds(500));
  EXPECT_EQ(c.got(1, 0), to1);
  EXPECT_GT(c.got(0, 1), to0 + 30);
  EXPECT_GT(c.got(2, 0), to1 + 30);  // 0 still reaches 2
  EXPECT_EQ(c.descriptions(), std::vector<std::string>{"partition {0} -> {1} blocked"});
}

TEST(Faults, OneWayFromLeaderToMajorityTakesTheMajorityAmongTheOthers) {
  Cluster c(5);
  c.leader = NodeId{4};
  c.injector.apply(Partition{PartitionOneWay{NodeSelector::symbolic(Kind::leader),
                                             NodeSelector::symbolic(Kind::majority)}});
  std::uint32_t blocked = 0;
  for (std::uint32_t to = 0; to < 4; ++to)
    blocked += c.world.network().connected(NodeId{4}, NodeId{to}) ? 0 : 1;
  EXPECT_EQ(blocked, 3u);
  EXPECT_TRUE(c.world.network().connected(NodeId{0}, NodeId{4}));
  EXPECT_NE(c.descriptions()[0].find("(one_way leader -> majority)"), std::string::npos);
}

TEST(Faults, OneWayFromAllToLeaderLeavesTheLeaderOutOfFrom) {
  Cluster c(3);
  c.leader = NodeId{1};
  c.injector.apply(Partition{PartitionOneWay{NodeSelector::symbolic(Kind::all),
                                             NodeSelector::symbolic(Kind::leader)}});
  const sim::Network& net = c.world.network();
  EXPECT_FALSE(net.connected(NodeId{0}, NodeId{1}));
  EXPECT_FALSE(net.connected(NodeId{2}, NodeId{1}));
  EXPECT_TRUE(net.connected(NodeId{1}, NodeId{0}));
  EXPECT_TRUE(net.connected(NodeId{1}, NodeId{2}));
  EXPECT_TRUE(net.connected(NodeId{0}, NodeId{2}));
  EXPECT_EQ(c.descriptions(),
            std::vector<std::string>{"partition {0,2} -> {1} blocked (one_way all -> leader)"});
}

TEST(Faults, SymmetricPartitionPutsUnlistedServersInOneMoreGroupAndSparesClients) {
  Cluster c(5, 1);
  c.injector.apply(Partition{PartitionSymmetric{{{NodeId{0}, NodeId{1}}}}});
  const sim::Network& net = c.world.network();
  EXPECT_FALSE(net.connected(NodeId{0}, NodeId{2}));
  EXPECT_TRUE(net.connected(NodeId{2}, NodeId{4}));
  EXPECT_TRUE(net.connected(NodeId{0}, NodeId{1}));
  for (std::uint32_t s = 0; s < 5; ++s) {
    EXPECT_TRUE(net.connected(NodeId{5}, NodeId{s}));
    EXPECT_TRUE(net.connected(NodeId{s}, NodeId{5}));
  }
  EXPECT_EQ(c.descriptions(), std::vector<std::string>{"partition {0,1} | {2,3,4}"});
}

TEST(Faults, IsolateCutsTheServerFromServersButNotFromClients) {
  Cluster c(5, 1);
  c.leader = NodeId{2};
  c.injector.apply(Partition{PartitionIsolate{NodeSelector::symbolic(Kind::leader)}});
  const sim::Network& net = c.world.network();
  for (std::uint32_t s = 0; s < 5; ++s) {
    if (s != 2) {
      EXPECT_FALSE(net.connected(NodeId{2}, NodeId{s}));
    }
  }
  EXPECT_TRUE(net.connected(NodeId{5}, NodeId{2}));
  EXPECT_TRUE(net.connected(NodeId{2}, NodeId{5}));
  EXPECT_EQ(c.descriptions(),
            std::vector<std::string>{"partition {2} | {0,1,3,4} (isolate leader)"});
}

TEST(Faults, LinkCutsOnePairOfServersBothWaysAndNothingElse) {
  Cluster c(3, 1);
  c.leader = NodeId{0};
  c.injector.apply(Partition{PartitionLink{NodeSelector::of({1}), NodeSelector::symbolic(Kind::leader)}});
  const sim::Network& net = c.world.network();
  EXPECT_FALSE(net.connected(NodeId{0}, NodeId{1}));
  EXPECT_FALSE(net.connected(NodeId{1}, NodeId{0}));
  for (std::uint32_t s = 0; s < 3; ++s) {
    if (s != 2) {
      EXPECT_TRUE(net.connected(NodeId{2}, NodeId{s}));
      EXPECT_TRUE(net.connected(NodeId{s}, NodeId{2}));
    }
    EXPECT_TRUE(net.connected(NodeId{3}, NodeId{s}));  // the client reaches every server
  }
  EXPECT_EQ(c.descriptions(),
            std::vector<std::string>{"partition link 1 <-> 0 cut (link n1 <-> leader)"});
}

TEST(Faults, LinkWhoseEndsAreOneServerDoesNothing) {
  Cluster c(3);
  c.injector.apply(Partition{PartitionLink{NodeSelector::of({1}), NodeSelector::symbolic(Kind::leader)}});
  EXPECT_EQ(c.descriptions().back(), "partition link n1 <-> leader: skipped, no leader");
  c.leader = NodeId{1};
  c.injector.apply(Partition{PartitionLink{NodeSelector::of({1}), NodeSelector::symbolic(Kind::leader)}});
  EXPECT_EQ(c.descriptions().back(), "partition link n1 <-> leader: skipped, both ends are n1");
  EXPECT_EQ(c.world.network().describe_partition(), "connected");
  EXPECT_EQ(c.injector.applied(), 0u);
}

TEST(Faults, LinkDrawsARandomEndAmongTheOtherServers) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Cluster c(3, 0, seed);
    c.leader = NodeId{2};
    // "random" is written first but drawn after the leader, so it never lands on it.
    c.injector.apply(Partition{PartitionLink{NodeSelector::symbolic(Kind::random),
                                             NodeSelector::symbolic(Kind::leader)}});
    ASSERT_FALSE(c.injector.log().back().skipped) << c.descriptions().back();
    EXPECT_FALSE(c.world.network().connected(NodeId{2}, NodeId{0}) &&
                 c.world.network().connected(NodeId{2}, NodeId{1}))
        << "seed " << seed;
  }
}

TEST(Faults, BridgeAndRingSplitTheServers) {
  Cluster c(5, 1);
  c.injector.apply(Partition{PartitionBridge{NodeSelector::of({2})}});
  EXPECT_NE(c.descriptions().back().find("bridged by 2"), std::string::npos);
  for (std::uint32_t s = 0; s < 5; ++s)
    EXPECT_TRUE(c.world.network().connected(NodeId{2}, NodeId{s}));
  c.injector.apply(Partition{PartitionBridge{}});
  EXPECT_NE(c.descriptions().back().find("bridged by"), std::string::npos);
  c.injector.apply(Partition{PartitionMajoritiesRing{}});
  EXPECT_EQ(c.descriptions().back().rfind("partition majorities ring ", 0), 0u);
  for (std::uint32_t s = 0; s < 5; ++s)
    EXPECT_TRUE(c.world.network().connected(NodeId{5}, NodeId{s}));
  c.injector.apply(Heal{});
  EXPECT_EQ(c.world.network().describe_partition(), "connected");
}

TEST(Faults, MinorityAndMajoritySelectorsHaveTheirSizes) {
  for (std::uint32_t n = 1; n <= 9; ++n) {
    Cluster c(n);
    c.injector.apply(Pause{NodeSelector::symbolic(Kind::minority), {}});
    EXPECT_EQ(c.count(&sim::World::is_paused, true), (n - 1) / 2) << n << " servers";
    c.injector.apply(Resume{NodeSelector::symbolic(Kind::all)});
    c.injector.apply(Crash{NodeSelector::symbolic(Kind::majority), {}});
    EXPECT_EQ(c.count(&sim::World::is_up, false), n / 2 + 1) << n << " servers";
  }
}

TEST(Faults, LeaderSelectorAsksTheProtocolAndDoesNothingWithoutALeader) {
  Cluster c(3);
  c.injector.apply(Crash{NodeSelector::symbolic(Kind::leader), seconds(1)});
  EXPECT_EQ(c.count(&sim::World::is_up, true), 3u);
  EXPECT_EQ(c.injector.applied(), 0u);
  EXPECT_TRUE(c.injector.log()[0].skipped);
  EXPECT_EQ(c.injector.log()[0].description, "crash leader: skipped, no leader");
  c.leader = NodeId{1};
  c.injector.apply(Crash{NodeSelector::symbolic(Kind::leader), {}});
  EXPECT_FALSE(c.world.is_up(NodeId{1}));
  EXPECT_EQ(c.injector.log()[1].description, "crash n1 (leader)");
  EXPECT_EQ(c.injector.applied(), 1u);
}

TEST(Faults, FollowerIsALiveServerOtherThanTheLeader) {
  Cluster c(4);
  c.leader = NodeId{0};
  c.injector.apply(Crash{NodeSelector::of({1, 2}), {}});
  c.injector.apply(Crash{NodeSelector::symbolic(Kind::follower), {}});
  EXPECT_FALSE(c.world.is_up(NodeId{3}));
  EXPECT_EQ(c.descriptions().back(), "crash n3 (follower)");
  c.injector.apply(Crash{NodeSelector::symbolic(Kind::follower), {}});
  EXPECT_EQ(c.descriptions().back(), "crash follower: skipped, no live follower");
  EXPECT_TRUE(c.world.is_up(NodeId{0}));
}

TEST(Faults, ClogHoldsEveryPairForItsDuration) {
  Cluster c(3);
  c.world.run_until(seconds(1));
  c.injector.apply(Clog{NodeSelector::of({0}), NodeSelector::of({1, 2}), milliseconds(500)});
  const sim::Network& net = c.world.network();
  EXPECT_TRUE(net.clogged(seconds(1), NodeId{0}, NodeId{1}));
  EXPECT_TRUE(net.clogged(seconds(1), NodeId{0}, NodeId{2}));
  EXPECT_FALSE(net.clogged(seconds(1), NodeId{1}, NodeId{0}));
  EXPECT_FALSE(net.clogged(seconds(1) + milliseconds(500), NodeId{0}, NodeId{1}));
  EXPECT_EQ(c.descriptions(), std::vector<std::string>{"clog n0 -> {1,2} for 500ms"});
  c.injector.apply(Clog{NodeSelector::of({1}), NodeSelector::of({1}), milliseconds(500)});
  EXPECT_TRUE(c.injector.log().back().skipped);
}

TEST(Faults, ClockJumpAndDriftChangeTheServersClock) {
  Cluster c(3);
  c.world.run_until(seconds(5));
  const Nanos wall = c.world.clock(NodeId{1}).wall(c.world.now());
  c.injector.apply(ClockJump{NodeSelector::of({1}), -seconds(2)});
  EXPECT_EQ(c.world.clock(NodeId{1}).wall(c.world.now()), wall - seconds(2));
  c.injector.apply(ClockDrift{NodeSelector::of({1}), 250.0});
  EXPECT_EQ(c.world.clock(NodeId{1}).drift_ppm(), 250.0);
  EXPECT_EQ(c.descriptions(),
            (std::vector<std::string>{"clock_jump n1 by -2s", "clock_drift n1 to 250ppm"}));
}

TEST(Faults, SetNetworkChangesOnlyTheFieldsGiven) {
  Cluster c(3);
  const sim::LatencyDistribution latency = c.world.network().config().latency;
  NetworkChange change;
  change.loss = 0.25;
  c.injector.apply(SetNetwork{change});
  EXPECT_EQ(c.world.network().config().loss, 0.25);
  EXPECT_EQ(c.world.network().config().latency.value, latency.value);
  EXPECT_EQ(c.descriptions(), std::vector<std::string>{"set_network loss=0.25"});
}

TEST(Faults, CorruptDiskNamesTheFileItFlipped) {
  sim::World world(sim::WorldConfig{});
  std::uint64_t recovered = 0;
  world.add_node("n0", [&recovered](NodeId) {
    return std::make_unique<testing::DurableCounter>(1, &recovered);
  });
  world.add_node("n1", [&recovered](NodeId) {
    return std::make_unique<testing::DurableCounter>(1, &recovered);
  });
  FaultInjector injector(
      world, 2, [] { return std::nullopt; }, world.derive_rng(kFaultStream));
  injector.apply(CorruptDisk{NodeSelector::of({0})});
  EXPECT_EQ(injector.log().back().description, "corrupt_disk n0: no durable data");
  EXPECT_TRUE(injector.log().back().skipped);
  world.run_until(milliseconds(20));
  injector.apply(CorruptDisk{NodeSelector::of({1})});
  EXPECT_EQ(injector.log().back().description, "corrupt_disk n1: counter");
  injector.apply(CorruptDisk{NodeSelector::symbolic(NodeSelector::Kind::all)});
  EXPECT_EQ(injector.log().back().description, "corrupt_disk {0,1} (all): n0 counter, n1 counter");
  EXPECT_EQ(injector.applied(), 2u);
}

TEST(Faults, HealAllRestoresEveryServerAndLink) {
  Cluster c(5, 1);
  c.world.run_until(seconds(1));
  const double drift = c.world.clock(NodeId{3}).drift_ppm();
  c.injector.apply(Crash{NodeSelector::of({0}), {}});
  c.injector.apply(Pause{NodeSelector::of({1}), {}});
  c.injector.apply(Partition{PartitionSymmetric{{{NodeId{2}}}}});
  c.injector.apply(Clog{NodeSelector::of({3}), NodeSelector::of({4}), seconds(10)});
  c.injector.apply(ClockDrift{NodeSelector::of({3}), 500.0});
  c.world.run_until(seconds(2));
  c.injector.heal_all();
  EXPECT_EQ(c.count(&sim::World::is_up, true), 5u);
  EXPECT_EQ(c.count(&sim::World::is_paused, true), 0u);
  for (std::uint32_t a = 0; a < 6; ++a) {
    for (std::uint32_t b = 0; b < 6; ++b) {
      EXPECT_TRUE(c.world.network().connected(NodeId{a}, NodeId{b}));
      EXPECT_FALSE(c.world.network().clogged(c.world.now(), NodeId{a}, NodeId{b}));
    }
  }
  EXPECT_EQ(c.world.clock(NodeId{3}).drift_ppm(), drift);
  EXPECT_EQ(c.descriptions().back(),
            "heal_all: network healed; restarted n0; resumed n1; drift reset n3");
  const std::uint64_t before = c.got(0, 2);
  c.world.run_until(seconds(3));
  EXPECT_GT(c.got(0, 2), before + 50);
}

TEST(Faults, SameSeedPicksTheSameServers) {
  const auto run = [](std::uint64_t seed) {
    Cluster c(7, 0, seed);
    std::vector<Fault> faults;
    for (int i = 0; i < 20; ++i) {
      faults.push_back(Fault{milliseconds(100 * i + 1),
                             Pause{NodeSelector::symbolic(Kind::minority), milliseconds(50)}});
      faults.push_back(Fault{milliseconds(100 * i + 60), Partition{PartitionMajoritiesRing{}}});
    }
    c.injector.schedule(faults);
    c.world.run_until(seconds(3));
    return c.descriptions();
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

}  // namespace
}  // namespace faults_test
}  // namespace lockstep::harness
