// A simulated lock-service cell for tests: Raft servers hosting the LockService and LockServer
// (make_lock_host), and client nodes running fibers, on a world with a constant 500us network.
// Clients are added before the first run; the servers are nodes 0..servers-1.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "protocols/raft/raft.h"
#include "service/lock/lock_client.h"
#include "service/lock/lock_server.h"
#include "sim/fiber.h"
#include "sim/world.h"

namespace lockstep::service::lock::testing {

// Short durations so that tests run through expiries quickly.
inline LockConfig fast_lock_config() {
  LockConfig c;
  c.session_grace = seconds(2);
  c.lock_delay = milliseconds(500);
  return c;
}

struct ClusterOptions {
  std::uint32_t servers = 3;
  std::uint64_t seed = 1;
  LockConfig config = fast_lock_config();
  LockServerConfig server;
  Nanos latency = microseconds(500);
};

class LockCluster {
 public:
  explicit LockCluster(ClusterOptions options = {})
      : options_(options),
        world_(sim::WorldConfig{options.seed, network(options.latency), {}, {}}) {
    std::vector<NodeId> members;
    for (std::uint32_t i = 0; i < options_.servers; ++i) members.emplace_back(i);
    for (std::uint32_t i = 0; i < options_.servers; ++i) {
      world_.add_node(fmt::format("server{}", i), [this, members](NodeId) {
        return make_lock_host(
            [members](NodeId self, std::uint64_t seed) {
              return raft::make_raft_replica(raft::RaftConfig{}, self, members, seed);
            },
            options_.config, options_.server);
      });
    }
  }

  // A client node running `body` on a fiber (from the node's start, and again after a restart).
  NodeId add_client(sim::FiberBody body) {
    return world_.add_node(fmt::format("client{}", clients_++), [body](NodeId) {
      return std::make_unique<sim::FiberHost>(std::vector<sim::FiberBody>{body});
    });
  }

  // A client configuration for this cell: TTL 1s, grace 2s (the service's), quick retries.
  LockClientConfig client_config() const {
    LockClientConfig c;
    for (std::uint32_t i = 0; i < options_.servers; ++i) c.servers.emplace_back(i);
    c.session_ttl = seconds(1);
    c.grace = options_.config.session_grace;
    c.request_timeout = milliseconds(100);
    c.wait_resend = seconds(1);
    return c;
  }

  sim::World& world() { return world_; }
  Nanos now() const { return world_.now(); }

  ReplicaHost* host(std::uint32_t server) {
    return static_cast<ReplicaHost*>(world_.process(NodeId{server}));
  }
  const LockServer& server(std::uint32_t i) {
    return *static_cast<const LockServer*>(host(i)->hooks());
  }
  const LockService& service(std::uint32_t i) {
    return static_cast<const LockService&>(host(i)->state_machine());
  }
  // The live, unpaused leader of the highest term.
  std::optional<std::uint32_t> leader() {
    std::optional<std::uint32_t> best;
    for (std::uint32_t i = 0; i < options_.servers; ++i) {
      ReplicaHost* h = host(i);
      if (h == nullptr || world_.is_paused(NodeId{i})) continue;
      if (h->role().role != consensus::Role::leader) continue;
      if (!best || h->role().term > host(*best)->role().term) best = i;
    }
    return best;
  }

  void run_for(Nanos d) { world_.run_until(world_.now() + d); }
  // Runs until `done` holds (checked after each step of 1ms) or `limit` passes; returns done().
  bool run_until(const std::function<bool()>& done, Nanos limit) {
    const Nanos end = world_.now() + limit;
    while (!done() && world_.now() < end) world_.run_until(world_.now() + milliseconds(1));
    return done();
  }

 private:
  static sim::NetworkConfig network(Nanos latency) {
    sim::NetworkConfig n;
    n.latency.kind = sim::LatencyDistribution::Kind::constant;
    n.latency.value = latency;
    return n;
  }

  ClusterOptions options_;
  sim::World world_;
  std::uint32_t clients_ = 0;
};

}  // namespace lockstep::service::lock::testing
