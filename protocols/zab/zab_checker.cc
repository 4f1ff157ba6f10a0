#include "protocols/zab/zab_checker.h"

#include <algorithm>
#include <iterator>
#include <sstream>
#include <utility>

#include "core/assert.h"
#include "protocols/checker_support.h"

namespace lockstep::zab {

namespace {

constexpr const char* kOneLeaderPerEpoch = "one_leader_per_epoch";
constexpr const char* kPrimaryOrder = "primary_order";
constexpr const char* kPrimaryIntegrity = "primary_integrity";
constexpr const char* kAgreement = "agreement";
constexpr const char* kSyncedPrefix = "synced_prefix";
constexpr const char* kEpochMonotonic = "epoch_monotonic";
constexpr const char* kCommitMonotonic = "commit_monotonic";

using consensus::violation;

}  // namespace

std::vector<std::string> ZabChecker::properties() const {
  return {kOneLeaderPerEpoch, kPrimaryOrder,   kPrimaryIntegrity, kAgreement,
          kSyncedPrefix,      kEpochMonotonic, kCommitMonotonic};
}

const ZabReplica* ZabChecker::replica_at(std::span<const consensus::Replica* const> replicas,
                                         std::size_t i) {
  if (replicas[i] == nullptr) return nullptr;
  // The downcast is verified once per incarnation, not on every step.
  const ZabReplica* known = i < nodes_.size() ? nodes_[i].incarnation : nullptr;
  if (known != nullptr && static_cast<const consensus::Replica*>(known) == replicas[i]) return known;
  const auto* r = dynamic_cast<const ZabReplica*>(replicas[i]);
  LS_ASSERT_MSG(r != nullptr, "the Zab checker was handed a replica that is not a ZabReplica");
  return r;
}

std::optional<consensus::Violation> ZabChecker::check(
    std::span<const consensus::Replica* const> replicas, std::optional<std::size_t> changed) {
  if (violation_) return violation_;
  if (nodes_.size() < replicas.size()) nodes_.resize(replicas.size());
  // The cluster-wide tables already hold what the other replicas showed at their last change.
  const std::size_t first = changed.value_or(0);
  const std::size_t end = changed ? std::min(*changed + 1, replicas.size()) : replicas.size();
  for (std::size_t i = first; i < end; ++i) {
    NodeState& ns = nodes_[i];
    const ZabReplica* r = replica_at(replicas, i);
    if (r == nullptr) {
      ns.incarnation = nullptr;  // down: whatever runs here next is a new incarnation
      continue;
    }
    if (auto v = check_replica(replicas, ns, *r)) {
      violation_ = std::move(v);
      return violation_;
    }
  }
  return std::nullopt;
}

std::optional<consensus::Violation> ZabChecker::check_replica(
    std::span<const consensus::Replica* const> replicas, NodeState& ns, const ZabReplica& r) {
  if (ns.seen) {
    LS_ASSERT_MSG(ns.id == r.id(), "each position of the checked span must hold one server");
  }
  ns.seen = true;
  ns.id = r.id();
  if (ns.incarnation != &r || ns.recovered_at != r.recovered_at()) {
    ns.incarnation = &r;
    ns.recovered_at = r.recovered_at();
    ns.commit = Position{0};
    ns.fingerprint.reset();
    ns.led_epoch = Epoch{0};
    ns.broadcast_checked = Position{0};
    if (ns.rebase) {
      // Its last crash cut a sync short: an epoch it held only in memory never reached anyone
      // (its messages waited for that sync), so it may legitimately be gone.
      ns.rebase = false;
      ns.max_accepted = r.accepted_epoch();
      ns.max_current = r.current_epoch();
    }
  }
  // Most steps change one replica: the others are skipped after a comparison. A history only
  // changes with its last (position, digest) or snapshot changing, since digests chain.
  const History& h = r.history();
  const NodeState::Fingerprint now{r.state(),          r.established(),     r.synced(),
                                   r.leader(),         r.accepted_epoch(),  r.current_epoch(),
                                   r.commit_position(), h.snapshot_position(), h.last_position(),
                                   h.last_digest(),    watermark_version_};
  if (ns.fingerprint == now) return std::nullopt;
  if (auto v = check_epochs(ns, r)) return v;
  if (auto v = check_leader(ns, r)) return v;
  if (auto v = check_commits(ns, r)) return v;
  if (auto v = check_synced(replicas, r)) return v;
  ns.fingerprint = now;
  ns.fingerprint->watermark_version = watermark_version_;  // our own commit may have bumped it
  return std::nullopt;
}

// epoch_monotonic.
std::optional<consensus::Violation> ZabChecker::check_epochs(NodeState& ns, const ZabReplica& r) {
  if (r.accepted_epoch() < ns.max_accepted) {
    return violation(kEpochMonotonic, r.id(), " has acceptedEpoch ", r.accepted_epoch().value,
                     " after having accepted epoch ", ns.max_accepted.value);
  }
  if (r.current_epoch() < ns.max_current) {
    return violation(kEpochMonotonic, r.id(), " has currentEpoch ", r.current_epoch().value,
                     " after having reached currentEpoch ", ns.max_current.value);
  }
  if (r.current_epoch() > r.accepted_epoch()) {
    return violation(kEpochMonotonic, r.id(), " has currentEpoch ", r.current_epoch().value,
                     " above its acceptedEpoch ", r.accepted_epoch().value);
  }
  ns.max_accepted = r.accepted_epoch();
  ns.max_current = r.current_epoch();
  return std::nullopt;
}

// one_leader_per_epoch and primary_integrity; records what the leader broadcast, for
// primary_order.
std::optional<consensus::Violation> ZabChecker::check_leader(NodeState& ns, const ZabReplica& r) {
  if (!r.established()) return std::nullopt;
  const Epoch epoch = r.current_epoch();
  if (ns.led_epoch != epoch) {
    const auto [it, inserted] = leaders_.emplace(epoch, r.id());
    if (!inserted && it->second != r.id()) {
      return violation(kOneLeaderPerEpoch, it->second, " and ", r.id(),
                       " were both the established leader of epoch ", epoch.value);
    }
    ns.led_epoch = epoch;
    ns.broadcast_checked = Position{0};
  }
  const History& h = r.history();
  // Everything delivered in an earlier epoch is in our history (and was, at establishment).
  if (auto w = commit_watermarks_.lower_bound(epoch); w != commit_watermarks_.begin()) {
    const Position required = std::prev(w)->second;
    if (h.last_position() < required) {
      return violation(kPrimaryIntegrity, r.id(), " leads epoch ", epoch.value,
                       " with its history ending at position ", h.last_position().value,
                       " but position ", required.value, " was delivered in an earlier epoch");
    }
    if (required >= h.snapshot_position()) {
      const Slot* s = slot(required);
      if (s && s->delivered_digest != 0 && h.digest_at(required) != s->delivered_digest) {
        return violation(kPrimaryIntegrity, r.id(), " leads epoch ", epoch.value,
                         " without the transaction delivered at position ", required.value,
                         " in an earlier epoch");
      }
    }
  }
  // Record the transactions of our epoch (they sit at the end of the history, only appended).
  const Position from = std::max(ns.broadcast_checked.next(), h.first_position());
  for (Position p = h.last_position(); p >= from; p = p.prev()) {
    const Txn& t = h.at(p);
    if (t.zxid.epoch != epoch) break;
    Slot* s = slot(p);
    if (s == nullptr) continue;
    const Broadcast b{t.zxid, t.digest};
    if (!s->broadcast) {
      s->broadcast = b;
    } else if (s->broadcast->zxid != t.zxid &&
               std::none_of(s->more.begin(), s->more.end(),
                            [&](const Broadcast& m) { return m.zxid == t.zxid; })) {
      s->more.push_back(b);
    }
  }
  ns.broadcast_checked = h.last_position();
  return std::nullopt;
}

// agreement, primary_order and commit_monotonic.
std::optional<consensus::Violation> ZabChecker::check_commits(NodeState& ns, const ZabReplica& r) {
  const History& h = r.history();
  const Position commit = r.commit_position();
  if (commit < ns.commit) {
    return violation(kCommitMonotonic, r.id(), " commit position went from ", ns.commit.value,
                     " back to ", commit.value);
  }
  // A delivered transaction never changes: the prefix through the old commit point is the same.
  if (ns.commit >= h.snapshot_position() && ns.commit > Position{0}) {
    const Slot* s = slot(ns.commit);
    const auto d = h.digest_at(ns.commit);
    if (s && s->delivered_digest != 0 && (!d || *d != s->delivered_digest)) {
      return violation(kAgreement, r.id(), " changed the history it had delivered through position ",
                       ns.commit.value);
    }
  }
  for (Position p = std::max({ns.commit.next(), h.snapshot_position(), Position{1}}); p <= commit;
       p = p.next()) {
    const Zxid z = *h.zxid_at(p);
    const std::uint64_t d = *h.digest_at(p);
    if (p > h.snapshot_position() && !(*h.zxid_at(p.prev()) < z)) {
      return violation(kPrimaryOrder, r.id(), " delivers ", z, " at position ", p.value, " after ",
                       *h.zxid_at(p.prev()), ": not in zxid order");
    }
    Slot* s = slot(p);
    if (!s) continue;
    if (s->delivered_digest == 0) {
      s->delivered_digest = d;
    } else if (s->delivered_digest != d) {
      return violation(kAgreement, r.id(), " delivered ", z, " at position ", p.value,
                       " with a history that differs from another replica's delivered history");
    }
    if (p > h.snapshot_position() && leaders_.count(z.epoch) != 0) {
      const auto is = [&](const Broadcast& b) { return b.zxid == z && b.digest == d; };
      if (!(s->broadcast && is(*s->broadcast)) && std::none_of(s->more.begin(), s->more.end(), is)) {
        return violation(kPrimaryOrder, r.id(), " delivered ", z, " at position ", p.value,
                         ", which the leader of epoch ", z.epoch.value, " did not broadcast there");
      }
    }
  }
  ns.commit = commit;
  if (commit != ns.watermark_commit || r.current_epoch() != ns.watermark_epoch) {
    ns.watermark_commit = commit;
    ns.watermark_epoch = r.current_epoch();
    note_commit_watermark(r.current_epoch(), commit);
  }
  return std::nullopt;
}

// synced_prefix: compared against the leader as it is now; the leader only appends.
std::optional<consensus::Violation> ZabChecker::check_synced(
    std::span<const consensus::Replica* const> replicas, const ZabReplica& r) {
  if (!r.synced() || !r.leader()) return std::nullopt;
  const ZabReplica* leader = nullptr;
  for (std::size_t i = 0; i < replicas.size() && leader == nullptr; ++i) {
    const ZabReplica* z = replica_at(replicas, i);
    if (z != nullptr && z->id() == *r.leader()) leader = z;
  }
  if (leader == nullptr || !leader->established() ||
      leader->current_epoch() != r.current_epoch()) {
    return std::nullopt;
  }
  const History& mine = r.history();
  const History& theirs = leader->history();
  if (mine.last_position() > theirs.last_position()) {
    return violation(kSyncedPrefix, r.id(), " follows ", leader->id(), " in epoch ",
                     r.current_epoch().value, " with a history ending at position ",
                     mine.last_position().value, ", beyond the leader's ",
                     theirs.last_position().value);
  }
  const auto d = theirs.digest_at(mine.last_position());
  if (d && *d != mine.last_digest()) {
    return violation(kSyncedPrefix, r.id(), " follows ", leader->id(), " in epoch ",
                     r.current_epoch().value, " but its history through position ",
                     mine.last_position().value, " (last zxid ", mine.last_zxid(),
                     ") is not the leader's");
  }
  return std::nullopt;
}

void ZabChecker::forget_unsynced(std::size_t position) {
  if (nodes_.size() <= position) nodes_.resize(position + 1);
  nodes_[position].rebase = true;
}

ZabChecker::Slot* ZabChecker::slot(Position p) {
  return consensus::window_slot(slots_, slot_base_, p.value, kPositionWindow);
}

void ZabChecker::note_commit_watermark(Epoch epoch, Position commit) {
  if (commit == Position{0}) return;
  auto after = commit_watermarks_.upper_bound(epoch);
  if (after != commit_watermarks_.begin() && std::prev(after)->second >= commit) return;
  commit_watermarks_[epoch] = commit;
  ++watermark_version_;
  after = commit_watermarks_.upper_bound(epoch);
  while (after != commit_watermarks_.end() && after->second <= commit) {
    after = commit_watermarks_.erase(after);
  }
}

std::unique_ptr<consensus::ClusterChecker> make_zab_checker() {
  return std::make_unique<ZabChecker>();
}

}  // namespace lockstep::zab
