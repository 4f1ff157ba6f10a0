// Seeded random faults over any protocol's TestCluster — message loss, duplication and
// reordering, partitions, crashes and restarts, compactions, reads and (where the protocol opts
// in) leadership transfers — with the cluster checker after every step, then a heal and a check
// that the cluster converges and still makes progress.
//
// Every draw comes from one Rng derived from the seed, in a fixed order, so a seed replays the
// same run; a fault a protocol does not take part in draws nothing.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <string_view>

#include "core/rng.h"
#include "tests/protocols/support/replica_cluster.h"

namespace lockstep::protocol_testing {

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
  // 0: no leadership transfers, and no draws for them.
  double transfer_per_ms = 0;
};

// What the driver needs to know about one protocol.
template <typename Cluster>
struct RandomFaultProtocol {
  // Names the Rng stream, e.g. "raft-random-faults".
  std::string_view rng_label;
  // Crashes lose records written since the last sync (see ReplicaCluster::lose_unsynced).
  bool lose_unsynced = false;
  // Whether node i has applied beyond its snapshot, so a compaction has something to do.
  bool (*compactable)(Cluster& c, std::size_t i) = nullptr;
  // After the heal, with every node up: runs until a leader emerges and returns it.
  std::optional<std::size_t> (*settle)(Cluster& c) = nullptr;
  // After the final commit: how long every node has to apply it.
  Nanos converge_for = milliseconds(200);
};

// For protocols with a log: whether node i applied beyond its snapshot. (Raft, Paxos.)
template <typename Cluster>
bool log_compactable(Cluster& c, std::size_t i) {
  return c.node(i).applied_index() > c.node(i).log().snapshot_index();
}

// Runs three seconds, then takes whichever leader there is. (Raft, Paxos.)
template <typename Cluster>
std::optional<std::size_t> leader_after_three_seconds(Cluster& c) {
  c.run_for(seconds(3));
  return c.leader();
}

// Delivers what is queued now, in random order, losing and duplicating some.
template <typename Cluster>
void deliver_shuffled(Cluster& c, Rng& rng, const FaultRates& rates) {
  std::size_t budget = c.network().size();
  while (budget-- > 0 && !c.network().empty()) {
    const std::size_t pick = rng.chance(rates.reorder) ? rng.below(c.network().size()) : 0;
    Envelope e = std::move(c.network()[pick]);
    c.network().erase(c.network().begin() + static_cast<std::ptrdiff_t>(pick));
    if (rng.chance(rates.drop)) continue;
    if (rng.chance(rates.duplicate)) c.network().push_back(e);
    c.deliver(e);
  }
}

// One millisecond of faults and client load, then ticks and delivery.
template <typename Cluster>
void random_step(Cluster& c, Rng& rng, const RandomFaultProtocol<Cluster>& protocol,
                 const FaultRates& rates, std::uint64_t& command, std::uint64_t& read_id) {
  const std::size_t nodes = c.size();
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
    if (rng.chance(rates.propose_per_ms)) c.propose(*leader, numbered("c", command++));
    if (rng.chance(rates.read_per_ms)) {
      c.node(*leader).read_barrier(c.now(), ++read_id);
      c.collect(*leader);
    }
    if (rates.transfer_per_ms > 0 && rng.chance(rates.transfer_per_ms)) {
      c.node(*leader).transfer_leadership(c.now(),
                                          NodeId{static_cast<std::uint32_t>(rng.below(nodes))});
      c.collect(*leader);
    }
  }
  for (std::size_t i = 0; i < nodes; ++i) {
    if (c.up(i) && protocol.compactable(c, i) && rng.chance(rates.compact_per_ms)) c.snapshot(i);
  }
  c.tick_due();
  deliver_shuffled(c, rng, rates);
}

template <typename Cluster, typename Config>
void run_random_faults(const RandomFaultProtocol<Cluster>& protocol, std::uint64_t seed,
                       std::size_t nodes, Config config, FaultRates rates, Nanos duration) {
  SCOPED_TRACE(numbered("seed ", seed));
  Cluster c(nodes, config, seed);
  c.lose_unsynced(protocol.lose_unsynced);
  Rng rng = Rng::derive(seed, protocol.rng_label);
  std::uint64_t command = 0;
  std::uint64_t read_id = 0;
  const Nanos end = c.now() + duration;
  while (c.now() < end && !c.violation()) random_step(c, rng, protocol, rates, command, read_id);
  ASSERT_FALSE(c.violation());
  // Heal everything: a leader must emerge, commit, and every replica converge.
  c.heal();
  for (std::size_t i = 0; i < nodes; ++i) {
    if (!c.up(i)) c.start(i);
  }
  const auto leader = protocol.settle(c);
  ASSERT_TRUE(leader.has_value());
  c.commit(*leader, "final");
  c.run_for(protocol.converge_for);
  for (std::size_t i = 0; i < nodes; ++i) {
    ASSERT_FALSE(c.applied(i).empty()) << "node " << i;
    EXPECT_EQ(c.applied(i).back(), "final") << "node " << i;
    EXPECT_EQ(c.applied(i), c.applied(*leader)) << "node " << i;
  }
}

}  // namespace lockstep::protocol_testing
