// The in-test host (tests/protocols/support/replica_cluster.h) over Paxos replicas, with Paxos's
// test helpers: phase 1 by hand, leader search, commits, injected messages and owned ballots.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocols/paxos/paxos.h"
#include "tests/protocols/support/replica_cluster.h"

namespace lockstep::paxos::testing {

using protocol_testing::Envelope;
using protocol_testing::numbered;

inline PaxosConfig test_config() { return PaxosConfig{}; }

// Decodes a message for assertions; fails the test when it does not decode.
inline PaxosMessage decoded(ByteView payload) {
  auto m = decode_message(payload);
  EXPECT_TRUE(m.has_value());
  return m.value_or(PaxosMessage{TimeoutNow{}});
}

// The messages of `out` of type M, with their destinations.
template <typename M>
std::vector<std::pair<NodeId, M>> messages_of(const consensus::Output& out) {
  std::vector<std::pair<NodeId, M>> found;
  for (const consensus::Message& m : out.messages) {
    auto d = decode_message(m.payload);
    if (d && std::holds_alternative<M>(*d)) found.emplace_back(m.to, std::get<M>(*d));
  }
  return found;
}

inline Value command(std::string_view s) { return Value{ValueKind::command, to_bytes(s)}; }

// The ballot of `round` owned by member `node` of an n-member cluster {0..n-1}: the smallest
// round >= `at_least` with round mod n == node.
inline Ballot owned_ballot(std::uint64_t at_least, std::uint32_t node, std::uint32_t n) {
  std::uint64_t r = std::max<std::uint64_t>(at_least, 1);
  while (r % n != node) ++r;
  return Ballot{r, NodeId{node}};
}

class TestCluster
    : public protocol_testing::ReplicaCluster<PaxosReplica, PaxosConfig, PaxosChecker> {
 public:
  // `disks` preloads record logs (missing ones start empty).
  explicit TestCluster(std::size_t n, PaxosConfig config = test_config(), std::uint64_t seed = 1,
                       std::vector<std::vector<Bytes>> disks = {})
      : ReplicaCluster(n, config, seed, std::move(disks)) {}

  // Hands node i a message as if `from` had sent it, and collects.
  consensus::Output inject(std::size_t i, std::size_t from, const PaxosMessage& m) {
    node(i).receive(now(), id(from), encode(m));
    return collect(i);
  }

  // Makes node i run phase 1 now (after its election timeout) and delivers until quiet.
  void elect(std::size_t i) {
    wait_for_deadline(i);
    tick_and_deliver(i);
    // The leader counts its own acceptances once handed over: one more tick chooses them.
    if (node(i).role() == PaxosRole::leader) tick_and_deliver(i);
  }

  std::optional<std::size_t> leader() const {
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < size(); ++i) {
      const auto& r = replicas()[i];
      if (r && r->role() == PaxosRole::leader &&
          (!found || r->ballot() > replicas()[*found]->ballot())) {
        found = i;
      }
    }
    return found;
  }

  // Proposes on node i and delivers until quiet, then heartbeats once so followers learn the
  // commit index too.
  void commit(std::size_t i, std::string_view command) {
    EXPECT_EQ(propose(i, command).outcome, consensus::Outcome::accepted);
    deliver_all();
    run_for(config().heartbeat_interval);
  }

  // Snapshots node i's toy state machine at what it applied.
  void snapshot(std::size_t i) { compact_at(i, node(i).applied_index().value); }
};

}  // namespace lockstep::paxos::testing
