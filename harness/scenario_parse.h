// Pieces of the scenario loader shared by scenario.cc (the top level), scenario_faults.cc (the
// fault schedule) and scenario_json.cc (writing back). Not for use outside harness/scenario*.
#pragma once

#include <cstdint>
#include <iterator>
#include <variant>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "core/json_reader.h"
#include "harness/scenario.h"

namespace lockstep::harness::detail {

inline constexpr std::string_view kFaultActionNames[] = {
    "partition",  "heal",        "crash", "restart",     "pause",        "resume",
    "clock_jump", "clock_drift", "clog",  "set_network", "corrupt_disk",
};
inline constexpr std::string_view kPartitionKindNames[] = {
    "symmetric", "one_way", "bridge", "majorities_ring", "isolate", "link",
};
inline constexpr std::string_view kSelectorNames[] = {
    "leader", "follower", "minority", "majority", "random", "all",
};  // NodeSelector::Kind after `ids`, in order
inline constexpr std::string_view kLatencyKindNames[] = {"constant", "uniform", "lognormal"};
inline constexpr std::string_view kNemesisKindNames[] = {
    "partition", "crash", "pause", "clock_jump", "clock_drift", "clog", "corrupt_disk",
};
// Client selectors, after the server ones (NodeSelector::Kind::lock_holder, elected).
inline constexpr std::string_view kClientSelectorNames[] = {"lock_holder", "elected"};
inline constexpr std::string_view kWorkloadNames[] = {"append", "lock_counter", "election",
                                                      "config", "mix"};
inline constexpr std::string_view kResourceModeNames[] = {"fencing", "naive"};
inline constexpr std::string_view kReadConsistencyNames[] = {"linearizable", "stale"};

// The tables above are indexed by the enums and variants of scenario.h.
static_assert(std::size(kFaultActionNames) == std::variant_size_v<FaultAction>);
static_assert(std::size(kPartitionKindNames) == std::variant_size_v<PartitionShape>);
static_assert(std::size(kSelectorNames) == static_cast<std::size_t>(NodeSelector::Kind::all));
static_assert(std::size(kNemesisKindNames) ==
              static_cast<std::size_t>(NemesisKind::corrupt_disk) + 1);
static_assert(std::size(kClientSelectorNames) ==
              static_cast<std::size_t>(NodeSelector::Kind::elected) -
                  static_cast<std::size_t>(NodeSelector::Kind::client));
static_assert(std::size(kWorkloadNames) == std::variant_size_v<Workload>);
static_assert(std::size(kPropertyNames) == static_cast<std::size_t>(Property::lock_handoff) + 1);
static_assert(std::size(kCounterNames) ==
              static_cast<std::size_t>(Counter::watch_resumes) + 1);

// Which selectors a field accepts.
enum class SelectorUse : std::uint8_t {
  any,      // every server form
  one,      // exactly one server: an id, "leader", "follower" or "random"
  stopped,  // servers that are crashed or paused: ids or "all"
};

// What the fault parser needs from the rest of the scenario.
struct FaultLimits {
  std::uint32_t nodes;
  Nanos duration;
  // Lock-service clients a fault may name ({"client": i}, "lock_holder", "elected"); 0: none.
  std::uint32_t lock_clients = 0;
};

// `clients` > 0 also accepts the client forms (for crash, pause, resume, restart and clock
// faults, whose nodes may be clients).
NodeSelector read_selector(const JsonReader& value, std::uint32_t nodes, SelectorUse use,
                           std::uint32_t clients = 0);

// Reads the network fields (latency, loss, ...) of the object `r`; the caller calls finish().
NetworkChange read_network_change(JsonReader& r);

// Reads the optional "faults" array of the scenario object, sorted by `at` (stable).
std::vector<Fault> read_faults(JsonReader& scenario, const FaultLimits& limits);

nlohmann::ordered_json selector_json(const NodeSelector& selector);
nlohmann::ordered_json latency_json(const sim::LatencyDistribution& latency);
nlohmann::ordered_json network_change_json(const NetworkChange& change);
nlohmann::ordered_json fault_json(const Fault& fault);

}  // namespace lockstep::harness::detail
