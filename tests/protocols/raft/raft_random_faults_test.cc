// Seeded random faults — message loss, duplication and reordering, partitions, crashes and
// restarts, compactions — with the cluster checker after every step, then a heal and a check
// that the cluster converges and still makes progress.
#include <gtest/gtest.h>

#include "tests/protocols/raft/raft_test_cluster.h"
#include "tests/protocols/support/random_faults.h"

namespace lockstep::raft {
namespace raft_random_faults_test {
namespace {

using protocol_testing::FaultRates;
using testing::TestCluster;

const protocol_testing::RandomFaultProtocol<TestCluster> kRaft{
    .rng_label = "raft-random-faults",
    .lose_unsynced = false,
    .compactable = &protocol_testing::log_compactable<TestCluster>,
    .settle = &protocol_testing::leader_after_three_seconds<TestCluster>,
    .converge_for = milliseconds(200),
};

void run_random(std::uint64_t seed, std::size_t nodes, RaftConfig config, FaultRates rates,
                Nanos duration) {
  protocol_testing::run_random_faults(kRaft, seed, nodes, config, rates, duration);
}

TEST(RaftRandomFaults, SafetyAndConvergenceWithDefaults) {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    run_random(seed, 5, testing::test_config(), FaultRates{}, seconds(10));
    if (HasFailure()) return;
  }
}

TEST(RaftRandomFaults, SafetyAndConvergenceWithoutPreVoteOrCheckQuorum) {
  RaftConfig config = testing::test_config();
  config.prevote = false;
  config.check_quorum = false;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    run_random(seed, 3, config, FaultRates{}, seconds(10));
    if (HasFailure()) return;
  }
}

TEST(RaftRandomFaults, SafetyUnderHeavyLossAndSmallPipelines) {
  RaftConfig config = testing::test_config();
  config.max_inflight_appends = 2;
  config.max_entries_per_append = 3;
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
}  // namespace raft_random_faults_test
}  // namespace lockstep::raft
