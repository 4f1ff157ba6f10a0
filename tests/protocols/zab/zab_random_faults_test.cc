// Seeded random faults — message loss, duplication and reordering, partitions, crashes (losing
// what was not synced) and restarts, compactions, reads — with the cluster checker after every
// step, then a heal and a check that the ensemble converges and still makes progress.
#include <gtest/gtest.h>

#include "core/rng.h"
#include "tests/protocols/zab/zab_test_cluster.h"

namespace lockstep::zab {
namespace {

using testing::TestCluster;

struct FaultRates {
  double drop = 0.05;
  double duplicate = 0.03;
  double reorder = 0.2;
  double partition_per_ms = 0.002;
  double heal_per_ms = 0.01;
  double crash_per_ms = 0.001;
  double restart_per_ms = 0.01;
  double propose_per_ms = 0.3;
  double compact_per_ms = 0.002;
  double read_per_ms = 0.05;
};

void run_random(std::uint64_t seed, std::size_t nodes, ZabConfig config, FaultRates rates,
                Nanos duration) {
  SCOPED_TRACE(testing::numbered("seed ", seed));
  TestCluster c(nodes, config, seed);
  c.lose_unsynced(true);
  Rng rng = Rng::derive(seed, "zab-random-faults");
  std::uint64_t command = 0;
  std::uint64_t read_id = 0;
  const Nanos end = c.now() + duration;
  while (c.now() < end && !c.violation()) {
    c.advance(milliseconds(1));
    if (rng.chance(rates.partition_per_ms)) c.cut(rng.below(nodes), rng.below(nodes));
    if (rng.chance(rates.heal_per_ms)) c.heal();
    for (std::size_t i = 0; i < nodes; ++i) {
      if (c.up(i) && rng.chance(rates.crash_per_ms)) {
        c.crash(i);
      } else if (!c.up(i) && rng.chance(rates.restart_per_ms)) {
        c.start(i);
      }
    }
    if (const auto leader = c.leader()) {
      if (rng.chance(rates.propose_per_ms)) c.propose(*leader, testing::numbered("c", command++));
      if (rng.chance(rates.read_per_ms)) {
        c.node(*leader).read_barrier(c.now(), ++read_id);
        c.collect(*leader);
      }
    }
    for (std::size_t i = 0; i < nodes; ++i) {
      if (c.up(i) && c.node(i).applied_position() > c.node(i).history().snapshot_position() &&
          rng.chance(rates.compact_per_ms)) {
        c.snapshot(i);
      }
    }
    c.tick_due();
    // Deliver what is queued now, in random order, losing and duplicating some.
    std::size_t budget = c.network().size();
    while (budget-- > 0 && !c.network().empty()) {
      const std::size_t pick = rng.chance(rates.reorder) ? rng.below(c.network().size()) : 0;
      testing::Envelope e = std::move(c.network()[pick]);
      c.network().erase(c.network().begin() + static_cast<std::ptrdiff_t>(pick));
      if (rng.chance(rates.drop)) continue;
      if (rng.chance(rates.duplicate)) c.network().push_back(e);
      c.deliver(e);
    }
  }
  ASSERT_FALSE(c.violation());
  // Heal everything: a leader must emerge, commit, and every replica converge.
  c.heal();
  for (std::size_t i = 0; i < nodes; ++i) {
    if (!c.up(i)) c.start(i);
  }
  const auto leader = c.settle(seconds(5));
  ASSERT_TRUE(leader.has_value());
  c.commit(*leader, "final");
  c.run_for(milliseconds(300));
  for (std::size_t i = 0; i < nodes; ++i) {
    ASSERT_FALSE(c.delivered(i).empty()) << "node " << i;
    EXPECT_EQ(c.delivered(i).back(), "final") << "node " << i;
    EXPECT_EQ(c.delivered(i), c.delivered(*leader)) << "node " << i;
  }
}

TEST(ZabRandomFaults, SafetyAndConvergenceWithDefaults) {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    run_random(seed, 5, testing::test_config(), FaultRates{}, seconds(10));
    if (HasFailure()) return;
  }
}

TEST(ZabRandomFaults, SafetyAndConvergenceOnThreeServers) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    run_random(seed, 3, testing::test_config(), FaultRates{}, seconds(10));
    if (HasFailure()) return;
  }
}

TEST(ZabRandomFaults, SafetyUnderHeavyLossSmallWindowsAndSmallDiffs) {
  ZabConfig config = testing::test_config();
  config.max_txns_per_diff = 2;
  config.reorder_window = 4;
  config.max_outstanding_proposals = 16;
  FaultRates rates;
  rates.drop = 0.3;
  rates.duplicate = 0.1;
  rates.reorder = 0.5;
  rates.propose_per_ms = 0.8;
  for (std::uint64_t seed = 100; seed <= 115; ++seed) {
    run_random(seed, 5, config, rates, seconds(8));
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace lockstep::zab
