// Seeded random faults — message loss, duplication and reordering, partitions, crashes and
// restarts, compactions, leadership transfers — with the cluster checker after every step, then a
// heal and a check that the cluster converges and still makes progress.
#include <gtest/gtest.h>

#include "core/rng.h"
#include "tests/protocols/paxos/paxos_test_cluster.h"

namespace lockstep::paxos {
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
  double transfer_per_ms = 0.0005;
};

void run_random(std::uint64_t seed, std::size_t nodes, PaxosConfig config, FaultRates rates,
                Nanos duration) {
  SCOPED_TRACE(testing::numbered("seed ", seed));
  TestCluster c(nodes, config, seed);
  Rng rng = Rng::derive(seed, "paxos-random-faults");
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
      if (rng.chance(rates.transfer_per_ms)) {
        c.node(*leader).transfer_leadership(c.now(), NodeId{static_cast<std::uint32_t>(rng.below(nodes))});
        c.collect(*leader);
      }
    }
    for (std::size_t i = 0; i < nodes; ++i) {
      if (c.up(i) && c.node(i).applied_index() > c.node(i).log().snapshot_index() &&
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
  c.run_for(seconds(3));
  const auto leader = c.leader();
  ASSERT_TRUE(leader.has_value());
  c.commit(*leader, "final");
  c.run_for(milliseconds(200));
  for (std::size_t i = 0; i < nodes; ++i) {
    ASSERT_FALSE(c.applied(i).empty()) << "node " << i;
    EXPECT_EQ(c.applied(i).back(), "final") << "node " << i;
    EXPECT_EQ(c.applied(i), c.applied(*leader)) << "node " << i;
  }
}

TEST(PaxosRandomFaults, SafetyAndConvergenceWithDefaults) {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    run_random(seed, 5, testing::test_config(), FaultRates{}, seconds(10));
    if (HasFailure()) return;
  }
}

TEST(PaxosRandomFaults, SafetyAndConvergenceAsPlainPaxos) {
  PaxosConfig config = testing::test_config();
  config.master_lease = false;
  config.ballot_boost = false;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    run_random(seed, 3, config, FaultRates{}, seconds(10));
    if (HasFailure()) return;
  }
}

TEST(PaxosRandomFaults, SafetyWithLeaseReadsAndNoBoost) {
  PaxosConfig config = testing::test_config();
  config.lease_reads = true;
  config.ballot_boost = false;
  for (std::uint64_t seed = 40; seed <= 55; ++seed) {
    run_random(seed, 5, config, FaultRates{}, seconds(8));
    if (HasFailure()) return;
  }
}

TEST(PaxosRandomFaults, SafetyUnderHeavyLossAndSmallPipelines) {
  PaxosConfig config = testing::test_config();
  config.max_inflight_accepts = 2;
  config.max_slots_per_accept = 3;
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
}  // namespace lockstep::paxos
