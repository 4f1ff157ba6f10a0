// Multi-Paxos's safety properties, checked on a whole cluster after every simulated step.
//
//   one_value_chosen             at most one value is ever chosen per slot (PMS §2.1): the checker
//                                records a value as chosen when a majority of acceptors has
//                                accepted it in one ballot — over time, not necessarily at once —
//                                and reports a second, different value reaching a majority
//   one_proposal_per_ballot      all acceptances of one (slot, ballot) carry the same value (PMS
//                                §2.2: a proposal is a number and one value)
//   accept_respects_promise      an acceptor never accepts below a ballot it promised (PMS §2.2
//                                P1a)
//   promise_monotonic            an acceptor's promised ballot never decreases, across restarts
//                                too (PMS §2.5: it is in stable storage)
//   proposal_respects_promises   a new leader's phase-2 value for every slot is the one known
//                                chosen, else the one of the highest ballot among the promises it
//                                collected, else a no-op (PMS §2.2 P2c, §3); and it re-proposes
//                                every slot any promise reported
//   learned_value_chosen         a value a learner takes as chosen (its commit index covers the
//                                slot) is the value the checker saw chosen there (PMS §2.3)
//   chosen_prefix_agreement      replicas that committed a slot committed the same value, and a
//                                committed slot never changes
//
// Cost: each call looks only at what the changed replica did since the last call — the
// acceptances its journal (PaxosReplica::acceptance) recorded and the slots its commit index
// passed — so memory and time stay proportional to the traffic, in a sliding window of slots.
//
// forget_unsynced: a crash that cut a sync short may lose acceptances the replica had made in
// memory; none of them was reported to anyone (messages wait for the sync), so they never counted
// toward anything chosen. The checker then removes from its record of that node every acceptance
// made after the last one the new incarnation still holds (records survive as a prefix, so
// everything before that one was durable), takes back slots chosen only thanks to them, forgets
// what that node committed in memory, and restarts promise_monotonic from the recovered promise.
//
// Position i of the span must always hold the same node (nullptr while it is down). A replica seen
// at a new address or with a new recovered_at() is a new incarnation of that node.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocols/consensus.h"
#include "protocols/paxos/paxos_replica.h"
#include "protocols/paxos/paxos_types.h"

namespace lockstep::paxos {

class PaxosChecker final : public consensus::ClusterChecker {
 public:
  // How many consecutive slots the cluster-wide table remembers at least (at most twice as many);
  // older ones are forgotten, and no longer compared, once the newest slot seen is this far ahead.
  static constexpr std::uint64_t kSlotWindow = std::uint64_t{1} << 18;
  // Per node, the latest acceptances remembered for forget_unsynced.
  static constexpr std::size_t kRecentKept = 1 << 14;
  static constexpr std::size_t kNodesMax = 64;  // acceptors are bits of a 64-bit mask

  std::vector<std::string> properties() const override;
  // Returns the first violation found; once one is found it is returned on every later call.
  using consensus::ClusterChecker::check;
  std::optional<consensus::Violation> check(std::span<const consensus::Replica* const> replicas,
                                            std::optional<std::size_t> changed) override;
  void forget_unsynced(std::size_t position) override;

  // proposal_respects_promises on its own: what is wrong with a leader's choice of values given
  // the promises it collected, or nullopt. `quorum` is the size of a majority.
  static std::optional<std::string> check_phase1_choice(const Phase1Evidence& evidence,
                                                        std::size_t quorum);

 private:
  struct Accepts {
    Ballot ballot;
    std::uint64_t digest = 0;
    std::uint64_t acceptors = 0;  // bit i: the node at position i accepted it
  };
  struct SlotInfo {
    std::uint64_t chosen = 0;     // digest of the value chosen; 0 = none seen yet
    std::uint64_t committed = 0;  // digest learners committed; 0 = none
    std::uint64_t committed_by = 0;
    std::vector<Accepts> accepts;
  };
  struct NodeState {
    bool seen = false;
    NodeId id;
    const PaxosReplica* incarnation = nullptr;  // nullptr while down
    Nanos recovered_at;
    Ballot max_promise;
    std::uint64_t journal_cursor = 0;
    Slot commit;
    Ballot verified_ballot;  // proposal_respects_promises already checked for this leadership
    bool rebase = false;     // forget_unsynced: roll back with the next incarnation
    std::vector<Acceptance> recent;  // ring of this incarnation's latest acceptances
    std::uint64_t recent_end = 0;
    struct Fingerprint {
      Ballot promised;
      std::uint64_t journal_end = 0;
      Slot commit;
      Slot snapshot;
      PaxosRole role = PaxosRole::follower;
      Ballot ballot;
      bool operator==(const Fingerprint&) const = default;
    };
    std::optional<Fingerprint> fingerprint;
  };

  std::optional<consensus::Violation> check_replica(std::size_t position, const PaxosReplica& r);
  std::optional<consensus::Violation> check_acceptances(std::size_t position,
                                                        const PaxosReplica& r);
  std::optional<consensus::Violation> check_commits(std::size_t position, const PaxosReplica& r);
  std::optional<consensus::Violation> register_acceptance(std::size_t position, NodeId id,
                                                          const Acceptance& a,
                                                          std::size_t quorum);
  void roll_back(std::size_t position, const PaxosReplica& r);

  SlotInfo* slot(Slot s);  // nullptr when s is 0 or has slid out of the window

  std::vector<NodeState> nodes_;
  std::vector<SlotInfo> slots_;  // slots_[k] describes slot slot_base_ + k
  std::uint64_t slot_base_ = 1;
  std::size_t quorum_ = 1;  // a majority of the members, as the replicas report it
  std::optional<consensus::Violation> violation_;
};

std::unique_ptr<consensus::ClusterChecker> make_paxos_checker();

}  // namespace lockstep::paxos
