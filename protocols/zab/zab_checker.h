// Zab's safety properties (Junqueira, Reed, Serafini, DSN 2011, §II-B: integrity, total order,
// agreement, local and global primary order, primary integrity), checked on a whole ensemble after
// every simulated step.
//
//   one_leader_per_epoch  at most one server is ever the established leader of an epoch
//   primary_order         a replica delivers in zxid order, never one zxid twice, and every
//                         delivered transaction (e, c) is the one the leader of epoch e broadcast at
//                         that position (integrity + local/global primary order)
//   primary_integrity     an established leader of epoch e holds every transaction delivered by
//                         any replica in an earlier epoch (it delivers them before it broadcasts)
//   agreement             no two replicas deliver different transactions at one position, and a
//                         delivered transaction never changes (total order + agreement)
//   synced_prefix         a follower that acknowledged NEWLEADER holds a prefix of its established
//                         leader's history
//   epoch_monotonic       a server's acceptedEpoch and currentEpoch never decrease, across
//                         restarts too (they are persisted), and currentEpoch <= acceptedEpoch
//   commit_monotonic      a replica's commit position never decreases while it runs
//
// The checker runs after every event, so it never walks a whole history. Histories carry chained
// digests (zab_types.h): equal digests at a position mean equal prefixes. Per replica position the
// checker remembers how far it has looked; cluster-wide, per history position, the digest
// delivered there and what each epoch's leader broadcast there, in a sliding window. Each call
// costs O(replicas looked at + positions appended or committed since the last call).
//
// Position i of the span must always hold the same server (nullptr while it is down). A replica
// seen at a new address or with a new recovered_at() is a new incarnation of that server.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocols/consensus.h"
#include "protocols/zab/zab_replica.h"
#include "protocols/zab/zab_types.h"

namespace lockstep::zab {

class ZabChecker final : public consensus::ClusterChecker {
 public:
  // How many consecutive positions the cluster-wide tables remember at least (at most twice as
  // many); older ones are forgotten, and no longer compared, once the newest is this far ahead.
  static constexpr std::uint64_t kPositionWindow = std::uint64_t{1} << 18;

  std::vector<std::string> properties() const override;
  // Returns the first violation found; once one is found it is returned on every later call.
  using consensus::ClusterChecker::check;
  std::optional<consensus::Violation> check(std::span<const consensus::Replica* const> replicas,
                                            std::optional<std::size_t> changed) override;
  void forget_unsynced(std::size_t position) override;

 private:
  struct NodeState {
    bool seen = false;
    NodeId id;
    const ZabReplica* incarnation = nullptr;  // nullptr while down
    Nanos recovered_at;
    Epoch max_accepted;
    Epoch max_current;
    bool rebase = false;  // forget_unsynced: take the epochs from the next incarnation
    Position commit;      // this incarnation's last commit position
    Epoch led_epoch;      // recorded as the established leader of this epoch
    Position broadcast_checked;  // as that leader, its history was recorded through here
    Epoch watermark_epoch;       // last (epoch, commit) passed to note_commit_watermark
    Position watermark_commit;
    struct Fingerprint {
      ServerState state = ServerState::looking;
      bool established = false;
      bool synced = false;
      std::optional<NodeId> leader;
      Epoch accepted;
      Epoch current;
      Position commit;
      Position snapshot;
      Position last;
      std::uint64_t last_digest = 0;
      std::uint64_t watermark_version = 0;
      bool operator==(const Fingerprint&) const = default;
    };
    std::optional<Fingerprint> fingerprint;
  };

  struct Broadcast {
    Zxid zxid;
    std::uint64_t digest = 0;
  };
  struct Slot {
    std::uint64_t delivered_digest = 0;  // 0: nobody delivered this position yet
    std::optional<Broadcast> broadcast;  // what a leader broadcast here (first seen)...
    std::vector<Broadcast> more;         // ...and other epochs' leaders (rare)
  };

  std::optional<consensus::Violation> check_replica(
      std::span<const consensus::Replica* const> replicas, NodeState& ns, const ZabReplica& r);
  std::optional<consensus::Violation> check_epochs(NodeState& ns, const ZabReplica& r);
  std::optional<consensus::Violation> check_leader(NodeState& ns, const ZabReplica& r);
  std::optional<consensus::Violation> check_commits(NodeState& ns, const ZabReplica& r);
  std::optional<consensus::Violation> check_synced(
      std::span<const consensus::Replica* const> replicas, const ZabReplica& r);
  const ZabReplica* replica_at(std::span<const consensus::Replica* const> replicas,
                               std::size_t i);

  Slot* slot(Position p);  // nullptr when p is 0 or has slid out of the window
  void note_commit_watermark(Epoch epoch, Position commit);

  std::vector<NodeState> nodes_;
  std::map<Epoch, NodeId> leaders_;  // one_leader_per_epoch: every established leader, by epoch
  // primary_integrity: (epoch E, position C) = a replica in epoch E had delivered through C, so
  // every leader of an epoch above E must hold C. Both coordinates strictly increase.
  std::map<Epoch, Position> commit_watermarks_;
  std::uint64_t watermark_version_ = 0;  // bumped whenever commit_watermarks_ changes
  std::vector<Slot> slots_;              // slots_[k] describes position slot_base_ + k
  std::uint64_t slot_base_ = 1;
  std::optional<consensus::Violation> violation_;
};

std::unique_ptr<consensus::ClusterChecker> make_zab_checker();

}  // namespace lockstep::zab
