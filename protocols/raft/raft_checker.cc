#include "protocols/raft/raft_checker.h"

#include <algorithm>
#include <iterator>
#include <sstream>
#include <utility>

#include "core/assert.h"
#include "protocols/checker_support.h"

namespace lockstep::raft {

namespace {

constexpr const char* kElectionSafety = "election_safety";
constexpr const char* kLogMatching = "log_matching";
constexpr const char* kLeaderCompleteness = "leader_completeness";
constexpr const char* kStateMachineSafety = "state_machine_safety";
constexpr const char* kCommitMonotonic = "commit_index_monotonic";
constexpr const char* kTermMonotonic = "term_monotonic";
constexpr const char* kOneVotePerTerm = "one_vote_per_term";

using consensus::violation;

}  // namespace

std::vector<std::string> RaftChecker::properties() const {
  return {kElectionSafety,     kLogMatching,    kLeaderCompleteness, kStateMachineSafety,
          kCommitMonotonic,    kTermMonotonic,  kOneVotePerTerm};
}

std::optional<consensus::Violation> RaftChecker::check(
    std::span<const consensus::Replica* const> replicas, std::optional<std::size_t> changed) {
  if (violation_) return violation_;
  if (nodes_.size() < replicas.size()) nodes_.resize(replicas.size());
  // The cluster-wide tables already hold what the other replicas showed at their last change.
  const std::size_t first = changed.value_or(0);
  const std::size_t end = changed ? std::min(*changed + 1, replicas.size()) : replicas.size();
  for (std::size_t i = first; i < end; ++i) {
    NodeState& ns = nodes_[i];
    if (replicas[i] == nullptr) {
      ns.incarnation = nullptr;  // down: whatever runs here next is a new incarnation
      continue;
    }
    // The downcast is verified once per incarnation, not on every step.
    const RaftReplica* r = ns.incarnation;
    if (r == nullptr || static_cast<const consensus::Replica*>(r) != replicas[i]) {
      r = dynamic_cast<const RaftReplica*>(replicas[i]);
      LS_ASSERT_MSG(r != nullptr, "the Raft checker was handed a replica that is not a RaftReplica");
    }
    if (auto v = check_replica(ns, *r)) {
      violation_ = std::move(v);
      return violation_;
    }
  }
  return std::nullopt;
}

std::optional<consensus::Violation> RaftChecker::check_replica(NodeState& ns,
                                                               const RaftReplica& r) {
  if (ns.seen) {
    LS_ASSERT_MSG(ns.id == r.id(), "each position of the checked span must hold one node");
  }
  ns.seen = true;
  ns.id = r.id();
  if (ns.incarnation != &r || ns.recovered_at != r.recovered_at()) {
    ns.incarnation = &r;
    ns.recovered_at = r.recovered_at();
    ns.commit = LogIndex{0};
    ns.fingerprinted = false;
    if (ns.rebase) {
      // Its last crash cut a sync short: a term or vote it held only in memory never reached
      // anyone (its messages waited for that sync), so it may legitimately be gone.
      ns.rebase = false;
      ns.max_term = r.term();
      ns.vote_term = r.term();
      ns.vote = r.voted_for();
    }
  }
  // Most steps change one replica: the others are skipped after a comparison. A replica's log can
  // only change with its last (index, digest) or snapshot index changing, since digests chain.
  const RaftLog& log = r.log();
  const NodeState::Fingerprint now{r.term(),       r.voted_for(),          r.role(),
                                   r.commit_index(), log.snapshot_index(), log.last_index(),
                                   log.last_digest(), watermark_version_};
  if (ns.fingerprinted && ns.fingerprint == now) return std::nullopt;

  if (r.term() < ns.max_term) {
    return violation(kTermMonotonic, r.id(), " is at term ", r.term().value,
                     " after having reached term ", ns.max_term.value);
  }
  ns.max_term = r.term();

  if (r.voted_for()) {
    if (ns.vote && ns.vote_term == r.term() && *ns.vote != *r.voted_for()) {
      return violation(kOneVotePerTerm, r.id(), " voted for ", *ns.vote, " and then for ",
                       *r.voted_for(), " in term ", r.term().value);
    }
    ns.vote_term = r.term();
    ns.vote = r.voted_for();
  }

  if (auto v = check_commits(ns, r)) return v;
  if (auto v = check_log(ns, r)) return v;
  if (auto v = check_leader(ns, r)) return v;
  ns.fingerprint = now;
  ns.fingerprint.watermark_version = watermark_version_;  // our own commit may have bumped it
  ns.fingerprinted = true;
  return std::nullopt;
}

// state_machine_safety and commit_index_monotonic.
std::optional<consensus::Violation> RaftChecker::check_commits(NodeState& ns,
                                                               const RaftReplica& r) {
  const RaftLog& log = r.log();
  const LogIndex commit = r.commit_index();
  if (commit < ns.commit) {
    return violation(kCommitMonotonic, r.id(), " commit index went from ", ns.commit.value,
                     " back to ", commit.value);
  }
  // A committed entry never changes: the prefix through the old commit point is still the same.
  if (ns.commit >= log.snapshot_index() && ns.commit > LogIndex{0}) {
    const Slot* s = slot(ns.commit);
    const auto d = log.digest_at(ns.commit);
    if (s && s->committed_digest != 0 && (!d || *d != s->committed_digest)) {
      return violation(kStateMachineSafety, r.id(), " changed its committed entry at index ",
                       ns.commit.value);
    }
  }
  for (LogIndex i = std::max({ns.commit.next(), log.snapshot_index(), LogIndex{1}}); i <= commit;
       i = i.next()) {
    Slot* s = slot(i);
    const auto d = log.digest_at(i);
    LS_ASSERT(d.has_value());
    if (!s) continue;
    if (s->committed_digest == 0) {
      s->committed_digest = *d;
    } else if (s->committed_digest != *d) {
      return violation(kStateMachineSafety, r.id(), " committed index ", i.value, " (term ",
                       log.term_at(i).value_or(Term{0}).value,
                       ") with a log prefix that differs from another replica's committed prefix");
    }
  }
  ns.commit = commit;
  if (commit != ns.watermark_commit || r.term() != ns.watermark_term) {
    ns.watermark_commit = commit;
    ns.watermark_term = r.term();
    note_commit_watermark(r.term(), commit);
  }
  return std::nullopt;
}

// log_matching: every (index, term) seen anywhere names one prefix.
std::optional<consensus::Violation> RaftChecker::check_log(NodeState& ns, const RaftReplica& r) {
  const RaftLog& log = r.log();
  const LogIndex snap = log.snapshot_index();
  const LogIndex last = log.last_index();
  LogIndex from = ns.log_checked;
  const auto d = log.digest_at(from);
  if (!d || *d != ns.log_checked_digest) {
    // The log changed below what was examined (a truncated suffix, a restart, a snapshot): walk
    // back to the last index whose entry is already registered, and examine from there.
    from = std::max(std::min(from, last), snap);
    while (from > snap && !registered(from, *log.term_at(from), *log.digest_at(from))) {
      from = from.prev();
    }
  }
  for (LogIndex i = from.next(); i <= last; i = i.next()) {
    Slot* s = slot(i);
    if (!s) continue;
    const EntryView e = log.at(i);
    if (s->term == Term{0}) {
      s->term = e.term;
      s->digest = e.digest;
      continue;
    }
    const std::uint64_t* seen = s->term == e.term ? &s->digest : nullptr;
    for (auto& [t, dg] : s->more) {
      if (t == e.term) seen = &dg;
    }
    if (!seen) {
      s->more.emplace_back(e.term, e.digest);
    } else if (*seen != e.digest) {
      return violation(kLogMatching, r.id(), " holds index ", i.value, " term ", e.term.value,
                       " with a different log prefix than another replica holding the same "
                       "index and term");
    }
  }
  ns.log_checked = last;
  ns.log_checked_digest = log.last_digest();
  return std::nullopt;
}

// election_safety and leader_completeness.
std::optional<consensus::Violation> RaftChecker::check_leader(NodeState& ns,
                                                              const RaftReplica& r) {
  if (r.role() != RaftRole::leader) return std::nullopt;
  if (ns.led_term != r.term()) {
    const auto [it, inserted] = leaders_.emplace(r.term(), r.id());
    if (!inserted && it->second != r.id()) {
      return violation(kElectionSafety, it->second, " and ", r.id(),
                       " were both leader in term ", r.term().value);
    }
    ns.led_term = r.term();
  }
  auto w = commit_watermarks_.lower_bound(r.term());
  if (w == commit_watermarks_.begin()) return std::nullopt;
  const LogIndex required = std::prev(w)->second;  // committed by a replica at an earlier term
  const RaftLog& log = r.log();
  if (log.last_index() < required) {
    return violation(kLeaderCompleteness, r.id(), " leads term ", r.term().value,
                     " with last index ", log.last_index().value, " but index ", required.value,
                     " was committed in an earlier term");
  }
  if (required >= log.snapshot_index()) {
    const Slot* s = slot(required);
    if (s && s->committed_digest != 0 && log.digest_at(required) != s->committed_digest) {
      return violation(kLeaderCompleteness, r.id(), " leads term ", r.term().value,
                       " without the entry committed at index ", required.value);
    }
  }
  return std::nullopt;
}

void RaftChecker::forget_unsynced(std::size_t position) {
  if (nodes_.size() <= position) nodes_.resize(position + 1);
  nodes_[position].rebase = true;
}

RaftChecker::Slot* RaftChecker::grow(LogIndex i) {
  return consensus::window_slot(slots_, slot_base_, i.value, kIndexWindow);
}

bool RaftChecker::registered(LogIndex i, Term t, std::uint64_t digest) {
  if (i.value < slot_base_) return true;  // forgotten: treat as examined
  if (i.value >= slot_base_ + slots_.size()) return false;
  const Slot& s = slots_[i.value - slot_base_];
  if (s.term == t) return s.digest == digest;
  for (const auto& [mt, md] : s.more) {
    if (mt == t) return md == digest;
  }
  return false;
}

void RaftChecker::note_commit_watermark(Term observer_term, LogIndex commit) {
  if (commit == LogIndex{0}) return;
  if (!commit_watermarks_.empty()) {
    // The usual case, a commit advancing in the latest term seen: the last watermark moves up,
    // and none after it can be dominated (it is the last).
    auto& [last_term, last_commit] = *commit_watermarks_.rbegin();
    if (observer_term == last_term) {
      if (commit <= last_commit) return;
      last_commit = commit;
      ++watermark_version_;
      return;
    }
  }
  auto after = commit_watermarks_.upper_bound(observer_term);
  if (after != commit_watermarks_.begin() && std::prev(after)->second >= commit) return;
  commit_watermarks_[observer_term] = commit;
  ++watermark_version_;
  after = commit_watermarks_.upper_bound(observer_term);
  while (after != commit_watermarks_.end() && after->second <= commit) {
    after = commit_watermarks_.erase(after);
  }
}

std::unique_ptr<consensus::ClusterChecker> make_raft_checker() {
  return std::make_unique<RaftChecker>();
}

}  // namespace lockstep::raft
