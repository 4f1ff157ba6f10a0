// Plain settings of the simulated world, filled from a scenario file (harness/scenario.h) or by
// tests. Every field has a default that means "no fault": a scenario only names what it changes.
#pragma once

#include <cstdint>

#include "core/types.h"

namespace lockstep::sim {

// One-way message latency.
struct LatencyDistribution {
  enum class Kind : std::uint8_t {
    constant,   // always `value`
    uniform,    // uniform in [min, max]
    lognormal,  // long-tailed: median `median`, 99th percentile `p99`, never above `max`
  };
  Kind kind = Kind::constant;
  Nanos value = microseconds(500);
  Nanos min = microseconds(500);
  Nanos max = milliseconds(5);
  Nanos median = microseconds(500);
  Nanos p99 = milliseconds(5);
  friend bool operator==(const LatencyDistribution&, const LatencyDistribution&) = default;
};

struct NetworkConfig {
  LatencyDistribution latency;
  double loss = 0.0;       // probability that a message is dropped
  double duplicate = 0.0;  // probability that a message is delivered twice
  // Links are FIFO per direction (like TCP) unless a message is picked for reordering: with this
  // probability it ignores FIFO order and is delayed by an extra uniform [0, reorder_delay_max].
  double reorder = 0.0;
  Nanos reorder_delay_max = milliseconds(10);
  // Limit on messages in flight in the whole network; past it new sends are dropped and counted.
  std::uint64_t in_flight_max = 1'000'000;
  friend bool operator==(const NetworkConfig&, const NetworkConfig&) = default;
};

struct ClockConfig {
  // Each node's initial wall-clock offset is drawn uniformly in [-offset_max, offset_max].
  Nanos offset_max = Nanos::zero();
  // Each node's initial drift is drawn uniformly in [-drift_ppm_max, drift_ppm_max].
  double drift_ppm_max = 0.0;
  friend bool operator==(const ClockConfig&, const ClockConfig&) = default;
};

struct DiskConfig {
  // On a crash, a random prefix of the unsynced bytes of each file survives (a torn write) instead
  // of none of them.
  bool torn_writes = false;
  // On a crash, with this probability one bit of the surviving torn tail of each file is flipped.
  double torn_corruption = 0.0;
  // Limit on one node's total stored bytes; a write past it is an assertion (our bug, not input).
  std::uint64_t capacity_bytes = 1ULL << 32;
  friend bool operator==(const DiskConfig&, const DiskConfig&) = default;
};

}  // namespace lockstep::sim
