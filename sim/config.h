// Plain settings of the simulated world, filled from a scenario file (harness/scenario.h) or by
// tests. Every field has a default that means "no fault", except the disk's sync latency, which
// models a real disk (see DiskConfig): a scenario only names what it changes.
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
  // How long a sync takes to make its data durable (sim/disk.h). Syncs on one disk complete in
  // the order they were issued. Real flushes take tens of microseconds on a datacenter NVMe SSD
  // with power-loss protection, 0.1-1ms on SSDs without it (most cloud volumes are slower
  // still), and several milliseconds on a spinning disk; the default sits in the middle of that
  // range so that every run has windows in which a crash loses data a node believed it had
  // synced. It is not "no fault": a zero latency never lets a crash land inside a sync.
  LatencyDistribution sync_latency{.kind = LatencyDistribution::Kind::uniform,
                                   .min = microseconds(100),
                                   .max = milliseconds(1)};
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
