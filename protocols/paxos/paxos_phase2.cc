// Phase 2 and learning (PMS §2.2, §2.3, §3): proposing, pipelined and batched accepts, counting
// acceptances, telling learners what is chosen, catching followers up with values or a snapshot;
// and the acceptor's and learner's side of all that.
#include <algorithm>
#include <functional>

#include "core/assert.h"
#include "protocols/paxos/paxos_replica.h"

namespace lockstep::paxos {

// ---- Leader: proposing and sending ----------------------------------------------------------------

consensus::ProposeResult PaxosReplica::propose(Nanos now, ByteView command) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  if (role_ != PaxosRole::leader) return {consensus::Outcome::not_leader, leader_};
  if (transfer_target_) return {consensus::Outcome::busy, leader_};
  if (log_.last_slot().value - commit_.value >= config_.max_unchosen_slots) {
    return {consensus::Outcome::busy, leader_};
  }
  const Slot s = log_.last_slot().next();
  log_.put(s, ballot_, ValueKind::command, Bytes(command.begin(), command.end()));
  record_acceptance(s);  // the leader is one of the acceptors
  persist_accepted(s, s);
  // The accepts leave with the step's output (take_output): several proposals in one step, as a
  // host makes when it gathers requests while its disk is busy, go out as one batch per acceptor.
  accepts_due_ = true;
  return {consensus::Outcome::accepted, leader_};
}

void PaxosReplica::broadcast_accepts(Nanos now) {
  for (Progress& pr : peers_) send_accepts(now, pr, false);
}

// Sends what flow control allows: one probe, or batches until the pipeline is full. Falls back to
// a snapshot when the follower's next slot was compacted here.
void PaxosReplica::send_accepts(Nanos now, Progress& pr, bool allow_empty) {
  while (!pr.paused(config_.max_inflight_bytes)) {
    if (pr.next <= log_.snapshot_index()) {
      send_snapshot(now, pr);
      return;
    }
    const Slot last = log_.last_slot();
    std::size_t count = 0;
    std::size_t bytes = 0;
    for (Slot s = pr.next; s <= last && count < config_.max_slots_per_accept; s = s.next()) {
      const std::size_t size = wire_size(log_.at(s));
      if (count > 0 && bytes + size > config_.max_accept_bytes) break;
      bytes += size;
      ++count;
    }
    if (count == 0 && !allow_empty) return;
    const EncodedAccept accept{ballot_, pr.next, count, commit_, round_, out_.messages.size()};
    if (last_accept_ && last_accept_->same(accept)) {
      out_.messages.add_copy(pr.id, last_accept_->message);
    } else {
      const auto begin = log_.iterator_at(pr.next);
      encode_accept_to(out_.messages.open(pr.id), ballot_, pr.next, commit_, round_, begin,
                       begin + static_cast<std::ptrdiff_t>(count));
      out_.messages.close();
      last_accept_ = accept;
    }
    allow_empty = false;
    if (pr.state == Progress::State::probe) {
      pr.probe_sent = true;
    } else if (count > 0) {
      pr.next = pr.next + count;
      pr.add_inflight(pr.next.prev(), bytes);
    }
    if (pr.state != Progress::State::replicate || pr.next > last) return;
  }
}

void PaxosReplica::send_snapshot(Nanos now, Progress& pr) {
  send(pr.id, SnapshotMessage{ballot_, log_.snapshot_index(), log_.snapshot_data(), round_, true});
  pr.become_snapshot(log_.snapshot_index(), now);
}

// ---- Leader: counting -----------------------------------------------------------------------------

// The highest slot through which a quorum holds our ballot's values (or knows them chosen). Our
// own acceptances count once handed to the host (durable_).
Slot PaxosReplica::quorum_match() {
  scratch_.clear();
  scratch_.push_back(durable_.value);
  for (const Progress& pr : peers_) scratch_.push_back(pr.match.value);
  if (scratch_.size() < quorum()) return Slot{0};
  std::nth_element(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(quorum() - 1),
                   scratch_.end(), std::greater<>());
  return Slot{scratch_[quorum() - 1]};
}

// PMS §2.2: a value is chosen once a majority of acceptors has accepted it. Every slot through the
// quorum's match holds our value at a majority, in our ballot, or is known chosen.
void PaxosReplica::maybe_commit(Nanos now) {
  if (role_ != PaxosRole::leader) return;
  const Slot n = quorum_match();
  if (n <= commit_) return;
  LS_ASSERT_LE(n, log_.last_slot());
  const bool was_ready = ready_for_reads();
  commit_ = n;
  if (!was_ready && ready_for_reads()) {
    // Reads that waited for our phase-1 proposals to be chosen read at this commit.
    for (PendingRead& r : pending_reads_) {
      if (!r.index) r.index = commit_;
    }
  }
  apply_committed();
  advance_reads(now);
}

// ---- Leader: answers ------------------------------------------------------------------------------

void PaxosReplica::handle(Nanos now, NodeId from, const Accepted& m) {
  if (role_ != PaxosRole::leader || m.ballot != ballot_) return;
  Progress* pr = find_progress(from);
  if (pr == nullptr) return;
  if (m.match > log_.last_slot()) {
    ++malformed_messages_;  // acknowledges slots we never proposed
    return;
  }
  pr->recent_active = true;
  if (m.first == Slot{0}) {
    // A heartbeat's or a snapshot's answer.
    pr->maybe_update(m.match);
    switch (pr->state) {
      case Progress::State::probe: pr->probe_sent = false; break;
      case Progress::State::replicate:
        // An accept may have been lost: free a slot so the pipeline cannot stall for good.
        if (pr->inflight_full(config_.max_inflight_bytes)) pr->free_first();
        break;
      case Progress::State::snapshot:
        if (pr->match >= pr->pending_snapshot) {
          pr->become_replicate();
        } else if (now - pr->snapshot_sent_at >= config_.election_timeout_max) {
          pr->become_probe();  // the snapshot was lost: start over
        }
        break;
    }
    maybe_commit(now);
    if (role_ != PaxosRole::leader) return;
    // Behind: resend. In replicate state `next` may already be past the end because accepts were
    // lost; an empty accept at `next` then draws the decline that rewinds it.
    if (pr->match < log_.last_slot()) send_accepts(now, *pr, true);
  } else if (!m.accepted || m.first > m.match.next()) {
    // A batch below this one was lost (or this one declined): resend from the follower's match.
    pr->maybe_update(m.match);
    maybe_commit(now);
    if (role_ != PaxosRole::leader) return;
    if (pr->maybe_rewind(m.first)) send_accepts(now, *pr, false);
  } else {
    const bool updated = pr->maybe_update(m.match);
    if (updated || (pr->state == Progress::State::probe && pr->match == m.match)) {
      switch (pr->state) {
        case Progress::State::probe: pr->become_replicate(); break;
        case Progress::State::snapshot:
          if (pr->match.next() >= log_.first_slot()) pr->become_replicate();
          break;
        case Progress::State::replicate: pr->free_inflight_through(pr->match); break;
      }
      maybe_commit(now);
      if (role_ != PaxosRole::leader) return;
      send_accepts(now, *pr, false);
    }
  }
  note_round_ack(now, *pr, m.round);
}

// ---- Acceptor and learner -------------------------------------------------------------------------

// A message of `ballot` from the proposer that owns it. PMS §2.2 P1a: an acceptor may accept a
// proposal unless it promised a higher ballot; if it did, the proposer is told (a nack), which is
// how a deposed leader learns to step down. Returns false when the message is refused.
bool PaxosReplica::follow(Nanos now, NodeId from, Ballot ballot) {
  note_round(ballot);
  if (ballot < promised_) {
    send(from, Nack{ballot, promised_, leader_, false});
    return false;
  }
  if (role_ == PaxosRole::leader && ballot == ballot_) {
    ++malformed_messages_;  // our own ballot, from someone else: impossible with owned ballots
    return false;
  }
  if (ballot > promised_) {
    promised_ = ballot;  // accepting b implies not accepting below b from now on
    persist_promise();
  }
  // A deposed leader follows; a candidate hearing a live leader drops its campaign (its own
  // acceptor has promised nothing for it).
  if (role_ != PaxosRole::follower) become_follower(now, from);
  leader_ = from;
  last_heard_leader_at_ = now;
  reset_election_timer(now);
  return true;
}

// Every slot in (commit_, result] holds the value accepted in `ballot`.
Slot PaxosReplica::match_for(Ballot ballot) {
  if (match_ballot_ != ballot) {
    match_ballot_ = ballot;
    match_ = commit_;
  }
  match_ = std::max(match_, commit_);
  while (match_ < log_.last_slot() && log_.at(match_.next()).ballot == ballot) {
    match_ = match_.next();
  }
  return match_;
}

// PMS §2.3: the leader tells learners what is chosen. Only slots holding the leader's values
// (match_for) are marked, so what is marked is what was chosen.
void PaxosReplica::learn_commit(Slot commit) {
  if (commit <= commit_) return;
  LS_ASSERT_LE(commit, log_.last_slot());
  commit_ = commit;
  apply_committed();
}

void PaxosReplica::handle(Nanos now, NodeId from, Accept& m) {
  if (!follow(now, from, m.ballot)) return;
  if (m.first.value > log_.last_slot().value + config_.max_unchosen_slots + 1) {
    // Further ahead than a leader keeps unchosen: taking it would only open a huge hole.
    send(from, Accepted{m.ballot, m.first, false, match_for(m.ballot), commit_, m.round});
    return;
  }
  // PMS §2.2 phase 2b: accept every slot not already chosen here. Slots are independent: a hole
  // left by a lost batch below does not stop these (the leader resends it; see Accepted).
  Slot changed_first;
  Slot changed_last;
  Slot s = m.first;
  for (Value& v : m.values) {
    if (s > commit_ && !(log_.holds(s) && log_.at(s).ballot == m.ballot)) {
      log_.put(s, m.ballot, v.kind, std::move(v.data));
      record_acceptance(s);
      if (changed_first == Slot{0}) changed_first = s;
      changed_last = s;
    }
    s = s.next();
  }
  // Slots between the first and the last changed one already held this ballot's values.
  if (changed_first > Slot{0}) persist_accepted(changed_first, changed_last);  // synced first
  learn_commit(std::min(m.commit, match_for(m.ballot)));
  send(from, Accepted{m.ballot, m.first, true, match_, commit_, m.round});
}

void PaxosReplica::handle(Nanos now, NodeId from, const Heartbeat& m) {
  if (!follow(now, from, m.ballot)) return;
  learn_commit(std::min(m.commit, match_for(m.ballot)));
  send(from, Accepted{m.ballot, Slot{0}, true, match_, commit_, m.round});
}

void PaxosReplica::handle(Nanos now, NodeId from, SnapshotMessage& m) {
  if (!m.from_leader) {
    // An acceptor's answer to our prepare: chosen state, whoever sends it.
    if (m.index > commit_) install_snapshot(m.index, std::move(m.data));
    maybe_finish_phase1(now);
    return;
  }
  if (!follow(now, from, m.ballot)) return;
  if (m.index > commit_) install_snapshot(m.index, std::move(m.data));
  const Slot match = match_for(m.ballot);
  send(from, Accepted{m.ballot, Slot{0}, true, match, commit_, m.round});
}

// The state machine through `index`, all chosen, replaces ours; accepted values above it stay.
void PaxosReplica::install_snapshot(Slot index, Bytes data) {
  LS_ASSERT_GT(index, commit_);
  log_.install(index, std::move(data));
  commit_ = applied_ = index;
  match_ = std::max(match_, commit_);
  out_.committed.erase_if([&](const consensus::CommittedCommand& c) {
    return c.index <= index.value;  // superseded by the snapshot
  });
  out_.snapshot = consensus::SnapshotInstall{index.value, log_.snapshot_data()};
  persist_rewrite();
}

}  // namespace lockstep::paxos
