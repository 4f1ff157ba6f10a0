// Seeded random faults — message loss, duplication and reordering, partitions, crashes and
// restarts, compactions, leadership transfers — with the cluster checker after every step, then a
// heal and a check that the cluster converges and still makes progress.
#include <gtest/gtest.h>

#include "tests/protocols/paxos/paxos_test_cluster.h"
#include "tests/protocols/support/random_faults.h"

namespace lockstep::paxos {
namespace paxos_random_faults_test {
namespace {

using protocol_testing::FaultRates;
using testing::TestCluster;

const protocol_testing::RandomFaultProtocol<TestCluster> kPaxos{
    .rng_label = "paxos-random-faults",
    .lose_unsynced = false,
    .compactable = &protocol_testing::log_compactable<TestCluster>,
    .settle = &protocol_testing::leader_after_three_seconds<TestCluster>,
    .converge_for = milliseconds(200),
};

// Paxos takes leadership transfers too (Raft's and Zab's runs never drew for them).
FaultRates paxos_rates() {
  FaultRates rates;
  rates.transfer_per_ms = 0.0005;
  return rates;
}

void run_random(std::uint64_t seed, std::size_t nodes, PaxosConfig config, FaultRates rates,
                Nanos duration) {
  protocol_testing::run_random_faults(kPaxos, seed, nodes, config, rates, duration);
}

TEST(PaxosRandomFaults, SafetyAndConvergenceWithDefaults) {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    run_random(seed, 5, testing::test_config(), paxos_rates(), seconds(10));
    if (HasFailure()) return;
  }
}

TEST(PaxosRandomFaults, SafetyAndConvergenceAsPlainPaxos) {
  PaxosConfig config = testing::test_config();
  config.master_lease = false;
  config.ballot_boost = false;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    run_random(seed, 3, config, paxos_rates(), seconds(10));
    if (HasFailure()) return;
  }
}

TEST(PaxosRandomFaults, SafetyWithLeaseReadsAndNoBoost) {
  PaxosConfig config = testing::test_config();
  config.lease_reads = true;
  config.ballot_boost = false;
  for (std::uint64_t seed = 40; seed <= 55; ++seed) {
    run_random(seed, 5, config, paxos_rates(), seconds(8));
    if (HasFailure()) return;
  }
}

TEST(PaxosRandomFaults, SafetyUnderHeavyLossAndSmallPipelines) {
  PaxosConfig config = testing::test_config();
  config.max_inflight_accepts = 2;
  config.max_slots_per_accept = 3;
  FaultRates rates = paxos_rates();
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
}  // namespace paxos_random_faults_test
}  // namespace lockstep::paxos
