// The in-test host (tests/protocols/support/replica_cluster.h) over Zab servers, with Zab's test
// helpers: settling on an established leader, commits, and prebuilt record logs. Zab's word for
// applying a committed transaction is delivering it, hence delivered().
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocols/zab/zab.h"
#include "tests/protocols/support/replica_cluster.h"

namespace lockstep::zab::testing {

using protocol_testing::Envelope;
using protocol_testing::numbered;

inline ZabConfig test_config() { return ZabConfig{}; }

// Decodes a message for assertions; fails the test when it does not decode.
inline ZabMessage decoded(ByteView payload) {
  auto m = decode_message(payload);
  EXPECT_TRUE(m.has_value());
  return m.value_or(ZabMessage{Notification{}});
}

// A record log: epochs, then transactions with the given zxids from position 1.
inline std::vector<Bytes> records_with(Epoch accepted, Epoch current, const std::vector<Zxid>& zxids,
                                       std::optional<NodeId> accepted_from = std::nullopt) {
  std::vector<Bytes> records;
  records.push_back(encode(ZabRecord{EpochRecord{accepted, accepted_from, current}}));
  TxnsRecord tr{Position{1}, {}};
  for (Zxid z : zxids) tr.txns.push_back(Txn{z, to_bytes(numbered("t", z.epoch.value * 1000 + z.counter)), 0});
  if (!tr.txns.empty()) records.push_back(encode(ZabRecord{tr}));
  return records;
}

// Zxids (epoch, 1..count) for each (epoch, count).
inline std::vector<Zxid> zxids(std::initializer_list<std::pair<std::uint64_t, std::uint64_t>> runs) {
  std::vector<Zxid> out;
  for (auto [epoch, count] : runs) {
    for (std::uint64_t c = 1; c <= count; ++c) out.push_back(Zxid{Epoch{epoch}, c});
  }
  return out;
}

class TestCluster : public protocol_testing::ReplicaCluster<ZabReplica, ZabConfig, ZabChecker> {
 public:
  // `disks` preloads record logs (missing ones start empty).
  explicit TestCluster(std::size_t n, ZabConfig config = test_config(), std::uint64_t seed = 1,
                       std::vector<std::vector<Bytes>> disks = {})
      : ReplicaCluster(n, config, seed, std::move(disks)) {}

  const std::vector<std::string>& delivered(std::size_t i) const { return applied(i); }

  // Runs until some server is an established leader (at most `limit`); returns it.
  std::optional<std::size_t> settle(Nanos limit = seconds(3)) {
    const Nanos end = now() + limit;
    while (now() < end) {
      if (auto l = leader(); l && all_synced(*l)) return l;
      run_for(milliseconds(1));
    }
    return leader();
  }

  // The established leader of the highest epoch among the live servers.
  std::optional<std::size_t> leader() const {
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < size(); ++i) {
      const auto& r = replicas()[i];
      if (r && r->established() &&
          (!found || r->current_epoch() > replicas()[*found]->current_epoch())) {
        found = i;
      }
    }
    return found;
  }
  // Every live server but the leader follows it in broadcast phase.
  bool all_synced(std::size_t leader) const {
    for (std::size_t i = 0; i < size(); ++i) {
      const auto& r = replicas()[i];
      if (i == leader || !r) continue;
      if (r->phase() != Phase::broadcast || r->leader() != id(leader)) return false;
    }
    return true;
  }

  // Proposes on node i and runs until quiet.
  void commit(std::size_t i, std::string_view command) {
    EXPECT_EQ(propose(i, command).outcome, consensus::Outcome::accepted);
    run_for(milliseconds(5));
  }

  // Snapshots node i's toy state machine at what it delivered.
  void snapshot(std::size_t i) { compact_at(i, node(i).applied_position().value); }
};

}  // namespace lockstep::zab::testing
