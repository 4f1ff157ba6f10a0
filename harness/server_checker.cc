#include "harness/server_checker.h"

#include "core/assert.h"
#include "service/replica_host.h"

namespace lockstep::harness {

ServerChecker::ServerChecker(std::uint32_t servers,
                             std::unique_ptr<consensus::ClusterChecker> checker)
    : servers_(servers),
      checker_(std::move(checker)),
      replicas_(servers, nullptr),
      incarnations_(servers, 0) {
  LS_ASSERT(checker_ != nullptr);
}

std::optional<consensus::Violation> ServerChecker::after_step(sim::World& world,
                                                              std::optional<NodeId> node) {
  if (node && node->value >= servers_) return std::nullopt;  // a client's step
  const std::uint32_t first = node ? node->value : 0;
  const std::uint32_t end = node ? node->value + 1 : servers_;
  for (std::uint32_t i = first; i < end; ++i) {
    const NodeId id{i};
    const auto* host = static_cast<const service::ReplicaHost*>(world.process(id));
    replicas_[i] = host == nullptr ? nullptr : &host->replica();
    if (host != nullptr && world.incarnation(id) != incarnations_[i]) {
      if (incarnations_[i] != 0 && world.last_crash_loss(id).syncs_cut > 0) {
        checker_->forget_unsynced(i);
      }
      incarnations_[i] = world.incarnation(id);
    }
  }
  std::optional<std::size_t> changed;
  if (node) changed = node->value;
  return checker_->check(replicas_, changed);
}

}  // namespace lockstep::harness
