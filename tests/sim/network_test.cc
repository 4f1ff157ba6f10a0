#include "sim/network.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "sim/event_queue.h"

namespace lockstep::sim {
namespace network_test {
namespace {

NodeId n(std::uint32_t v) { return NodeId{v}; }

NetworkConfig constant_latency(Nanos latency) {
  NetworkConfig config;
  config.latency.kind = LatencyDistribution::Kind::constant;
  config.latency.value = latency;
  return config;
}

// Plays the world's part of the contract (sim/network.h): schedules each copy, asks on arrival,
// reschedules held copies and records what was delivered.
class MiniWorld {
 public:
  struct Delivery {
    Nanos at;
    NodeId from;
    NodeId to;
    std::uint64_t message;  // index of the send
  };

  MiniWorld(std::uint32_t nodes, NetworkConfig config, std::uint64_t seed = 7)
      : net(nodes, config, Rng(seed)) {}

  SendDecision send(Nanos now, NodeId from, NodeId to, std::size_t bytes = 100) {
    run_until(now);
    const SendDecision d = net.on_send(now, from, to, bytes);
    for (std::uint8_t c = 0; c < d.copies; ++c) {
      EXPECT_GE(d.deliver_at[c], now);
      queue_.push(d.deliver_at[c], kFirst, 0, messages_.size());
    }
    messages_.push_back(Message{from, to, bytes});
    return d;
  }

  void run_until(Nanos deadline) {
    while (!queue_.empty() && queue_.top().at <= deadline) {
      const Event e = queue_.pop();
      const Message& m = messages_[e.arg];
      const auto attempt = e.kind == kFirst ? ArrivalAttempt::first : ArrivalAttempt::after_hold;
      const ArrivalDecision d = net.on_arrival(e.at, m.from, m.to, m.bytes, attempt);
      switch (d.kind) {
        case ArrivalKind::deliver: delivered.push_back({e.at, m.from, m.to, e.arg}); break;
        case ArrivalKind::drop: dropped.push_back(d.reason); break;
        case ArrivalKind::hold:
          EXPECT_EQ(attempt, ArrivalAttempt::first);
          EXPECT_GE(d.hold_until, e.at);
          queue_.push(d.hold_until, kAfterHold, 0, e.arg);
          break;
      }
    }
  }
  void drain() { run_until(Nanos::max()); }

  Network net;
  std::vector<Delivery> delivered;
  std::vector<DropReason> dropped;

 private:
  enum : std::uint32_t { kFirst, kAfterHold };
  struct Message {
    NodeId from;
    NodeId to;
    std::size_t bytes;
  };
  EventQueue queue_;
  std::vector<Message> messages_;
};

std::set<std::uint32_t> sees(const Network& net, std::uint32_t node) {
  std::set<std::uint32_t> out;
  for (std::uint32_t other = 0; other < net.node_count(); ++other) {
    if (net.connected(n(node), n(other))) out.insert(other);
  }
  return out;
}

// ---- partitions ----

TEST(Network, SymmetricPartitionCutsGroupsApartAndLeavesUnlistedNodesConnected) {
  Network net(5, {}, Rng(1));
  const std::vector<std::vector<NodeId>> groups = {{n(0), n(1)}, {n(2), n(3)}};
  net.partition_symmetric(groups);
  EXPECT_TRUE(net.connected(n(0), n(1)));
  EXPECT_TRUE(net.connected(n(3), n(2)));
  for (std::uint32_t a : {0u, 1u}) {
    for (std::uint32_t b : {2u, 3u}) {
      EXPECT_FALSE(net.connected(n(a), n(b)));
      EXPECT_FALSE(net.connected(n(b), n(a)));
    }
  }
  for (std::uint32_t a = 0; a < 5; ++a) {
    EXPECT_TRUE(net.connected(n(4), n(a)));
    EXPECT_TRUE(net.connected(n(a), n(4)));
  }
  EXPECT_EQ(net.describe_partition(), "{0,1} | {2,3}");
}

TEST(Network, OneWayPartitionDeliversBToAButNotAToB) {
  MiniWorld w(3, constant_latency(milliseconds(1)));
  const std::vector<NodeId> from = {n(0)};
  const std::vector<NodeId> to = {n(1), n(2)};
  w.net.partition_one_way(from, to);
  const SendDecision blocked = w.send(Nanos::zero(), n(0), n(1));
  EXPECT_TRUE(blocked.dropped());
  EXPECT_EQ(blocked.reason, DropReason::partitioned);
  EXPECT_EQ(w.send(Nanos::zero(), n(1), n(0)).copies, 1);
  EXPECT_EQ(w.send(Nanos::zero(), n(2), n(0)).copies, 1);
  EXPECT_EQ(w.send(Nanos::zero(), n(1), n(2)).copies, 1);
  w.drain();
  EXPECT_EQ(w.delivered.size(), 3u);
  EXPECT_EQ(w.net.describe_partition(), "{0} -> {1,2} blocked");
}

TEST(Network, BridgeSplitsHalvesThatBothReachTheBridge) {
  Network net(6, {}, Rng(1));
  const std::vector<NodeId> servers = {n(0), n(1), n(2), n(3), n(4)};  // node 5: a client
  net.bridge(servers, n(2));
  EXPECT_EQ(sees(net, 0), (std::set<std::uint32_t>{0, 1, 2, 5}));
  EXPECT_EQ(sees(net, 1), (std::set<std::uint32_t>{0, 1, 2, 5}));
  EXPECT_EQ(sees(net, 2), (std::set<std::uint32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(sees(net, 3), (std::set<std::uint32_t>{2, 3, 4, 5}));
  EXPECT_EQ(sees(net, 4), (std::set<std::uint32_t>{2, 3, 4, 5}));
  EXPECT_EQ(net.describe_partition(), "{0,1} | {3,4} bridged by 2");
}

TEST(Network, MajoritiesRingOfFiveConnectsEachNodeToItsRingNeighboursOnly) {
  Network net(5, {}, Rng(1));
  const std::vector<NodeId> ring = {n(3), n(0), n(4), n(1), n(2)};  // ring order, not id order
  net.majorities_ring(ring);
  for (std::size_t i = 0; i < 5; ++i) {
    const std::uint32_t me = ring[i].value;
    const std::set<std::uint32_t> expected = {ring[(i + 4) % 5].value, me,
                                              ring[(i + 1) % 5].value};
    EXPECT_EQ(sees(net, me), expected) << "node " << me;
  }
  EXPECT_EQ(net.describe_partition(), "majorities ring 3-0-4-1-2");
}

RC_GTEST_PROP(NetworkLaw, MajoritiesRingGivesEveryNodeADistinctSymmetricMajority, ()) {
  const auto count = *rc::gen::inRange<std::uint32_t>(4, 40);
  Network net(count, {}, Rng(1));
  std::vector<NodeId> nodes;
  for (std::uint32_t i = 0; i < count; ++i) nodes.push_back(n(i));
  net.majorities_ring(nodes);
  std::set<std::set<std::uint32_t>> majorities;
  for (std::uint32_t a = 0; a < count; ++a) {
    const std::set<std::uint32_t> seen = sees(net, a);
    RC_ASSERT(seen.size() > count / 2);
    RC_ASSERT(seen.size() < count);
    for (std::uint32_t b = 0; b < count; ++b) {
      RC_ASSERT(net.connected(n(a), n(b)) == net.connected(n(b), n(a)));
    }
    majorities.insert(seen);
  }
  RC_ASSERT(majorities.size() == count);
}

TEST(Network, IsolateCutsOneNodeOffBothWays) {
  Network net(4, {}, Rng(1));
  net.isolate(n(2));
  EXPECT_EQ(sees(net, 2), (std::set<std::uint32_t>{2}));
  for (std::uint32_t a : {0u, 1u, 3u}) {
    EXPECT_EQ(sees(net, a), (std::set<std::uint32_t>{0, 1, 3}));
  }
  EXPECT_EQ(net.describe_partition(), "isolated 2");
}

TEST(Network, CutLinkBlocksOnlyThatPairBothWays) {
  Network net(4, {}, Rng(1));
  net.isolate(n(3));
  net.cut_link(n(2), n(0));  // replaces the isolation
  EXPECT_FALSE(net.connected(n(0), n(2)));
  EXPECT_FALSE(net.connected(n(2), n(0)));
  EXPECT_EQ(sees(net, 0), (std::set<std::uint32_t>{0, 1, 3}));
  EXPECT_EQ(sees(net, 2), (std::set<std::uint32_t>{1, 2, 3}));
  EXPECT_EQ(sees(net, 1), (std::set<std::uint32_t>{0, 1, 2, 3}));
  EXPECT_EQ(sees(net, 3), (std::set<std::uint32_t>{0, 1, 2, 3}));
  EXPECT_EQ(net.describe_partition(), "link 2 <-> 0 cut");
}

TEST(Network, EachPartitionReplacesThePreviousOne) {
  Network net(4, {}, Rng(1));
  net.isolate(n(0));
  net.isolate(n(3));
  EXPECT_TRUE(net.connected(n(0), n(1)));
  EXPECT_FALSE(net.connected(n(3), n(1)));
}

TEST(Network, HealRestoresEveryLinkAndEndsClogs) {
  Network net(4, {}, Rng(1));
  const std::vector<NodeId> ring = {n(0), n(1), n(2), n(3)};
  net.majorities_ring(ring);
  net.clog(n(1), n(2), seconds(10));
  EXPECT_TRUE(net.clogged(seconds(1), n(1), n(2)));
  net.heal();
  for (std::uint32_t a = 0; a < 4; ++a) EXPECT_EQ(sees(net, a).size(), 4u);
  EXPECT_FALSE(net.clogged(seconds(1), n(1), n(2)));
  EXPECT_EQ(net.describe_partition(), "connected");
}

TEST(Network, PartitionThatBlocksNothingIsDescribedAsConnected) {
  Network net(3, {}, Rng(1));
  const std::vector<std::vector<NodeId>> one_group = {{n(0), n(1), n(2)}};
  net.partition_symmetric(one_group);
  EXPECT_EQ(net.describe_partition(), "connected");
}

// ---- delivery ----

TEST(Network, InFlightCopyIsDroppedWhenAPartitionAppearsBeforeItArrives) {
  MiniWorld w(2, constant_latency(milliseconds(10)));
  EXPECT_EQ(w.send(Nanos::zero(), n(0), n(1)).copies, 1);
  w.run_until(milliseconds(5));
  w.net.isolate(n(1));
  w.drain();
  EXPECT_TRUE(w.delivered.empty());
  ASSERT_EQ(w.dropped.size(), 1u);
  EXPECT_EQ(w.dropped[0], DropReason::partitioned);
  EXPECT_EQ(w.net.in_flight(), 0u);
}

TEST(Network, ClogHoldsCopiesThenDeliversThemInOrderWhenItEnds) {
  MiniWorld w(2, constant_latency(milliseconds(1)));
  w.net.clog(n(0), n(1), milliseconds(100));
  for (int i = 0; i < 5; ++i) w.send(milliseconds(i), n(0), n(1));
  w.send(milliseconds(5), n(1), n(0));  // the other direction is not clogged
  w.run_until(milliseconds(99));
  ASSERT_EQ(w.delivered.size(), 1u);
  EXPECT_EQ(w.delivered[0].from, n(1));
  w.drain();
  ASSERT_EQ(w.delivered.size(), 6u);
  for (std::uint64_t i = 0; i < 5; ++i) {
    EXPECT_EQ(w.delivered[i + 1].message, i);
    EXPECT_EQ(w.delivered[i + 1].at, milliseconds(100));
  }
  EXPECT_EQ(w.net.stats().link(n(0), n(1)).held, 5u);
  EXPECT_EQ(w.net.in_flight(), 0u);
}

TEST(Network, CopyArrivingJustAsAClogEndsWaitsBehindHeldCopies) {
  // A arrives at 5ms and is held until 8ms; B (sent at 3ms) arrives at exactly 8ms, and its
  // arrival was scheduled before A's release. B must still come second.
  MiniWorld w(2, constant_latency(milliseconds(5)));
  w.net.clog(n(0), n(1), milliseconds(8));
  w.send(Nanos::zero(), n(0), n(1));
  w.send(milliseconds(3), n(0), n(1));
  w.drain();
  ASSERT_EQ(w.delivered.size(), 2u);
  EXPECT_EQ(w.delivered[0].message, 0u);
  EXPECT_EQ(w.delivered[1].message, 1u);
  EXPECT_EQ(w.delivered[1].at, milliseconds(8));
}

TEST(Network, ExtendingAClogHoldsLaterCopiesUntilTheNewEnd) {
  MiniWorld w(2, constant_latency(milliseconds(1)));
  w.net.clog(n(0), n(1), milliseconds(10));
  w.send(Nanos::zero(), n(0), n(1));  // held at 1ms until 10ms
  w.run_until(milliseconds(2));
  w.net.clog(n(0), n(1), milliseconds(20));
  w.net.clog(n(0), n(1), milliseconds(15));  // an earlier end does not shorten the clog
  w.send(milliseconds(2), n(0), n(1));
  w.drain();
  ASSERT_EQ(w.delivered.size(), 2u);
  EXPECT_EQ(w.delivered[0].at, milliseconds(10));
  EXPECT_EQ(w.delivered[1].at, milliseconds(20));
}

TEST(Network, CopyForADownNodeIsDroppedAtArrival) {
  MiniWorld w(2, constant_latency(milliseconds(1)));
  w.net.set_node_up(n(1), false);
  EXPECT_EQ(w.send(Nanos::zero(), n(0), n(1)).copies, 1);  // the sender cannot know
  w.drain();
  ASSERT_EQ(w.dropped.size(), 1u);
  EXPECT_EQ(w.dropped[0], DropReason::node_down);
  w.net.set_node_up(n(1), true);
  w.send(milliseconds(5), n(0), n(1));
  w.drain();
  EXPECT_EQ(w.delivered.size(), 1u);
}

TEST(Network, LinksAreFifoWithoutReorder) {
  NetworkConfig config;
  config.latency.kind = LatencyDistribution::Kind::uniform;
  config.latency.min = Nanos::zero();
  config.latency.max = milliseconds(10);
  MiniWorld w(2, config);
  for (int i = 0; i < 2000; ++i) w.send(microseconds(100 * i), n(0), n(1));
  w.drain();
  ASSERT_EQ(w.delivered.size(), 2000u);
  for (std::uint64_t i = 0; i < 2000; ++i) EXPECT_EQ(w.delivered[i].message, i);
}

TEST(Network, ReorderSometimesDeliversOutOfSendOrder) {
  NetworkConfig config = constant_latency(milliseconds(1));
  config.reorder = 0.2;
  config.reorder_delay_max = milliseconds(5);
  MiniWorld w(2, config);
  for (int i = 0; i < 1000; ++i) w.send(microseconds(100 * i), n(0), n(1));
  w.drain();
  ASSERT_EQ(w.delivered.size(), 1000u);
  int inversions = 0;
  for (std::size_t i = 1; i < w.delivered.size(); ++i) {
    if (w.delivered[i].message < w.delivered[i - 1].message) ++inversions;
  }
  EXPECT_GT(inversions, 50);
}

TEST(Network, LossDropsAboutTheConfiguredFraction) {
  NetworkConfig config;
  config.loss = 0.2;
  Network net(2, config, Rng(3));
  constexpr int kSends = 100'000;
  for (int i = 0; i < kSends; ++i) {
    const SendDecision d = net.on_send(Nanos::zero(), n(0), n(1), 10);
    for (std::uint8_t c = 0; c < d.copies; ++c) {
      net.on_arrival(d.deliver_at[c], n(0), n(1), 10, ArrivalAttempt::first);
    }
  }
  const double rate =
      static_cast<double>(net.stats().total.dropped_by(DropReason::loss)) / kSends;
  EXPECT_NEAR(rate, 0.2, 0.01);  // eight standard deviations
}

TEST(Network, DuplicateDeliversTwoCopiesEachWithItsOwnLatency) {
  NetworkConfig config;
  config.latency.kind = LatencyDistribution::Kind::uniform;
  config.latency.min = milliseconds(1);
  config.latency.max = milliseconds(9);
  config.duplicate = 1.0;
  MiniWorld w(2, config);
  bool distinct_latencies = false;
  for (int i = 0; i < 50; ++i) {
    const SendDecision d = w.send(seconds(i), n(0), n(1));
    ASSERT_EQ(d.copies, 2);
    distinct_latencies |= d.deliver_at[0] != d.deliver_at[1];
  }
  w.drain();
  EXPECT_TRUE(distinct_latencies);
  EXPECT_EQ(w.delivered.size(), 100u);
  EXPECT_EQ(w.net.stats().total.duplicated, 50u);
}

TEST(Network, InFlightLimitDropsSendsPastItUntilCopiesLand) {
  NetworkConfig config = constant_latency(milliseconds(1));
  config.in_flight_max = 3;
  config.duplicate = 1.0;
  MiniWorld w(2, config);
  EXPECT_EQ(w.send(Nanos::zero(), n(0), n(1)).copies, 2);
  EXPECT_EQ(w.send(Nanos::zero(), n(0), n(1)).copies, 1);  // room for one copy only
  const SendDecision refused = w.send(Nanos::zero(), n(0), n(1));
  EXPECT_TRUE(refused.dropped());
  EXPECT_EQ(refused.reason, DropReason::in_flight_limit);
  w.drain();
  EXPECT_EQ(w.net.in_flight(), 0u);
  EXPECT_EQ(w.send(milliseconds(2), n(0), n(1)).copies, 2);
}

// ---- latency ----

std::vector<std::int64_t> sample_latencies(const NetworkConfig& config, int count) {
  Network net(2, config, Rng(11));
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const Nanos now = seconds(10 * i);  // far apart, so FIFO never delays a copy
    const SendDecision d = net.on_send(now, n(0), n(1), 1);
    out.push_back((d.deliver_at[0] - now).count);
    net.on_arrival(d.deliver_at[0], n(0), n(1), 1, ArrivalAttempt::first);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Network, ConstantAndUniformLatencyStayInBounds) {
  EXPECT_EQ(sample_latencies(constant_latency(microseconds(700)), 100),
            std::vector<std::int64_t>(100, 700'000));
  NetworkConfig config;
  config.latency.kind = LatencyDistribution::Kind::uniform;
  config.latency.min = microseconds(100);
  config.latency.max = microseconds(300);
  const auto s = sample_latencies(config, 20'000);
  EXPECT_GE(s.front(), 100'000);
  EXPECT_LE(s.back(), 300'000);
  EXPECT_LT(s.front(), 101'000);
  EXPECT_GT(s.back(), 299'000);
  EXPECT_NEAR(static_cast<double>(s[s.size() / 2]), 200'000.0, 3'000.0);
}

TEST(Network, LognormalLatencyHasTheConfiguredMedianAndP99) {
  NetworkConfig config;
  config.latency.kind = LatencyDistribution::Kind::lognormal;
  config.latency.median = milliseconds(1);
  config.latency.p99 = milliseconds(10);
  config.latency.max = seconds(1);
  const auto s = sample_latencies(config, 200'000);
  EXPECT_NEAR(static_cast<double>(s[s.size() / 2]), 1e6, 0.02e6);
  EXPECT_NEAR(static_cast<double>(s[s.size() * 99 / 100]), 10e6, 0.5e6);
  EXPECT_GT(s.front(), 0);
}

TEST(Network, LognormalLatencyIsClampedToMax) {
  NetworkConfig config;
  config.latency.kind = LatencyDistribution::Kind::lognormal;
  config.latency.median = milliseconds(1);
  config.latency.p99 = milliseconds(10);
  config.latency.max = milliseconds(5);
  const auto s = sample_latencies(config, 100'000);
  EXPECT_EQ(s.back(), milliseconds(5).count);
  // P(X > 5 median) = P(Z > ln 5 / sigma) with sigma = ln 10 / 2.326: about 5.2%.
  const auto at_max = std::count(s.begin(), s.end(), milliseconds(5).count);
  EXPECT_NEAR(static_cast<double>(at_max) / 100'000.0, 0.052, 0.005);
}

// ---- accounting and determinism ----

TEST(Network, StatsCountMessagesAndBytesExactly) {
  MiniWorld w(3, constant_latency(milliseconds(1)));
  w.send(Nanos::zero(), n(0), n(1), 100);
  w.send(Nanos::zero(), n(0), n(1), 50);
  w.send(Nanos::zero(), n(1), n(2), 7);
  w.net.isolate(n(2));
  w.send(Nanos::zero(), n(0), n(2), 30);  // dropped at send
  w.drain();                              // 1 -> 2 dropped at arrival
  const LinkStats& a = w.net.stats().link(n(0), n(1));
  EXPECT_EQ(a.sent, 2u);
  EXPECT_EQ(a.sent_bytes, 150u);
  EXPECT_EQ(a.delivered, 2u);
  EXPECT_EQ(a.delivered_bytes, 150u);
  EXPECT_EQ(a.dropped_total(), 0u);
  const LinkStats& b = w.net.stats().link(n(1), n(2));
  EXPECT_EQ(b.delivered, 0u);
  EXPECT_EQ(b.dropped_by(DropReason::partitioned), 1u);
  EXPECT_EQ(b.dropped_bytes, 7u);
  const LinkStats& total = w.net.stats().total;
  EXPECT_EQ(total.sent, 4u);
  EXPECT_EQ(total.sent_bytes, 187u);
  EXPECT_EQ(total.delivered_bytes, 150u);
  EXPECT_EQ(total.dropped_by(DropReason::partitioned), 2u);
  EXPECT_EQ(total.dropped_bytes, 37u);
  EXPECT_EQ(total.in_flight, 0u);
  EXPECT_EQ(w.net.stats().link(n(2), n(0)).sent, 0u);
}

NetworkConfig all_faults() {
  NetworkConfig config;
  config.latency.kind = LatencyDistribution::Kind::lognormal;
  config.loss = 0.1;
  config.duplicate = 0.1;
  config.reorder = 0.1;
  return config;
}

std::vector<std::int64_t> decisions(std::uint64_t seed) {
  Network net(4, all_faults(), Rng(seed));
  std::vector<std::int64_t> out;
  for (std::uint32_t i = 0; i < 2000; ++i) {
    const SendDecision d = net.on_send(microseconds(i), n(i % 4), n((i + 1) % 4), 64);
    out.push_back(d.copies == 0 ? -1 - static_cast<std::int64_t>(d.reason) : d.copies);
    for (std::uint8_t c = 0; c < d.copies; ++c) out.push_back(d.deliver_at[c].count);
  }
  return out;
}

TEST(Network, SameSeedGivesSameDecisions) {
  EXPECT_EQ(decisions(42), decisions(42));
  EXPECT_NE(decisions(42), decisions(43));
}

TEST(Network, ValidateNamesTheBadField) {
  EXPECT_EQ(validate(NetworkConfig{}), std::nullopt);
  EXPECT_EQ(validate(all_faults()), std::nullopt);
  NetworkConfig bad_loss;
  bad_loss.loss = 1.5;
  ASSERT_TRUE(validate(bad_loss).has_value());
  EXPECT_NE(validate(bad_loss)->find("loss"), std::string::npos);
  NetworkConfig bad_uniform;
  bad_uniform.latency.kind = LatencyDistribution::Kind::uniform;
  bad_uniform.latency.min = milliseconds(9);
  bad_uniform.latency.max = milliseconds(1);
  EXPECT_NE(validate(bad_uniform)->find("latency.min"), std::string::npos);
  NetworkConfig bad_lognormal;
  bad_lognormal.latency.kind = LatencyDistribution::Kind::lognormal;
  bad_lognormal.latency.p99 = microseconds(100);
  EXPECT_NE(validate(bad_lognormal)->find("p99"), std::string::npos);
}

// ---- laws ----

// A random config with no loss; `reorder` as given.
NetworkConfig random_lossless_config(double reorder) {
  NetworkConfig config;
  const auto kind = *rc::gen::inRange(0, 3);
  config.latency.kind = static_cast<LatencyDistribution::Kind>(kind);
  config.latency.value = microseconds(*rc::gen::inRange(0, 5000));
  config.latency.min = microseconds(*rc::gen::inRange(0, 1000));
  config.latency.max = config.latency.min + microseconds(*rc::gen::inRange(0, 5000));
  config.latency.median = microseconds(*rc::gen::inRange(1, 1000));
  config.latency.p99 = config.latency.median * *rc::gen::inRange(1, 20);
  config.latency.max = std::max(config.latency.max, config.latency.median);
  config.duplicate = *rc::gen::element(0.0, 0.3, 1.0);
  config.reorder = reorder;
  return config;
}

RC_GTEST_PROP(NetworkLaw, AfterHealALosslessNetworkDeliversEverySend, ()) {
  const auto nodes = *rc::gen::inRange<std::uint32_t>(2, 8);
  MiniWorld w(nodes, random_lossless_config(*rc::gen::element(0.0, 0.5)),
              *rc::gen::arbitrary<std::uint64_t>());
  std::vector<NodeId> all;
  for (std::uint32_t i = 0; i < nodes; ++i) all.push_back(n(i));
  w.net.majorities_ring(all);
  w.net.isolate(n(*rc::gen::inRange<std::uint32_t>(0, nodes)));
  w.net.clog(n(0), n(1), seconds(1));
  w.net.heal();
  const auto sends = *rc::gen::inRange(1, 200);
  std::size_t copies = 0;
  for (int i = 0; i < sends; ++i) {
    const auto from = *rc::gen::inRange<std::uint32_t>(0, nodes);
    const auto to = *rc::gen::inRange<std::uint32_t>(0, nodes);
    const SendDecision d = w.send(microseconds(10 * i), n(from), n(to));
    RC_ASSERT(d.copies >= 1);
    copies += d.copies;
  }
  w.drain();
  RC_ASSERT(w.dropped.empty());
  RC_ASSERT(w.delivered.size() == copies);
  RC_ASSERT(w.net.stats().total.held == 0u);
}

RC_GTEST_PROP(NetworkLaw, FifoLinkDeliversInSendOrderThroughClogsAndPartitions, ()) {
  MiniWorld w(3, random_lossless_config(0.0), *rc::gen::arbitrary<std::uint64_t>());
  const auto steps = *rc::gen::inRange(1, 300);
  for (int i = 0; i < steps; ++i) {
    const Nanos now = microseconds(200 * i);
    switch (*rc::gen::inRange(0, 10)) {
      case 0: w.net.clog(n(0), n(1), now + microseconds(*rc::gen::inRange(0, 20'000))); break;
      case 1: w.net.heal(); break;
      case 2: w.net.isolate(n(*rc::gen::inRange<std::uint32_t>(0, 3))); break;
      default: w.send(now, n(*rc::gen::inRange<std::uint32_t>(0, 2)), n(1)); break;
    }
  }
  w.drain();
  for (std::uint32_t from = 0; from < 2; ++from) {
    Nanos last_at = Nanos::zero();
    std::uint64_t last_message = 0;
    for (const auto& d : w.delivered) {
      if (d.from != n(from)) continue;
      RC_ASSERT(d.at >= last_at);
      RC_ASSERT(d.message >= last_message);
      last_at = d.at;
      last_message = d.message;
    }
  }
}

RC_GTEST_PROP(NetworkLaw, EveryCopyEndsDeliveredOrDroppedExactlyOnce, ()) {
  NetworkConfig config = random_lossless_config(*rc::gen::element(0.0, 0.3));
  config.loss = *rc::gen::element(0.0, 0.2);
  config.in_flight_max = *rc::gen::inRange<std::uint64_t>(1, 50);
  MiniWorld w(4, config, *rc::gen::arbitrary<std::uint64_t>());
  const auto steps = *rc::gen::inRange(1, 300);
  for (int i = 0; i < steps; ++i) {
    const Nanos now = microseconds(100 * i);
    switch (*rc::gen::inRange(0, 12)) {
      case 0: w.net.clog(n(0), n(1), now + milliseconds(3)); break;
      case 1: w.net.heal(); break;
      case 2: w.net.isolate(n(*rc::gen::inRange<std::uint32_t>(0, 4))); break;
      case 3: w.net.set_node_up(n(3), *rc::gen::arbitrary<bool>()); break;
      default:
        w.send(now, n(*rc::gen::inRange<std::uint32_t>(0, 4)),
               n(*rc::gen::inRange<std::uint32_t>(0, 4)));
    }
    const LinkStats& t = w.net.stats().total;
    RC_ASSERT(t.sent + t.duplicated == t.delivered + t.dropped_total() + t.in_flight);
    RC_ASSERT(t.in_flight <= config.in_flight_max);
  }
  w.drain();
  const LinkStats& t = w.net.stats().total;
  RC_ASSERT(t.in_flight == 0u);
  RC_ASSERT(t.delivered == w.delivered.size());
  RC_ASSERT(t.sent + t.duplicated == t.delivered + t.dropped_total());
}

}  // namespace
}  // namespace network_test
}  // namespace lockstep::sim
