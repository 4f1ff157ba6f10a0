// The consensus modules a scenario can name, and how each reads its option block. The service and
// the harness see a protocol only through this table and protocols/consensus.h.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/json_reader.h"
#include "harness/scenario.h"
#include "protocols/consensus.h"

namespace lockstep::harness {

// Makes the replica of node `self` in a cluster of `members`, seeded with `seed`.
using ReplicaMaker = std::function<std::unique_ptr<consensus::Replica>(
    NodeId self, std::vector<NodeId> members, std::uint64_t seed)>;

struct ProtocolModule {
  std::string_view name;
  // Reads the scenario's option block for this protocol (nullptr: the scenario gave none, so
  // every default applies) into a replica maker, or says precisely what is wrong in the block.
  std::function<JsonResult<ReplicaMaker>(const ProtocolOptions* options)> configure;
  std::function<std::unique_ptr<consensus::ClusterChecker>()> make_checker;
};

// Every protocol name the scenario format knows, runnable or not yet.
std::span<const std::string_view> known_protocols();
// The modules this build can run.
std::span<const ProtocolModule> runnable_protocols();
const ProtocolModule* find_protocol(std::string_view name);

}  // namespace lockstep::harness
