// Test-only actors for the fault injector and nemesis tests.
#pragma once

#include <cstdint>
#include <vector>

#include "core/env.h"

namespace lockstep::testing {

// Every `interval` sends a beacon to every other node; counts the beacons it receives per
// sender in `received` (row-major to * nodes + from), which the test owns so that the counts
// survive crashes.
struct Beacon : Process {
  std::uint32_t nodes = 0;
  Nanos interval = milliseconds(10);
  std::vector<std::uint64_t>* received = nullptr;

  Beacon(std::uint32_t node_count, Nanos beacon_interval, std::vector<std::uint64_t>* counts)
      : nodes(node_count), interval(beacon_interval), received(counts) {}

  void on_start(Env& env) override { env.set_timer(interval); }
  void on_timer(Env& env, TimerId) override {
    for (std::uint32_t n = 0; n < nodes; ++n) {
      if (n != env.self().value) env.send(NodeId{n}, to_bytes("beacon"));
    }
    env.set_timer(interval);
  }
  void on_message(Env& env, NodeId from, ByteView) override {
    ++(*received)[static_cast<std::size_t>(env.self().value) * nodes + from.value];
  }
};

}  // namespace lockstep::testing
