// The in-test host (tests/protocols/support/replica_cluster.h) over Raft replicas, with Raft's
// test helpers: elections, leader search, commits, membership slots and prebuilt record logs.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocols/raft/raft.h"
#include "tests/protocols/support/replica_cluster.h"

namespace lockstep::raft::testing {

using protocol_testing::Envelope;
using protocol_testing::numbered;

inline RaftConfig test_config() {
  RaftConfig c;
  c.check_quorum = true;
  c.prevote = true;
  return c;
}

// Decodes a message for assertions; fails the test when it does not decode.
inline RaftMessage decoded(ByteView payload) {
  auto m = decode_message(payload);
  EXPECT_TRUE(m.has_value());
  return m.value_or(RaftMessage{TimeoutNow{}});
}

// A record log holding `term` (no vote) and entries of the given terms from index 1.
inline std::vector<Bytes> records_with_log(Term term, const std::vector<Term>& entry_terms) {
  std::vector<Bytes> records;
  records.push_back(encode(RaftRecord{HardStateRecord{term, std::nullopt}}));
  EntriesRecord er{LogIndex{1}, {}};
  for (Term t : entry_terms) er.entries.push_back(Entry{t, EntryKind::command, to_bytes("x")});
  if (!er.entries.empty()) records.push_back(encode(RaftRecord{er}));
  return records;
}

inline std::vector<Term> terms(std::initializer_list<std::pair<std::uint64_t, std::size_t>> runs) {
  std::vector<Term> out;
  for (auto [term, count] : runs) out.insert(out.end(), count, Term{term});
  return out;
}

class TestCluster : public protocol_testing::ReplicaCluster<RaftReplica, RaftConfig, RaftChecker> {
 public:
  // `disks` preloads record logs (missing ones start empty).
  explicit TestCluster(std::size_t n, RaftConfig config = test_config(), std::uint64_t seed = 1,
                       std::vector<std::vector<Bytes>> disks = {})
      : ReplicaCluster(n, config, seed, std::move(disks)) {}

  // Adds a node slot (for membership tests); the node starts knowing no members.
  std::size_t add_node() {
    const std::size_t i = add_slot();
    start(i, std::vector<NodeId>{});
    return i;
  }

  // Makes node i campaign now (after its election timeout) and delivers until quiet.
  void elect(std::size_t i) {
    wait_for_deadline(i);
    tick_and_deliver(i);
    // The leader counts its own entries once handed over: one more tick commits the no-op.
    if (node(i).role() == RaftRole::leader) tick_and_deliver(i);
  }

  std::optional<std::size_t> leader() const {
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < size(); ++i) {
      const auto& r = replicas()[i];
      if (r && r->role() == RaftRole::leader && (!found || r->term() > replicas()[*found]->term())) {
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

}  // namespace lockstep::raft::testing
