#include "protocols/paxos/paxos_checker.h"

#include <algorithm>
#include <bit>
#include <sstream>
#include <utility>

#include "core/assert.h"
#include "protocols/checker_support.h"

namespace lockstep::paxos {

namespace {

constexpr const char* kOneValueChosen = "one_value_chosen";
constexpr const char* kOneProposalPerBallot = "one_proposal_per_ballot";
constexpr const char* kAcceptRespectsPromise = "accept_respects_promise";
constexpr const char* kPromiseMonotonic = "promise_monotonic";
constexpr const char* kProposalRespectsPromises = "proposal_respects_promises";
constexpr const char* kLearnedValueChosen = "learned_value_chosen";
constexpr const char* kChosenPrefixAgreement = "chosen_prefix_agreement";

using consensus::violation;

std::string hex(std::uint64_t digest) {
  std::ostringstream out;
  out << std::hex << digest;
  return out.str();
}

}  // namespace

std::vector<std::string> PaxosChecker::properties() const {
  return {kOneValueChosen,           kOneProposalPerBallot, kAcceptRespectsPromise,
          kPromiseMonotonic,         kProposalRespectsPromises, kLearnedValueChosen,
          kChosenPrefixAgreement};
}

std::optional<consensus::Violation> PaxosChecker::check(
    std::span<const consensus::Replica* const> replicas, std::optional<std::size_t> changed) {
  if (violation_) return violation_;
  LS_ASSERT_LE(replicas.size(), kNodesMax);
  if (nodes_.size() < replicas.size()) nodes_.resize(replicas.size());
  const std::size_t first = changed.value_or(0);
  const std::size_t end = changed ? std::min(*changed + 1, replicas.size()) : replicas.size();
  for (std::size_t i = first; i < end; ++i) {
    NodeState& ns = nodes_[i];
    if (replicas[i] == nullptr) {
      ns.incarnation = nullptr;  // down: whatever runs here next is a new incarnation
      continue;
    }
    const PaxosReplica* r = ns.incarnation;
    if (r == nullptr || static_cast<const consensus::Replica*>(r) != replicas[i]) {
      r = dynamic_cast<const PaxosReplica*>(replicas[i]);
      LS_ASSERT_MSG(r != nullptr, "the Paxos checker was handed a replica that is not a PaxosReplica");
    }
    if (auto v = check_replica(i, *r)) {
      violation_ = std::move(v);
      return violation_;
    }
  }
  return std::nullopt;
}

std::optional<consensus::Violation> PaxosChecker::check_replica(std::size_t position,
                                                                const PaxosReplica& r) {
  NodeState& ns = nodes_[position];
  if (ns.seen) {
    LS_ASSERT_MSG(ns.id == r.id(), "each position of the checked span must hold one node");
  }
  ns.seen = true;
  ns.id = r.id();
  quorum_ = r.quorum();
  if (ns.incarnation != &r || ns.recovered_at != r.recovered_at()) {
    if (ns.rebase) {
      roll_back(position, r);
      ns.rebase = false;
      ns.max_promise = r.promised();
    }
    ns.incarnation = &r;
    ns.recovered_at = r.recovered_at();
    ns.journal_cursor = 0;
    ns.recent.clear();
    ns.recent_end = 0;
    ns.commit = Slot{0};
    ns.verified_ballot = Ballot{};
    ns.fingerprint.reset();
  }
  const NodeState::Fingerprint now{r.promised(),        r.journal_end(), r.commit_index(),
                                   r.log().snapshot_index(), r.role(),  r.ballot()};
  if (ns.fingerprint == now) return std::nullopt;

  // Acceptances first, against the promise held before this step.
  if (auto v = check_acceptances(position, r)) return v;
  if (r.promised() < ns.max_promise) {
    return violation(kPromiseMonotonic, r.id(), " promised ", r.promised(), " after having promised ",
                     ns.max_promise);
  }
  ns.max_promise = r.promised();

  if (const Phase1Evidence* ev = r.phase1_evidence(); ev && ns.verified_ballot != ev->ballot) {
    ns.verified_ballot = ev->ballot;
    if (auto problem = check_phase1_choice(*ev, r.quorum())) {
      return violation(kProposalRespectsPromises, r.id(), " leading in ", ev->ballot, ": ",
                       *problem);
    }
  }
  if (auto v = check_commits(position, r)) return v;
  ns.fingerprint = now;
  return std::nullopt;
}

// accept_respects_promise, one_proposal_per_ballot and one_value_chosen, over the acceptances the
// replica made since the last call.
std::optional<consensus::Violation> PaxosChecker::check_acceptances(std::size_t position,
                                                                    const PaxosReplica& r) {
  NodeState& ns = nodes_[position];
  if (ns.journal_cursor < r.journal_begin()) {
    // More acceptances in one step than the journal keeps: what the log holds now was accepted
    // (in some order the checker no longer knows, so the promise is not compared).
    for (Slot s = r.log().first_slot(); s <= r.log().last_slot(); s = s.next()) {
      if (!r.log().holds(s)) continue;
      const Entry& e = r.log().at(s);
      if (auto v = register_acceptance(position, r.id(), Acceptance{s, e.ballot, e.digest},
                                       r.quorum())) {
        return v;
      }
    }
    ns.journal_cursor = r.journal_end();
  }
  if (ns.recent.size() < kRecentKept) ns.recent.resize(kRecentKept);
  for (; ns.journal_cursor < r.journal_end(); ++ns.journal_cursor) {
    const Acceptance& a = r.acceptance(ns.journal_cursor);
    if (a.ballot < ns.max_promise) {
      return violation(kAcceptRespectsPromise, r.id(), " accepted slot ", a.slot.value, " in ",
                       a.ballot, " after promising ", ns.max_promise);
    }
    if (auto v = register_acceptance(position, r.id(), a, r.quorum())) return v;
    ns.recent[ns.recent_end % kRecentKept] = a;
    ++ns.recent_end;
  }
  return std::nullopt;
}

std::optional<consensus::Violation> PaxosChecker::register_acceptance(std::size_t position,
                                                                      NodeId id,
                                                                      const Acceptance& a,
                                                                      std::size_t quorum) {
  SlotInfo* info = slot(a.slot);
  if (info == nullptr) return std::nullopt;
  Accepts* found = nullptr;
  for (Accepts& acc : info->accepts) {
    if (acc.ballot == a.ballot) found = &acc;
  }
  if (found == nullptr) {
    info->accepts.push_back(Accepts{a.ballot, a.digest, 0});
    found = &info->accepts.back();
  } else if (found->digest != a.digest) {
    return violation(kOneProposalPerBallot, id, " accepted value ", hex(a.digest), " at slot ",
                     a.slot.value, " in ", a.ballot, ", where another acceptor accepted ",
                     hex(found->digest));
  }
  found->acceptors |= std::uint64_t{1} << position;
  if (static_cast<std::size_t>(std::popcount(found->acceptors)) < quorum) return std::nullopt;
  if (info->chosen == 0) {
    info->chosen = a.digest;
    if (info->committed != 0 && info->committed != a.digest) {
      return violation(kLearnedValueChosen, "slot ", a.slot.value, " was committed with value ",
                       hex(info->committed), " but a majority accepted ", hex(a.digest), " in ",
                       a.ballot);
    }
  } else if (info->chosen != a.digest) {
    return violation(kOneValueChosen, "slot ", a.slot.value, ": value ", hex(a.digest),
                     " reached a majority in ", a.ballot, " (completed by ", id,
                     ") after value ", hex(info->chosen), " had been chosen");
  }
  return std::nullopt;
}

// learned_value_chosen and chosen_prefix_agreement, over the slots the commit index passed.
std::optional<consensus::Violation> PaxosChecker::check_commits(std::size_t position,
                                                                const PaxosReplica& r) {
  NodeState& ns = nodes_[position];
  const PaxosLog& log = r.log();
  // A committed slot never changes: it still holds what was committed.
  if (ns.commit > log.snapshot_index()) {
    const SlotInfo* info = slot(ns.commit);
    if (info && info->committed != 0 && log.at(ns.commit).digest != info->committed) {
      return violation(kChosenPrefixAgreement, r.id(), " changed its committed slot ",
                       ns.commit.value);
    }
  }
  for (Slot s = std::max(ns.commit, log.snapshot_index()).next(); s <= r.commit_index();
       s = s.next()) {
    SlotInfo* info = slot(s);
    if (info == nullptr) continue;
    const std::uint64_t d = log.at(s).digest;
    if (info->chosen != 0 && info->chosen != d) {
      return violation(kLearnedValueChosen, r.id(), " committed value ", hex(d), " at slot ",
                       s.value, " where value ", hex(info->chosen), " was chosen");
    }
    if (info->committed != 0 && info->committed != d) {
      return violation(kChosenPrefixAgreement, r.id(), " committed value ", hex(d), " at slot ",
                       s.value, " where another replica committed ", hex(info->committed));
    }
    info->committed = d;
    info->committed_by |= std::uint64_t{1} << position;
  }
  ns.commit = std::max(ns.commit, r.commit_index());
  return std::nullopt;
}

std::optional<std::string> PaxosChecker::check_phase1_choice(const Phase1Evidence& ev,
                                                             std::size_t quorum) {
  std::vector<NodeId> from;
  for (const PromiseReport& r : ev.reports) from.push_back(r.from);
  std::sort(from.begin(), from.end());
  if (std::unique(from.begin(), from.end()) != from.end() || from.size() < quorum) {
    return "promises from " + std::to_string(ev.reports.size()) +
           " reports, not from a quorum of distinct acceptors";
  }
  const std::uint64_t span = ev.last >= ev.first ? ev.last.value - ev.first.value + 1 : 0;
  if (ev.proposed.size() != span) return "the proposals do not cover the slots re-proposed";
  for (const PromiseReport& r : ev.reports) {
    if (!r.accepted.empty() && r.accepted.back().slot > ev.last) {
      return "slot " + std::to_string(r.accepted.back().slot.value) + " reported by n" +
             std::to_string(r.from.value) + " is above the last slot re-proposed";
    }
  }
  const std::uint64_t noop = value_digest(ValueKind::noop, {});
  std::vector<std::size_t> cursor(ev.reports.size(), 0);
  for (std::uint64_t k = 0; k < span; ++k) {
    const Slot s = ev.first + k;
    std::uint64_t expected = noop;
    Ballot best;
    bool chosen = false;
    for (std::size_t j = 0; j < ev.reports.size(); ++j) {
      const auto& acc = ev.reports[j].accepted;
      while (cursor[j] < acc.size() && acc[cursor[j]].slot < s) ++cursor[j];
      if (cursor[j] == acc.size() || acc[cursor[j]].slot != s || chosen) continue;
      const Acceptance& a = acc[cursor[j]];
      if (s <= ev.reports[j].commit) {
        expected = a.digest;
        chosen = true;
      } else if (a.ballot > best) {
        best = a.ballot;
        expected = a.digest;
      }
    }
    if (ev.proposed[k] != expected) {
      return "slot " + std::to_string(s.value) + " proposed value " + hex(ev.proposed[k]) +
             " but the promises call for " + hex(expected) +
             (chosen ? " (known chosen)" : best.is_zero() ? " (a no-op)" : " (highest ballot)");
    }
  }
  return std::nullopt;
}

void PaxosChecker::forget_unsynced(std::size_t position) {
  if (nodes_.size() <= position) nodes_.resize(position + 1);
  nodes_[position].rebase = true;
}

// See the header: take back the previous incarnation's acceptances that did not survive, and
// whatever it had committed in memory.
void PaxosChecker::roll_back(std::size_t position, const PaxosReplica& r) {
  NodeState& ns = nodes_[position];
  const PaxosLog& log = r.log();
  const auto survived = [&](const Acceptance& a) {
    return a.slot <= log.snapshot_index() ||
           (log.holds(a.slot) && log.at(a.slot).ballot == a.ballot &&
            log.at(a.slot).digest == a.digest);
  };
  const std::uint64_t begin = ns.recent_end > kRecentKept ? ns.recent_end - kRecentKept : 0;
  std::uint64_t durable_end = begin;
  for (std::uint64_t seq = begin; seq < ns.recent_end; ++seq) {
    if (survived(ns.recent[seq % kRecentKept])) durable_end = seq + 1;
  }
  const std::uint64_t bit = std::uint64_t{1} << position;
  for (std::uint64_t seq = durable_end; seq < ns.recent_end; ++seq) {
    const Acceptance& a = ns.recent[seq % kRecentKept];
    SlotInfo* info = slot(a.slot);
    if (info == nullptr) continue;
    for (Accepts& acc : info->accepts) {
      if (acc.ballot == a.ballot) acc.acceptors &= ~bit;
    }
    if (info->chosen == 0) continue;
    const bool still = std::any_of(info->accepts.begin(), info->accepts.end(), [&](const Accepts& acc) {
      return acc.digest == info->chosen &&
             static_cast<std::size_t>(std::popcount(acc.acceptors)) >= quorum_;
    });
    if (!still) info->chosen = 0;
  }
  for (SlotInfo& info : slots_) {
    if ((info.committed_by & bit) == 0) continue;
    info.committed_by &= ~bit;
    if (info.committed_by == 0) info.committed = 0;
  }
}

PaxosChecker::SlotInfo* PaxosChecker::slot(Slot s) {
  return consensus::window_slot(slots_, slot_base_, s.value, kSlotWindow);
}

std::unique_ptr<consensus::ClusterChecker> make_paxos_checker() {
  return std::make_unique<PaxosChecker>();
}

}  // namespace lockstep::paxos
