// Runs a protocol's ClusterChecker over the servers of a simulated cluster after every step.
// Servers are nodes 0..n-1, each a ReplicaHost (nullptr while crashed). Only the stepped server
// is looked at again after a step on one node; every server after a scheduled action (a fault).
// A server that comes back after a crash that cut a sync short is reported to the checker first
// (ClusterChecker::forget_unsynced): what it held only in memory may rightly be gone.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "protocols/consensus.h"
#include "sim/world.h"

namespace lockstep::harness {

class ServerChecker {
 public:
  ServerChecker(std::uint32_t servers, std::unique_ptr<consensus::ClusterChecker> checker);

  // After a step on `node` (nullopt: after an action). Returns the first violation found.
  std::optional<consensus::Violation> after_step(sim::World& world, std::optional<NodeId> node);
  const consensus::ClusterChecker& checker() const { return *checker_; }

 private:
  std::uint32_t servers_;
  std::unique_ptr<consensus::ClusterChecker> checker_;
  std::vector<const consensus::Replica*> replicas_;  // position i: server i's replica
  std::vector<std::uint32_t> incarnations_;          // server i's incarnation last seen
};

}  // namespace lockstep::harness
