// Log replication (§5.3), commitment (§5.4.2), heartbeats and InstallSnapshot (§7), both the
// leader's side (sending, flow control, counting) and the follower's (consistency check,
// truncation, appending).
#include <algorithm>
#include <functional>

#include "core/assert.h"
#include "protocols/raft/raft_replica.h"

namespace lockstep::raft {

// ---- Leader: sending ------------------------------------------------------------------------------

consensus::ProposeResult RaftReplica::propose(Nanos now, ByteView command) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  if (role_ != RaftRole::leader) return {consensus::Outcome::not_leader, leader_};
  // Thesis §3.10: proposals wait while leadership is being handed over.
  if (transfer_target_) return {consensus::Outcome::busy, leader_};
  if (log_.last_index().value - commit_.value >= config_.max_uncommitted_entries) {
    return {consensus::Outcome::busy, leader_};
  }
  const LogIndex index = log_.append(term_, EntryKind::command, command);
  persist_entries_from(index);
  // The appends leave with the step's output (take_output): several proposals in one step, as a
  // host makes when it gathers requests while its disk is busy, go out as one batch per follower.
  append_due_ = true;
  return {consensus::Outcome::accepted, leader_};
}

void RaftReplica::broadcast_append(Nanos now) {
  for (Progress& pr : peers_) send_append(now, pr, false);
}

// Sends what flow control allows: one probe, or batches until the pipeline is full (etcd's
// maybeSendAppend). Falls back to InstallSnapshot when the entries needed were compacted.
void RaftReplica::send_append(Nanos now, Progress& pr, bool allow_empty) {
  while (!pr.paused(config_.max_inflight_bytes)) {
    const LogIndex prev = pr.next.prev();
    const std::optional<Term> prev_term = log_.term_at(prev);
    if (!prev_term) {
      send_snapshot(now, pr);
      return;
    }
    const LogIndex last = log_.last_index();
    std::size_t count = 0;
    std::size_t bytes = 0;
    for (LogIndex i = pr.next; i <= last && count < config_.max_entries_per_append; i = i.next()) {
      const std::size_t size = wire_size(log_.at(i));
      if (count > 0 && bytes + size > config_.max_append_bytes) break;
      bytes += size;
      ++count;
    }
    if (count == 0 && !allow_empty) return;
    const EncodedAppend append{term_, prev, count, commit_, round_, out_.messages.size()};
    if (last_append_ && *last_append_ == append) {
      out_.messages.add_copy(pr.id, last_append_->message);  // same entries: the leader only appends
    } else {
      const auto first = log_.iterator_at(pr.next);
      encode_append_to(out_.messages.open(pr.id), term_, prev, *prev_term, commit_, round_, first,
                       first + count);
      out_.messages.close();
      last_append_ = append;
    }
    allow_empty = false;
    if (pr.state == Progress::State::probe) {
      pr.probe_sent = true;
    } else if (count > 0) {
      pr.next = prev + count + 1;
      pr.add_inflight(pr.next.prev(), bytes);
    }
    if (pr.state != Progress::State::replicate || pr.next > last) return;
  }
}

void RaftReplica::send_snapshot(Nanos now, Progress& pr) {
  send(pr.id, SnapshotRequest{term_, log_.snapshot_index(), log_.snapshot_term(),
                              log_.snapshot_digest(), log_.snapshot_members(),
                              log_.snapshot_data(), round_});
  pr.become_snapshot(log_.snapshot_index(), now);
}

// ---- Leader: counting -----------------------------------------------------------------------------

// The highest index stored on a quorum of the current configuration. The leader's own copy counts
// once its records are durable (durable_index_), and only while it is itself a member.
LogIndex RaftReplica::quorum_match() {
  return LogIndex{quorum_value(durable_index_.value,
                               [](const Progress& pr) { return pr.match.value; })};
}

// §5.4.2: only an entry of the leader's own term is committed by counting replicas; entries of
// earlier terms commit with it (Figure 8 shows an old-term entry stored on a majority and then
// overwritten).
void RaftReplica::maybe_commit(Nanos now) {
  if (role_ != RaftRole::leader) return;
  const LogIndex n = quorum_match();
  if (n <= commit_ || log_.term_at(n) != term_) return;
  const bool first_of_term = !committed_own_term();
  commit_ = n;
  if (first_of_term) {
    // Thesis §6.4 step 1: reads that waited for this leader's first commit read at this index.
    for (PendingRead& r : pending_reads_) {
      if (!r.index) r.index = commit_;
    }
  }
  apply_committed(now);
  if (role_ == RaftRole::leader) advance_reads(now);
}

// ---- Leader: responses ----------------------------------------------------------------------------

void RaftReplica::handle(Nanos now, NodeId from, const AppendResponse& m) {
  if (role_ != RaftRole::leader) return;
  Progress* pr = find_progress(from);
  if (!pr) return;
  if (m.match_index > log_.last_index()) {
    ++malformed_messages_;  // acknowledges entries we never had
    return;
  }
  pr->recent_active = true;
  if (!m.success) {
    // Thesis §5.3 fast back-off: skip every index the follower's hint rules out.
    LogIndex probe_to = m.hint_index;
    if (m.hint_term > Term{0}) probe_to = log_.find_conflict_by_term(m.hint_index, m.hint_term);
    if (pr->maybe_decrease_to(m.reject_index, probe_to)) {
      if (pr->state == Progress::State::replicate) pr->become_probe();
      send_append(now, *pr, false);
    }
    note_round_ack(now, *pr, m.round);
    return;
  }
  const bool updated = pr->maybe_update(m.match_index);
  if (updated || (pr->state == Progress::State::probe && pr->match == m.match_index)) {
    switch (pr->state) {
      case Progress::State::probe: pr->become_replicate(); break;
      case Progress::State::snapshot:
        if (pr->match.next() >= log_.first_index()) pr->become_replicate();
        break;
      case Progress::State::replicate: pr->free_inflight_through(pr->match); break;
    }
    // Only this follower's match moved. Every other change to what a quorum holds counted at once
    // (or asked for the tick that wake_now_ stands for), so a match still at or below the commit
    // index completes no quorum above it: counting again would find nothing (on most responses).
    if (pr->match > commit_ || wake_now_) maybe_commit(now);
    if (role_ != RaftRole::leader) return;
    maybe_send_timeout_now(*pr);
    send_append(now, *pr, false);
    if (is_learner(from)) {
      advance_catch_up(now);  // may append the configuration and rebuild peers_
      pr = find_progress(from);
      if (pr == nullptr) return;
    }
  }
  note_round_ack(now, *pr, m.round);
}

void RaftReplica::handle(Nanos now, NodeId from, const HeartbeatResponse& m) {
  if (role_ != RaftRole::leader) return;
  Progress* pr = find_progress(from);
  if (!pr) return;
  pr->recent_active = true;
  switch (pr->state) {
    case Progress::State::probe: pr->probe_sent = false; break;
    case Progress::State::replicate:
      // An append may have been lost: free a slot so the pipeline cannot stall for good.
      if (pr->inflight_full(config_.max_inflight_bytes)) pr->free_first();
      break;
    case Progress::State::snapshot:
      if (now - pr->snapshot_sent_at >= config_.election_timeout_max) pr->become_probe();
      break;
  }
  // Behind: resend. In replicate state `next` may already be past the end because the appends
  // in between were lost; an empty append at `next` then draws the rejection that resets it.
  if (pr->match < log_.last_index()) send_append(now, *pr, true);
  note_round_ack(now, *pr, m.round);
}

void RaftReplica::handle(Nanos now, NodeId from, const SnapshotResponse& m) {
  if (role_ != RaftRole::leader) return;
  Progress* pr = find_progress(from);
  if (!pr) return;
  if (m.match_index > log_.last_index()) {
    ++malformed_messages_;
    return;
  }
  pr->recent_active = true;
  pr->maybe_update(m.match_index);
  if (pr->state == Progress::State::snapshot) {
    if (pr->match >= pr->pending_snapshot) {
      pr->become_replicate();
    } else {
      pr->become_probe();
    }
  }
  maybe_commit(now);
  if (role_ != RaftRole::leader) return;
  maybe_send_timeout_now(*pr);
  send_append(now, *pr, false);
  note_round_ack(now, *pr, m.round);
}

// ---- Follower -------------------------------------------------------------------------------------

// A message from the leader of our term: follow it and restart the election timer (§5.2).
void RaftReplica::accept_from_leader(Nanos now, NodeId from) {
  if (role_ != RaftRole::follower) {
    become_follower(now, term_, from);  // a candidate that hears from the winner steps down
  }
  leader_ = from;
  last_heard_leader_at_ = now;
  reset_election_timer(now);
}

namespace {

// Entries a correct leader could have sent after (prev_log_index, prev_log_term) in `term`.
bool plausible_entries(const AppendRequest& m) {
  Term floor = m.prev_log_term;
  for (const Entry& e : m.entries) {
    if (e.term < floor || e.term > m.term) return false;
    floor = e.term;
  }
  return true;
}

}  // namespace

void RaftReplica::handle(Nanos now, NodeId from, const AppendRequest& m) {
  if (role_ == RaftRole::leader || (leader_ && leader_ != from) || !plausible_entries(m)) {
    ++malformed_messages_;  // two leaders in one term, or entries no leader could send
    return;
  }
  accept_from_leader(now, from);
  const LogIndex last_new = m.prev_log_index + m.entries.size();
  if (m.prev_log_index < commit_) {
    // Old or duplicated: our committed prefix already matches the leader's (etcd does the same).
    send(from, AppendResponse{term_, true, commit_, {}, {}, {}, m.round});
    return;
  }
  if (!log_.matches(m.prev_log_index, m.prev_log_term)) {
    // §5.3 consistency check failed. Hint (thesis §5.3): our last index at or below the probe
    // whose term is <= prev_log_term; everything above it cannot match.
    const LogIndex hint = log_.find_conflict_by_term(
        std::min(m.prev_log_index, log_.last_index()), m.prev_log_term);
    send(from, AppendResponse{term_, false, {}, m.prev_log_index, hint,
                              log_.term_at(hint).value_or(Term{0}), m.round});
    return;
  }
  // Skip what we already hold; truncate at the first conflict (§5.3 step 3) and append the rest.
  std::size_t k = 0;
  LogIndex index = m.prev_log_index.next();
  while (k < m.entries.size() && index <= log_.last_index() &&
         log_.term_at(index) == m.entries[k].term) {
    ++k;
    index = index.next();
  }
  if (k < m.entries.size()) {
    if (index <= log_.last_index()) {
      LS_ASSERT_GT(index, commit_);  // Leader Completeness: committed entries never conflict
      log_.truncate_from(index);
      durable_index_ = std::min(durable_index_, index.prev());
    }
    for (; k < m.entries.size(); ++k) {
      const Entry& e = m.entries[k];
      log_.append(e.term, e.kind, e.data);
    }
    persist_entries_from(index);  // synced before the acknowledgement below leaves
  }
  // §5.3 step 5: commit up to the leader's commit, but only through entries known to match.
  const LogIndex commit = std::min(m.leader_commit, last_new);
  if (commit > commit_) {
    commit_ = commit;
    apply_committed(now);
  }
  send(from, AppendResponse{term_, true, last_new, {}, {}, {}, m.round});
}

void RaftReplica::handle(Nanos now, NodeId from, const Heartbeat& m) {
  if (role_ == RaftRole::leader || (leader_ && leader_ != from)) {
    ++malformed_messages_;
    return;
  }
  accept_from_leader(now, from);
  // The leader sends min(our match, its commit): entries we hold that match its log.
  const LogIndex commit = std::min(m.commit, log_.last_index());
  if (commit > commit_) {
    commit_ = commit;
    apply_committed(now);
  }
  send(from, HeartbeatResponse{term_, m.round});
}

void RaftReplica::handle(Nanos now, NodeId from, SnapshotRequest& m) {
  if (role_ == RaftRole::leader || (leader_ && leader_ != from) || m.last_term > m.term ||
      m.members.empty()) {
    ++malformed_messages_;
    return;
  }
  accept_from_leader(now, from);
  if (m.last_index <= commit_) {
    send(from, SnapshotResponse{term_, commit_, m.round});
    return;
  }
  if (log_.matches(m.last_index, m.last_term)) {
    // We hold the snapshot's last entry, hence (Log Matching) everything before it: the
    // snapshot adds only the knowledge that it is committed.
    commit_ = m.last_index;
    apply_committed(now);
    send(from, SnapshotResponse{term_, m.last_index, m.round});
    return;
  }
  // §7: discard the log and load the snapshot.
  log_.restore(m.last_index, m.last_term, m.digest, std::move(m.members), std::move(m.data));
  commit_ = applied_ = durable_index_ = m.last_index;
  out_.committed.erase_if([&](const consensus::CommittedCommand& c) {
    return c.index <= m.last_index.value;  // superseded by the snapshot
  });
  out_.snapshot = consensus::SnapshotInstall{m.last_index.value, log_.snapshot_data()};
  persist_rewrite();
  send(from, SnapshotResponse{term_, m.last_index, m.round});
}

}  // namespace lockstep::raft
