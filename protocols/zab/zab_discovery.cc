// Phase 1, discovery (Zab paper §III-B, Algorithm 1; ZooKeeper's FOLLOWERINFO / LEADERINFO /
// ACKEPOCH), both sides, and the follower's timers for discovery and synchronization.
#include <algorithm>

#include "core/assert.h"
#include "protocols/zab/zab_replica.h"

namespace lockstep::zab {

// ---- Follower -------------------------------------------------------------------------------------

void ZabReplica::send_follower_info() {
  send(*leader_, FollowerInfo{session_, accepted_epoch_, history_.last_zxid()});
}

HistorySummary ZabReplica::summary() const {
  HistorySummary s;
  s.last_position = history_.last_position();
  s.last_zxid = history_.last_zxid();
  s.snapshot_position = history_.snapshot_position();
  s.snapshot_zxid = history_.snapshot_zxid();
  const std::vector<EpochRun>& runs = history_.runs();
  const std::size_t keep = std::min(runs.size(), kSummaryRunsMax);
  s.runs_truncated = keep < runs.size();
  s.runs.assign(runs.end() - static_cast<std::ptrdiff_t>(keep), runs.end());
  return s;
}

void ZabReplica::send_ack_epoch() {
  send(*leader_, AckEpoch{session_, current_epoch_, summary()});
}

// Algorithm 1, follower: accept NEWEPOCH(e') only if e' is above every epoch accepted so far;
// persist acceptedEpoch before the ACKEPOCH leaves, so that no two leaders of one epoch can both
// count this server (one established leader per epoch).
void ZabReplica::handle(Nanos now, const NewEpoch& m) {
  if (phase_ != Phase::discovery || got_new_epoch_) {
    ++malformed_messages_;  // NEWEPOCH is a session's first message, and only that
    return;
  }
  if (m.epoch > accepted_epoch_) {
    accepted_epoch_ = m.epoch;
    accepted_from_ = leader_;
    persist_epochs();  // synced before the ACKEPOCH leaves (sync_before_send)
  } else if (!(m.epoch == accepted_epoch_ && accepted_from_ == leader_)) {
    // An epoch we already accepted from someone else, or an older one: this leader cannot be
    // established with us. Back to election (ZooKeeper throws and goes LOOKING).
    become_looking(now);
    return;
  }
  // (The same epoch again from the same leader: we reconnected, and it is still that epoch.)
  got_new_epoch_ = true;
  phase_ = Phase::synchronization;
  send_ack_epoch();
}

void ZabReplica::follower_tick(Nanos now) {
  if (gap_deadline_ && now >= *gap_deadline_) {
    reconnect(now);  // a message of the session is lost for good
    return;
  }
  if (phase_ == Phase::broadcast) {
    if (now >= last_heard_leader_ + config_.sync_timeout) become_looking(now);  // leader silent
    return;
  }
  if (now >= init_deadline_) {
    become_looking(now);  // discovery and synchronization must finish within init_timeout
    return;
  }
  if (now >= retransmit_deadline_) {
    // Our half of the handshake may have been lost: say it again (the leader ignores duplicates).
    if (!got_new_epoch_) {
      send_follower_info();
    } else if (!synced_) {
      send_ack_epoch();
    }
    retransmit_deadline_ = now + config_.heartbeat_interval;
  }
}

// ---- Leader ---------------------------------------------------------------------------------------

void ZabReplica::handle(Nanos now, NodeId from, const FollowerInfo& m) {
  if (state_ != ServerState::leading) return;
  Peer* p = find_peer(from);
  LS_ASSERT(p != nullptr);  // every member but ourselves has a Peer while we lead
  if (p->session == m.session && p->state != Peer::State::idle) {
    // A retransmission: our NEWEPOCH may have been lost. Send it again as what it was, the
    // session's first message (pings may have followed it).
    if (p->state == Peer::State::epoch_sent) {
      send(from, NewEpoch{p->session, p->first_seq, *new_epoch_});
    }
    return;
  }
  // A new session (a follower that connects, reconnects or restarted) replaces the old one.
  *p = Peer{from};
  p->state = Peer::State::connected;
  p->session = m.session;
  // Far from where any other leadership numbers it (below 2^62: no wrap-around in a session).
  p->first_seq = p->next_seq = (seq_rng_.next() >> 2) | 1;
  p->accepted_epoch = m.accepted_epoch;
  p->recent_active = true;
  if (new_epoch_) {
    send_new_epoch(*p);
  } else {
    maybe_decide_epoch(now);
  }
}

// Algorithm 1, leader: with CEPOCH from a quorum (itself included), propose an epoch above every
// acceptedEpoch among them, so that it is above every epoch any of them may have acknowledged.
void ZabReplica::maybe_decide_epoch(Nanos now) {
  if (new_epoch_) return;
  std::size_t count = 1;
  Epoch highest = accepted_epoch_;
  for (const Peer& p : peers_) {
    if (p.state == Peer::State::connected) {
      ++count;
      highest = std::max(highest, p.accepted_epoch);
    }
  }
  if (count < quorum()) return;
  new_epoch_ = highest.next();
  accepted_epoch_ = *new_epoch_;
  accepted_from_ = self_;
  persist_epochs();  // synced before NEWEPOCH leaves
  for (Peer& p : peers_) {
    if (p.state == Peer::State::connected) send_new_epoch(p);
  }
  maybe_start_sync(now);  // a one-server ensemble needs no acknowledgements
}

void ZabReplica::send_new_epoch(Peer& peer) {
  send_in_session(peer, NewEpoch{0, 0, *new_epoch_});
  peer.state = Peer::State::epoch_sent;
}

// Algorithm 1, leader: collect ACKEPOCH from a quorum. ZooKeeper's refinement of the paper's
// "pick the most up-to-date history of the quorum": the election made us the most up-to-date, and
// if a follower of the first quorum turns out to be ahead of us in (currentEpoch, last zxid), the
// election was wrong and we go back to it rather than lose what that follower holds.
void ZabReplica::handle(Nanos now, NodeId from, AckEpoch& m) {
  if (state_ != ServerState::leading || !new_epoch_) return;
  Peer* p = find_peer(from);
  LS_ASSERT(p != nullptr);
  if (p->session != m.session || p->state != Peer::State::epoch_sent) return;  // stale, duplicate
  p->recent_active = true;
  if (!sync_started_ &&
      std::make_pair(m.current_epoch, m.history.last_zxid) >
          std::make_pair(current_epoch_, history_.last_zxid())) {
    become_looking(now);
    return;
  }
  p->state = Peer::State::epoch_acked;
  p->current_epoch = m.current_epoch;
  p->summary = std::move(m.history);
  if (sync_started_) {
    sync_follower(*p);
  } else {
    maybe_start_sync(now);
  }
}

}  // namespace lockstep::zab
