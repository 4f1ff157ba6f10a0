// The lock-service workloads of a scenario (harness/scenario.h: lock_counter, election, config,
// mix), as fiber bodies on the client library (service/lock/lock_client.h). Each client opens
// one session, creates the nodes its workload uses (node_exists is fine), and runs rounds until
// `stop`; then it keeps its session alive and idles, so that stopping is not an expiry. Every call
// it makes, every lock or leadership it believes it holds, and every watch event it takes goes to
// the LockHistory with true times.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/rng.h"
#include "harness/lock_history.h"
#include "harness/scenario.h"
#include "sim/fiber.h"

namespace lockstep::harness {

struct LockClientSettings {
  std::uint32_t client = 0;  // index over all clients of the run
  std::uint32_t servers = 0;
  NodeId resource;
  ServiceSettings service;
  Workload workload;
  Nanos request_timeout;
  Nanos start;
  Nanos stop;  // true time after which no new round starts
  Rng rng{1};  // the client's choices (which lock, which operation)
};

// The nodes workloads use, below the cell root "/ls/<cell>".
std::string lock_path(const ServiceSettings& s, std::uint32_t i);      // .../locks/lock<i>
std::string election_path(const ServiceSettings& s, std::uint32_t i);  // .../elections/election<i>
std::string config_path(const ServiceSettings& s, std::uint32_t i);    // .../config/key<i>
std::string config_root(const ServiceSettings& s);                     // .../config
bool is_election_path(const ServiceSettings& s, std::string_view path);

sim::FiberBody lock_client(LockClientSettings settings, std::function<Nanos()> true_now,
                           LockHistory* history);

}  // namespace lockstep::harness
