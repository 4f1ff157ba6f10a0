// Seeded random faults — message loss, duplication and reordering, partitions, crashes (losing
// what was not synced) and restarts, compactions, reads — with the cluster checker after every
// step, then a heal and a check that the ensemble converges and still makes progress.
#include <gtest/gtest.h>

#include "tests/protocols/zab/zab_test_cluster.h"
#include "tests/protocols/support/random_faults.h"

namespace lockstep::zab {
namespace zab_random_faults_test {
namespace {

using protocol_testing::FaultRates;
using testing::TestCluster;

const protocol_testing::RandomFaultProtocol<TestCluster> kZab{
    .rng_label = "zab-random-faults",
    .lose_unsynced = true,
    .compactable = [](TestCluster& c, std::size_t i) {
      return c.node(i).applied_position() > c.node(i).history().snapshot_position();
    },
    .settle = [](TestCluster& c) { return c.settle(seconds(5)); },
    .converge_for = milliseconds(300),
};

void run_random(std::uint64_t seed, std::size_t nodes, ZabConfig config, FaultRates rates,
                Nanos duration) {
  protocol_testing::run_random_faults(kZab, seed, nodes, config, rates, duration);
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
}  // namespace zab_random_faults_test
}  // namespace lockstep::zab
