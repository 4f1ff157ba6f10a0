// The edits the shrinker tries on a scenario (harness/shrink.h): pure functions from a scenario to
// a smaller or simpler one. Whether an edit is kept is decided by re-running it, in shrink.cc.
// Not for use outside harness/shrink*.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/types.h"
#include "harness/scenario.h"

namespace lockstep::harness::shrink_edits {

// The faults in units that are dropped together, each unit a list of indexes into `faults` in
// order: a partition with the heal that ends it (the first heal after it, with no other partition
// in between); every other fault alone (a crash or pause with "for" carries its own undo).
std::vector<std::vector<std::size_t>> fault_units(const std::vector<Fault>& faults);

// The faults at the given indexes (ascending), in order.
std::vector<Fault> pick_faults(const std::vector<Fault>& faults, const std::vector<std::size_t>& keep);

// The scenario ending at `duration` (at most its own): faults after it are dropped, client
// groups that would start after it are dropped and stops are cut to it, and the (disabled)
// nemesis window is cut to it, so that the scenario still loads.
Scenario with_duration(const Scenario& s, Nanos duration);

// The scenario on its first `servers` servers (fewer than it has): every fault loses the servers
// that are gone (a partition's groups, a selector's ids); a fault left naming no server, or a
// link or bridge that loses an end, is dropped.
Scenario with_servers(const Scenario& s, std::uint32_t servers);

// The scenario without client group `group`, or with `count` clients in it. Faults naming clients
// by index lose the indexes that no longer exist, and are dropped when none is left.
Scenario without_client_group(const Scenario& s, std::size_t group);
Scenario with_client_count(const Scenario& s, std::size_t group, std::uint32_t count);

// A named simplification; `apply` returns false when it would change nothing.
struct Edit {
  std::string label;
  std::function<bool(Scenario&)> apply;
};

// Simpler workload parameters for each client group (one lock, one election, one key, no
// presence nodes, no watches), one edit per parameter that can be simpler.
std::vector<Edit> workload_edits(const Scenario& s);

// A calmer environment: no loss, duplication or reordering, constant latency, no clock offsets or
// drift, no torn writes, the default disk.
std::vector<Edit> environment_edits();

}  // namespace lockstep::harness::shrink_edits
