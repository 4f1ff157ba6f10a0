// Phase 2, synchronization (Zab paper §III-B, Algorithm 2; ZooKeeper's LearnerHandler.syncFollower
// and Learner.syncWithLeader), both sides.
#include <algorithm>

#include "core/assert.h"
#include "protocols/zab/zab_replica.h"

namespace lockstep::zab {

namespace {

// The end of the longest common prefix of our history and the follower's, from its summary;
// nullopt when it cannot be told (the answer lies in our snapshot, or the summary is inconsistent).
//
// Every history holding a zxid agrees with ours on the prefix ending there, and a run's
// transactions are a stretch of consecutive counters of one epoch. So, going through the
// follower's runs from the newest: the first run of which we hold any transaction ends the common
// prefix at the last of them we hold. Runs we hold nothing of are transactions no quorum
// acknowledged in their epoch; they must go (TRUNC). If we hold none of its runs, the common
// prefix is the follower's snapshot, if we hold that.
std::optional<Position> common_prefix(const History& h, const HistorySummary& s) {
  for (auto it = s.runs.rbegin(); it != s.runs.rend(); ++it) {
    const auto floor = h.floor(Zxid{it->epoch, it->last_counter});
    if (!floor) return std::nullopt;  // in our snapshot: positions cannot be compared
    const Zxid ours = *h.zxid_at(*floor);
    // None of this run is ours (we may hold the same epoch's transactions before it).
    if (ours.epoch != it->epoch || ours.counter < it->first_counter) continue;
    const Position theirs = it->first + (ours.counter - it->first_counter);
    if (theirs != *floor) return std::nullopt;
    return *floor;
  }
  if (s.runs_truncated) return std::nullopt;
  if (h.find(s.snapshot_zxid) == s.snapshot_position) return s.snapshot_position;
  return std::nullopt;
}

}  // namespace

// ---- Leader ---------------------------------------------------------------------------------------

// With ACKEPOCH from a quorum (itself included), the epoch is ours: persist currentEpoch = e' and
// bring every acknowledged follower to our history, which is the initial history of the epoch.
void ZabReplica::maybe_start_sync(Nanos now) {
  if (sync_started_ || !new_epoch_) return;
  std::size_t count = 1;
  for (const Peer& p : peers_) {
    if (p.state == Peer::State::epoch_acked) ++count;
  }
  if (count < quorum()) return;
  sync_started_ = true;
  phase_ = Phase::synchronization;
  current_epoch_ = *new_epoch_;
  persist_epochs();  // synced before NEWLEADER leaves; counts as our own ack at take_output()
  next_counter_ = 0;
  for (Peer& p : peers_) {
    if (p.state == Peer::State::epoch_acked) sync_follower(p);
  }
  maybe_establish(now);
}

// Algorithm 2 with ZooKeeper's choice of how: DIFF when the follower's history is a prefix of
// ours; TRUNC to the common prefix, then DIFF, when it holds transactions we do not; SNAP when we
// no longer hold what follows the common prefix. Then NEWLEADER. From here on the follower gets
// every proposal, after the synchronization in its FIFO session.
void ZabReplica::sync_follower(Peer& peer) {
  LS_ASSERT(sync_started_);
  const HistorySummary& s = peer.summary;
  const auto common = common_prefix(history_, s);
  bool snap = !common || *common < history_.snapshot_position();
  if (!snap && *common == s.last_position) {
    send_diff(peer, *common, *history_.zxid_at(*common));
  } else if (!snap && config_.diff_instead_of_trunc && s.last_zxid < history_.last_zxid()) {
    // Bug switch (ZOOKEEPER-1154): the follower's last zxid lies inside our range but is not
    // ours; send everything above it and keep what it has, its uncommitted transactions included.
    const auto from = history_.floor(s.last_zxid);
    if (from && *from >= history_.snapshot_position()) {
      send_diff(peer, *from, s.last_zxid);
    } else {
      snap = true;
    }
  } else if (!snap) {
    const Zxid to = *history_.zxid_at(*common);
    send_in_session(peer, Trunc{0, 0, to});
    send_diff(peer, *common, to);
  }
  if (snap) {
    send_in_session(peer, Snap{0, 0, history_.snapshot_position(), history_.snapshot_zxid(),
                               history_.snapshot_digest(), history_.snapshot_data()});
    send_diff(peer, history_.snapshot_position(), history_.snapshot_zxid());
  }
  send_in_session(peer, NewLeader{0, 0, current_epoch_, history_.last_zxid()});
  peer.newleader_zxid = history_.last_zxid();
  peer.state = Peer::State::syncing;
  peer.summary = HistorySummary{};
}

// Positions after+1..last in chunks, the first one following `prev_zxid` on the follower. Always at
// least one DIFF, so the follower (and a test) sees the choice even when nothing is missing.
void ZabReplica::send_diff(Peer& peer, Position after, Zxid prev_zxid) {
  const Position last = history_.last_position();
  Position next = after.next();
  do {
    std::size_t count = 0;
    std::size_t bytes = 0;
    for (Position p = next; p <= last && count < config_.max_txns_per_diff; p = p.next()) {
      const std::size_t size = wire_size(history_.at(p));
      if (count > 0 && bytes + size > config_.max_diff_bytes) break;
      bytes += size;
      ++count;
    }
    const auto first = next > last ? history_.iterator_at(last.next()) : history_.iterator_at(next);
    encode_diff_to(out_.messages.open(peer.id), peer.session, peer.next_seq++, prev_zxid, first,
                   first + static_cast<std::ptrdiff_t>(count));
    out_.messages.close();
    if (count > 0) {
      next = next + count;
      prev_zxid = history_.at(next.prev()).zxid;
    }
  } while (next <= last);
}

// Algorithm 2, leader: established once a quorum (itself included, once its currentEpoch is on
// its way to disk) acknowledged NEWLEADER. Its history then commits, and the followers learn it
// from UPTODATE. Proposals are accepted from here on, not before.
void ZabReplica::maybe_establish(Nanos now) {
  if (established_ || !sync_started_ || !self_synced_) return;
  std::size_t count = 1;
  for (const Peer& p : peers_) {
    if (p.state == Peer::State::synced) ++count;
  }
  if (count < quorum()) return;
  established_ = true;
  phase_ = Phase::broadcast;
  quorum_check_deadline_ = now + config_.sync_timeout;
  commit_ = std::max(commit_, quorum_position());
  const Zxid commit_zxid = *history_.zxid_at(commit_);
  for (Peer& p : peers_) {
    if (p.state == Peer::State::synced) send_in_session(p, UpToDate{0, 0, commit_zxid});
  }
  apply_committed();
  advance_reads();
}

// ---- Follower -------------------------------------------------------------------------------------

void ZabReplica::handle(Nanos now, const Trunc& m) {
  if (!got_new_epoch_ || synced_) {
    ++malformed_messages_;
    return;
  }
  const auto p = history_.find(m.zxid);
  if (!p) {
    reconnect(now);  // the leader misjudged our history; synchronize afresh
    return;
  }
  history_.truncate_to(*p);
  commit_ = std::min(commit_, *p);
  write_txns_from(p->next());  // an empty TxnsRecord: the history ends at *p
}

void ZabReplica::handle(Nanos now, Diff& m) {
  if (!got_new_epoch_ || synced_) {
    ++malformed_messages_;
    return;
  }
  if (m.prev_zxid != history_.last_zxid()) {
    reconnect(now);
    return;
  }
  if (m.txns.empty()) return;
  const Position first = history_.last_position().next();
  for (Txn& t : m.txns) history_.append(t.zxid, std::move(t.data));  // ascending: the codec checks
  if (config_.ack_newleader_before_sync) {
    if (!unlogged_from_) unlogged_from_ = first;  // bug switch: written after NEWLEADER's ack
  } else {
    write_txns_from(first);  // synced before NEWLEADER is acknowledged
  }
}

void ZabReplica::handle(Nanos, Snap& m) {
  if (!got_new_epoch_ || synced_) {
    ++malformed_messages_;
    return;
  }
  history_.restore(m.position, m.zxid, m.digest, std::move(m.data));
  commit_ = applied_ = m.position;  // the leader snapshots only what it delivered
  out_.snapshot = consensus::SnapshotInstall{m.position.value, history_.snapshot_data()};
  persist_rewrite();
}

// Algorithm 2, follower: NEWLEADER(e') makes e' our currentEpoch. The synchronized history and the
// epoch are on disk before the acknowledgement leaves (sync_before_send covers every record
// written since the session began), so a leader never counts a follower that could lose them.
void ZabReplica::handle(Nanos now, const NewLeader& m) {
  if (!got_new_epoch_ || synced_) {
    ++malformed_messages_;
    return;
  }
  if (m.epoch != accepted_epoch_ || m.zxid != history_.last_zxid()) {
    reconnect(now);
    return;
  }
  current_epoch_ = m.epoch;
  persist_epochs();  // with ack_newleader_before_sync the DIFF's transactions are not written yet
  synced_ = true;
  send(*leader_, Ack{session_, history_.last_zxid()});
}

// COMMIT-LD: the leader is established; deliver its history through commit_zxid.
void ZabReplica::handle(Nanos now, const UpToDate& m) {
  if (!synced_ || phase_ != Phase::synchronization) {
    ++malformed_messages_;
    return;
  }
  phase_ = Phase::broadcast;
  flush_unlogged();  // bug switch: the DIFF's transactions reach the log now, unsynced
  commit_to(now, m.commit_zxid);
}

}  // namespace lockstep::zab
