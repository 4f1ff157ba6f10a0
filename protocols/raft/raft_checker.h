// Raft's safety properties (Figure 3 of the Raft paper, plus properties over time), checked on a
// whole cluster after every simulated step.
//
//   election_safety        at most one leader per term, ever (§5.2)
//   log_matching           two logs holding an entry with the same index and term agree on every
//                          entry up to it (§5.3)
//   leader_completeness    a leader holds every entry committed in an earlier term (§5.4)
//   state_machine_safety   no two replicas commit different entries at one index, and a committed
//                          entry never changes (§5.4.3)
//   commit_index_monotonic a replica's commit index never decreases while it runs
//   term_monotonic         a node's term never decreases, across restarts too (it is persisted)
//   one_vote_per_term      a node votes for at most one candidate per term, across restarts
//
// The checker runs after every event, so it never walks a whole log. Every replica keeps a chained
// digest per entry (raft_types.h): equal digests at an index mean equal prefixes. The checker
// remembers, per replica position, how far it has looked (an index and the digest seen there), and
// cluster-wide the digests of committed indexes and the (term, digest) pairs seen at each index.
// Each call then costs O(replicas + entries appended or committed since the last call), plus the
// length of any suffix a replica truncated. Memory is bounded by a sliding window of indexes.
//
// Position i of the span must always hold the same node (nullptr while it is down). A replica seen
// at a new address or with a new recovered_at() is a new incarnation of that node.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocols/consensus.h"
#include "protocols/raft/raft_replica.h"
#include "protocols/raft/raft_types.h"

namespace lockstep::raft {

class RaftChecker final : public consensus::ClusterChecker {
 public:
  // How many consecutive indexes the cluster-wide tables remember at least (at most twice as many);
  // older ones are forgotten, and no longer compared, once the newest index seen is this far ahead.
  static constexpr std::uint64_t kIndexWindow = std::uint64_t{1} << 18;

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
    const RaftReplica* incarnation = nullptr;  // nullptr while down
    Nanos recovered_at;
    Term max_term;
    Term vote_term;
    std::optional<NodeId> vote;
    LogIndex commit;           // this incarnation's last commit index
    LogIndex log_checked;      // log_matching examined this replica's log through here...
    std::uint64_t log_checked_digest = kDigestSeed;  // ...where its digest was this
    // What the replica looked like at the last check; an unchanged replica is skipped.
    struct Fingerprint {
      Term term;
      std::optional<NodeId> vote;
      RaftRole role = RaftRole::follower;
      LogIndex commit;
      LogIndex snapshot;
      LogIndex last;
      std::uint64_t last_digest = 0;
      std::uint64_t watermark_version = 0;
      bool operator==(const Fingerprint&) const = default;
    };
    Fingerprint fingerprint;
    bool fingerprinted = false;  // `fingerprint` holds this incarnation's last check
    Term led_term;                  // election_safety already recorded it as leader of this term
    Term watermark_term;            // last (term, commit) passed to note_commit_watermark
    LogIndex watermark_commit;
    bool rebase = false;  // forget_unsynced: take max_term and the vote from the next incarnation
  };

  struct Slot {
    std::uint64_t committed_digest = 0;  // 0: no replica seen committing this index yet
    Term term;                           // first (term, digest) seen here; term 0 = none
    std::uint64_t digest = 0;
    std::vector<std::pair<Term, std::uint64_t>> more;  // other terms seen here (rare)
  };

  std::optional<consensus::Violation> check_replica(NodeState& ns, const RaftReplica& r);
  std::optional<consensus::Violation> check_commits(NodeState& ns, const RaftReplica& r);
  std::optional<consensus::Violation> check_log(NodeState& ns, const RaftReplica& r);
  std::optional<consensus::Violation> check_leader(NodeState& ns, const RaftReplica& r);

  // nullptr when i is 0 or has slid out of the window. Inline for the common case, an index
  // already in the window; grow() handles the rest.
  Slot* slot(LogIndex i) {
    if (i.value - slot_base_ < slots_.size()) return &slots_[i.value - slot_base_];
    return grow(i);
  }
  Slot* grow(LogIndex i);
  bool registered(LogIndex i, Term t, std::uint64_t digest);
  void note_commit_watermark(Term observer_term, LogIndex commit);

  std::vector<NodeState> nodes_;
  std::map<Term, NodeId> leaders_;  // election_safety: every leader ever seen, by term
  // leader_completeness: (term T, index C) = a replica at term T had committed through C, so every
  // leader of a term above T must hold entry C. Both coordinates strictly increase.
  std::map<Term, LogIndex> commit_watermarks_;
  std::uint64_t watermark_version_ = 0;  // bumped whenever commit_watermarks_ changes
  std::vector<Slot> slots_;  // slots_[k] describes index slot_base_ + k
  std::uint64_t slot_base_ = 1;
  std::optional<consensus::Violation> violation_;
};

std::unique_ptr<consensus::ClusterChecker> make_raft_checker();

}  // namespace lockstep::raft
