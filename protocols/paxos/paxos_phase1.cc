// Phase 1 and leadership: campaigns, prepare and promise, choosing what to re-propose (PMS §2.2
// P2c, §3), master-lease stickiness and the ballot boost (PML §5.2), leadership transfer.
#include <algorithm>

#include "core/assert.h"
#include "protocols/paxos/paxos_replica.h"

namespace lockstep::paxos {

// The smallest round above `above` that this node owns (PMS §2.5: disjoint sets of numbers).
std::uint64_t PaxosReplica::next_owned_round(std::uint64_t above) const {
  const auto it = std::lower_bound(members_.begin(), members_.end(), self_);
  LS_ASSERT(it != members_.end() && *it == self_);
  const std::uint64_t n = members_.size();
  const auto k = static_cast<std::uint64_t>(it - members_.begin());
  std::uint64_t r = above + 1;
  r += (k + n - r % n) % n;
  return r;
}

void PaxosReplica::campaign(Nanos now, Campaign kind) {
  LS_ASSERT(is_member(self_));
  // PMS §2.2, §2.5: a proposal number higher than any this proposer has seen or issued, recorded
  // before any Prepare leaves (sync_before_send), so it is never reused after a crash. Our own
  // acceptor promises it only when phase 1 succeeds (maybe_finish_phase1).
  ballot_ = Ballot{
      next_owned_round(std::max({promised_.round, max_round_seen_, issued_round_})), self_};
  issued_round_ = ballot_.round;
  note_round(ballot_);
  persist_issued_round();
  role_ = PaxosRole::candidate;
  leader_.reset();
  transfer_campaign_ = kind == Campaign::transfer;
  boosting_ = kind == Campaign::boost;
  peers_.clear();
  evidence_.reset();
  transfer_target_.reset();
  pending_reads_.clear();
  round_sent_at_.clear();
  promises_.clear();
  refusals_.clear();
  // PMS §3: one prepare for every slot not known to be chosen.
  phase1_first_ = commit_.next();
  phase1_needed_ = Slot{0};
  reset_election_timer(now);
  const Prepare prepare{ballot_, phase1_first_, transfer_campaign_};
  for (NodeId id : members_) {
    if (id != self_) send(id, prepare);
  }
  maybe_finish_phase1(now);  // a single-member cluster needs nobody else
}

// Master-lease stickiness (PML §5.2): while an acceptor believes a leader's lease holds, it
// promises no other proposer. The leader itself may always re-prepare (the ballot boost), and
// while it does, it still counts its own lease.
bool PaxosReplica::in_leader_lease(Nanos now, NodeId from) const {
  if (now < promise_quiet_until_) return true;
  if (!config_.master_lease) return false;
  if (role_ == PaxosRole::leader || boosting_) return true;
  if (!leader_ || *leader_ == from) return false;
  return last_heard_leader_at_ && now < *last_heard_leader_at_ + config_.election_timeout_min;
}

// Phase 1b (PMS §2.2): promise never to accept below m.ballot, and report what was accepted.
void PaxosReplica::handle(Nanos now, NodeId from, const Prepare& m) {
  note_round(m.ballot);
  if (m.ballot < promised_) {
    send(from, Nack{m.ballot, promised_, leader_, false});
    return;
  }
  if (m.ballot > promised_) {
    if (!m.transfer && in_leader_lease(now, from)) {
      send(from, Nack{m.ballot, promised_, boosting_ ? std::optional<NodeId>(self_) : leader_, true});
      return;
    }
    promised_ = m.ballot;
    persist_promise();  // synced before the promise leaves
    if (leader_ == from && role_ == PaxosRole::follower) {
      // Our leader boosting its ballot (PML §5.2): it is alive, so its lease still holds here and
      // keeps would-be challengers out while its new phase 1 runs.
      last_heard_leader_at_ = now;
      reset_election_timer(now);
    } else if (role_ != PaxosRole::candidate || m.ballot > ballot_) {
      // We follow no one now. A candidacy of ours above this ballot goes on: our acceptor will
      // promise that one too if it succeeds.
      become_follower(now, std::nullopt);
    }
  }
  // m.ballot == promised_ here: a new promise, or a duplicate prepare answered again.
  if (log_.snapshot_index() >= m.first) {
    // Slots the proposer asked about are compacted here: they are chosen, and the snapshot is the
    // only record of them. The proposer must install it before it may finish phase 1.
    send(from, SnapshotMessage{promised_, log_.snapshot_index(), log_.snapshot_data(), 0, false});
  }
  Promise p{m.ballot, m.first, commit_, log_.snapshot_index(), {}};
  for (Slot s = std::max(m.first, log_.first_slot()); s <= log_.last_slot(); s = s.next()) {
    if (!log_.holds(s)) continue;
    const Entry& e = log_.at(s);
    p.entries.push_back(PromisedEntry{s, e.ballot, Value{e.kind, e.data}});
  }
  send(from, p);
}

void PaxosReplica::handle(Nanos now, NodeId from, Promise& m) {
  if (role_ != PaxosRole::candidate || m.ballot != ballot_) return;  // stale
  for (const CollectedPromise& p : promises_) {
    if (p.from == from) return;  // duplicates count once
  }
  const bool plausible =
      m.first == phase1_first_ &&
      std::all_of(m.entries.begin(), m.entries.end(),
                  [&](const PromisedEntry& e) { return e.ballot <= m.ballot; });
  if (!plausible) {
    ++malformed_messages_;  // an acceptor cannot have accepted above what it just promised
    return;
  }
  if (m.snapshot >= phase1_first_) phase1_needed_ = std::max(phase1_needed_, m.snapshot);
  promises_.push_back(CollectedPromise{from, m.commit, std::move(m.entries)});
  maybe_finish_phase1(now);
}

void PaxosReplica::handle(Nanos now, NodeId from, const Nack& m) {
  note_round(m.promised);
  if (role_ == PaxosRole::follower || m.ballot != ballot_) return;  // stale
  if (role_ == PaxosRole::candidate) {
    if (m.promised > ballot_) {
      if (boosting_) {
        campaign(now, Campaign::boost);  // outbid while boosting: boost above that one too
      } else {
        become_follower(now, m.leader);  // a higher ballot is about: stand back (PMS §2.4)
      }
      return;
    }
    if (std::find(refusals_.begin(), refusals_.end(), from) == refusals_.end()) {
      refusals_.push_back(from);
    }
    // Refused by so many leases that no quorum is left: a live master holds them.
    if (refusals_.size() > members_.size() - quorum()) become_follower(now, m.leader);
    return;
  }
  if (m.promised <= ballot_) return;
  if (config_.ballot_boost) {
    // PML §5.2: a would-be challenger holds a higher ballot. Run phase 1 above it; acceptors that
    // follow us promise it, and if a quorum really follows someone else we fail and stand back.
    campaign(now, Campaign::boost);
  } else {
    become_follower(now, m.leader);  // deposed (PMS §2.4)
  }
}

void PaxosReplica::maybe_finish_phase1(Nanos now) {
  if (role_ != PaxosRole::candidate) return;
  if (promises_.size() + 1 < quorum()) return;  // with our own acceptor's promise
  if (commit_ < phase1_needed_) return;         // a promiser's snapshot has not arrived yet
  if (promised_ > ballot_) {
    become_follower(now, std::nullopt);  // our own acceptor promised a higher ballot meanwhile
    return;
  }
  promised_ = ballot_;  // our acceptor's promise, written before the accepts that follow
  persist_promise();
  become_leader(now);
}

namespace {

// The value to propose at one slot (PMS §2.2 P2c): one known chosen, else the one accepted in the
// highest ballot, else nothing (a no-op, PMS §3).
struct Pick {
  const Value* promised = nullptr;  // from a promise
  const Entry* own = nullptr;       // from our own log
  Ballot ballot;
  bool chosen = false;
  void offer(Ballot b, bool is_chosen, const Value* v, const Entry* e) {
    if (chosen) return;
    if (!is_chosen && (promised != nullptr || own != nullptr) && b <= ballot) return;
    promised = v;
    own = e;
    ballot = b;
    chosen = is_chosen;
  }
};

}  // namespace

void PaxosReplica::become_leader(Nanos now) {
  const Slot first = commit_.next();
  Slot last = log_.last_slot();
  for (const CollectedPromise& p : promises_) {
    if (!p.entries.empty()) last = std::max(last, p.entries.back().slot);
  }
  Phase1Evidence evidence{ballot_, first, last, {}, {}};
  PromiseReport own{self_, commit_, {}};
  for (Slot s = std::max(phase1_first_, log_.first_slot()); s <= log_.last_slot(); s = s.next()) {
    if (log_.holds(s)) own.accepted.push_back(Acceptance{s, log_.at(s).ballot, log_.at(s).digest});
  }
  evidence.reports.push_back(std::move(own));
  for (const CollectedPromise& p : promises_) {
    PromiseReport r{p.from, p.commit, {}};
    for (const PromisedEntry& e : p.entries) {
      r.accepted.push_back(Acceptance{e.slot, e.ballot, value_digest(e.value.kind, e.value.data)});
    }
    evidence.reports.push_back(std::move(r));
  }

  // Re-propose every slot from `first` to `last` in our ballot, merging the promises in slot order.
  std::vector<std::size_t> cursor(promises_.size(), 0);
  Slot chosen_through = commit_;
  for (Slot s = first; s <= last; s = s.next()) {
    Pick pick;
    if (log_.holds(s)) pick.offer(log_.at(s).ballot, false, nullptr, &log_.at(s));
    for (std::size_t k = 0; k < promises_.size(); ++k) {
      const auto& entries = promises_[k].entries;
      while (cursor[k] < entries.size() && entries[cursor[k]].slot < s) ++cursor[k];
      if (cursor[k] < entries.size() && entries[cursor[k]].slot == s) {
        const PromisedEntry& e = entries[cursor[k]];
        pick.offer(e.ballot, s <= promises_[k].commit, &e.value, nullptr);
      }
    }
    ValueKind kind = ValueKind::noop;
    Bytes data;
    if (pick.own != nullptr) {
      kind = pick.own->kind;
      data = pick.own->data;
    } else if (pick.promised != nullptr) {
      kind = pick.promised->kind;
      data = pick.promised->data;
    }
    log_.put(s, ballot_, kind, std::move(data));
    record_acceptance(s);
    evidence.proposed.push_back(log_.at(s).digest);
    if (pick.chosen && chosen_through.next() == s) chosen_through = s;
  }
  if (first <= last) persist_accepted(first, last);

  role_ = PaxosRole::leader;
  leader_ = self_;
  transfer_campaign_ = false;
  boosting_ = false;
  evidence_ = std::move(evidence);
  phase1_last_ = std::max(last, commit_);
  // Our own acceptances above the commit count only once handed to the host (take_output).
  durable_ = commit_;
  if (chosen_through > commit_) {
    commit_ = chosen_through;
    apply_committed();
  }
  durable_ = commit_;

  peers_.clear();
  peers_.reserve(members_.size());
  for (NodeId id : members_) {
    if (id == self_) continue;
    const auto promised = std::find_if(promises_.begin(), promises_.end(),
                                       [&](const CollectedPromise& p) { return p.from == id; });
    if (promised != promises_.end()) {
      // What it knows chosen needs no accept; everything above gets our ballot's values.
      peers_.emplace_back(id, std::min(promised->commit, log_.last_slot()),
                          config_.max_inflight_accepts);
      peers_.back().become_replicate();
    } else {
      peers_.emplace_back(id, Slot{0}, config_.max_inflight_accepts);
      peers_.back().next = first;  // probe from our first unchosen slot
    }
  }
  promises_.clear();
  refusals_.clear();
  transfer_target_.reset();
  pending_reads_.clear();
  round_sent_at_.clear();
  lease_expiry_ = Nanos::zero();
  lease_disabled_ = false;
  check_quorum_deadline_ = now + config_.election_timeout_min;
  broadcast_accepts(now);
  broadcast_heartbeat(now);  // every member learns of the new leader at once
  maybe_commit(now);
}

// ---- Leadership transfer -------------------------------------------------------------------------

consensus::ProposeResult PaxosReplica::transfer_leadership(Nanos now, NodeId target) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  if (role_ != PaxosRole::leader) return {consensus::Outcome::not_leader, leader_};
  if (target == self_) return {consensus::Outcome::accepted, leader_};
  if (!is_member(target)) return {consensus::Outcome::unsupported, leader_};
  // The target's prepare will waive the acceptors' leases, ours included: stop relying on it.
  transfer_target_ = target;
  transfer_deadline_ = now + config_.election_timeout_max;
  lease_disabled_ = true;
  lease_expiry_ = Nanos::zero();
  send(target, TimeoutNow{ballot_});
  return {consensus::Outcome::accepted, leader_};
}

void PaxosReplica::handle(Nanos now, NodeId from, const TimeoutNow& m) {
  // Phase 1 recovers whatever the target lacks, so it need not be caught up first.
  if (role_ != PaxosRole::follower || leader_ != from || m.ballot != promised_) return;
  if (!is_member(self_)) return;
  campaign(now, Campaign::transfer);
}

}  // namespace lockstep::paxos
