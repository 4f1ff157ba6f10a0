// The lock-service part of a run (harness/run.h), for scenarios whose clients run lock workloads:
// servers host the LockService with its LockServer (service/lock/lock_server.h), one protected
// resource node follows the servers, then the clients; and the verdicts come from the
// LockHistory (harness/lock_checks.h) instead of the append log.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "harness/lock_checks.h"
#include "harness/lock_history.h"
#include "harness/run.h"
#include "harness/scenario.h"
#include "service/replica_host.h"
#include "sim/world.h"

namespace lockstep::harness {

class LockRun {
 public:
  LockRun(const Scenario& scenario, sim::World& world);

  // The process of a server: a ReplicaHost over `replica` running the lock service, observed.
  std::unique_ptr<Process> make_server(service::ReplicaFactory replica);
  // Adds the resource node and the client nodes; call after the servers.
  void add_nodes();

  NodeId first_client() const { return first_client_; }
  std::uint32_t clients() const { return clients_; }
  // The clients that believe they hold an exclusive lock (lock_holder) or lead an election
  // (elected) now, for the fault injector.
  std::vector<NodeId> pick(NodeSelector::Kind kind) const;

  using HostOf = std::function<service::ReplicaHost*(std::uint32_t server)>;
  // Every property's verdict. `finished`: the run reached its end (not stopped early).
  void judge(bool finished, Nanos healed_at, const HostOf& host,
             std::map<Property, PropertyVerdict>& out) const;
  // Broken lock-service invariants on the live servers, described; empty when all hold.
  std::vector<std::string> service_invariants(const HostOf& host) const;
  ClientStats client_stats() const;
  std::map<Counter, std::uint64_t> counters() const { return count(history_, scenario_.service); }
  const LockHistory& history() const { return history_; }

 private:
  double drift_ppm_max() const;

  const Scenario& scenario_;
  sim::World& world_;
  LockHistory history_;
  AppliedRecorder applied_;
  NodeId resource_;
  NodeId first_client_;
  std::uint32_t clients_ = 0;
};

}  // namespace lockstep::harness
