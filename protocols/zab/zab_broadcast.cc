// Phase 3, broadcast (Zab paper §III-B, Algorithm 3): proposals, acknowledgements, commits, pings,
// the leader's quorum check, and read barriers.
#include <algorithm>
#include <functional>

#include "core/assert.h"
#include "protocols/zab/zab_replica.h"

namespace lockstep::zab {

// ---- Leader ---------------------------------------------------------------------------------------

consensus::ProposeResult ZabReplica::propose(Nanos now, ByteView command) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  if (state_ != ServerState::leading) {
    return {consensus::Outcome::not_leader,
            state_ == ServerState::following ? leader_ : std::nullopt};
  }
  // Only an established leader broadcasts (§III-B: after synchronization); until then, soon.
  if (!established_) return {consensus::Outcome::busy, self_};
  if (history_.last_position().value - commit_.value >= config_.max_outstanding_proposals) {
    return {consensus::Outcome::busy, self_};
  }
  const Zxid zxid{current_epoch_, ++next_counter_};
  const Position p = history_.append(zxid, Bytes(command.begin(), command.end()));
  write_txns_from(p);
  out_.sync_before_send = true;  // our own copy counts once handed over (take_output)
  const Txn& txn = history_.at(p);
  for (Peer& peer : peers_) {
    if (peer.state != Peer::State::syncing && peer.state != Peer::State::synced) continue;
    encode_proposal_to(out_.messages.open(peer.id), peer.session, peer.next_seq++, txn);
    out_.messages.close();
  }
  return {consensus::Outcome::accepted, self_};
}

void ZabReplica::handle(Nanos now, NodeId from, const Ack& m) {
  if (state_ != ServerState::leading) return;
  Peer* p = find_peer(from);
  LS_ASSERT(p != nullptr);
  if (p->session != m.session) return;
  if (p->state != Peer::State::syncing && p->state != Peer::State::synced) {
    ++malformed_messages_;  // nothing to acknowledge before NEWLEADER
    return;
  }
  note_ack(now, *p, m.zxid);
}

void ZabReplica::handle(Nanos now, NodeId from, const PingAck& m) {
  if (state_ != ServerState::leading) return;
  Peer* p = find_peer(from);
  LS_ASSERT(p != nullptr);
  if (p->session != m.session) return;
  p->recent_active = true;
  if (m.round > p->acked_round && m.round <= round_) p->acked_round = m.round;
  if (m.synced && (p->state == Peer::State::syncing || p->state == Peer::State::synced)) {
    note_ack(now, *p, m.acked_zxid);
  }
  advance_reads();
}

// An acknowledgement of every transaction through `zxid`; the first at or above NEWLEADER's zxid
// is the acknowledgement of NEWLEADER.
void ZabReplica::note_ack(Nanos now, Peer& peer, Zxid zxid) {
  peer.recent_active = true;
  if (zxid > history_.last_zxid()) {
    ++malformed_messages_;
    return;
  }
  if (const auto pos = history_.find(zxid)) {
    peer.acked = std::max(peer.acked, *pos);
  } else if (zxid > history_.snapshot_zxid()) {
    ++malformed_messages_;  // not a zxid of ours (below the snapshot it is simply old)
    return;
  }
  if (peer.state == Peer::State::syncing && zxid >= peer.newleader_zxid) {
    peer.state = Peer::State::synced;
    if (established_) {
      send_in_session(peer, UpToDate{0, 0, *history_.zxid_at(commit_)});
    } else {
      maybe_establish(now);
    }
  }
  if (established_) maybe_commit(now);
}

// The highest position held by a quorum: ourselves (once our records are handed over) and the
// synchronized followers.
Position ZabReplica::quorum_position() {
  scratch_.clear();
  scratch_.push_back(durable_position_.value);
  for (const Peer& p : peers_) {
    if (p.state == Peer::State::synced) scratch_.push_back(p.acked.value);
  }
  if (scratch_.size() < quorum()) return Position{0};
  std::nth_element(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(quorum() - 1),
                   scratch_.end(), std::greater<>());
  return Position{scratch_[quorum() - 1]};
}

// Algorithm 3: a proposal acknowledged by a quorum commits, with everything before it (acks are
// cumulative and proposals FIFO, so commits go out in zxid order).
void ZabReplica::maybe_commit(Nanos) {
  if (!established_) return;
  const Position q = quorum_position();
  if (q <= commit_) return;
  commit_ = q;
  const Zxid z = *history_.zxid_at(q);
  for (Peer& p : peers_) {
    if (p.state == Peer::State::synced) send_in_session(p, Commit{0, 0, z});
  }
  apply_committed();
  advance_reads();
}

void ZabReplica::broadcast_ping(Nanos now) {
  ++round_;
  for (Peer& p : peers_) {
    if (p.state >= Peer::State::epoch_sent) send_in_session(p, Ping{0, 0, round_});
  }
  heartbeat_deadline_ = now + config_.heartbeat_interval;
}

void ZabReplica::leader_tick(Nanos now) {
  if (!established_) {
    maybe_establish(now);  // our currentEpoch record may just have been handed over
    if (!established_ && now >= init_deadline_) {
      become_looking(now);  // discovery and synchronization must finish within init_timeout
      return;
    }
  } else {
    maybe_commit(now);  // our own records may just have been handed over
  }
  if (now >= heartbeat_deadline_) broadcast_ping(now);
  if (established_ && now >= quorum_check_deadline_) {
    std::size_t active = 1;
    for (Peer& p : peers_) {
      if (p.state == Peer::State::synced && p.recent_active) ++active;
      p.recent_active = false;
    }
    if (active < quorum()) {
      become_looking(now);  // no quorum of followers: no leadership
      return;
    }
    quorum_check_deadline_ = now + config_.sync_timeout;
  }
}

// ---- Follower -------------------------------------------------------------------------------------

// Algorithm 3, follower: append, persist, and acknowledge only once it is on disk (the ACK waits
// for the sync: sync_before_send).
void ZabReplica::handle(Nanos now, Proposal& m) {
  if (!synced_) {
    ++malformed_messages_;  // proposals come after NEWLEADER
    return;
  }
  if (m.zxid <= history_.last_zxid() || m.zxid.epoch != current_epoch_) {
    reconnect(now);  // not FIFO, or not this leader's: start over
    return;
  }
  const Position p = history_.append(m.zxid, std::move(m.data));
  write_txns_from(p);
  out_.sync_before_send = true;
  send(*leader_, Ack{session_, m.zxid});
}

void ZabReplica::handle(Nanos now, const Commit& m) {
  if (phase_ != Phase::broadcast) {
    ++malformed_messages_;  // commits come after UPTODATE
    return;
  }
  commit_to(now, m.zxid);
}

void ZabReplica::commit_to(Nanos now, Zxid zxid) {
  const auto p = history_.find(zxid);
  if (!p) {
    if (zxid < history_.snapshot_zxid()) return;  // already in our snapshot
    reconnect(now);  // a commit of a transaction we do not hold: the session is broken
    return;
  }
  if (*p <= commit_) return;
  commit_ = *p;
  apply_committed();
}

void ZabReplica::handle(Nanos, const Ping& m) {
  send(*leader_, PingAck{session_, m.round, synced_, synced_ ? history_.last_zxid() : Zxid{}});
}

// ---- Reads ----------------------------------------------------------------------------------------

// ZooKeeper's sync() then read, made linearizable: the read waits behind everything proposed so
// far, and for a quorum to confirm, in a ping round begun after the request, that we still lead.
// A new leader needs a quorum's ACKEPOCH first, and a follower that answered our round had not
// yet left us; so none was established before the round, and nothing the read must see can have
// been committed by anyone else.
consensus::ProposeResult ZabReplica::read_barrier(Nanos now, std::uint64_t read_id) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  if (state_ != ServerState::leading) {
    return {consensus::Outcome::not_leader,
            state_ == ServerState::following ? leader_ : std::nullopt};
  }
  if (!established_ || pending_reads_.size() >= config_.max_pending_reads) {
    return {consensus::Outcome::busy, self_};
  }
  broadcast_ping(now);
  pending_reads_.push_back(PendingRead{read_id, history_.last_position(), round_});
  advance_reads();
  return {consensus::Outcome::accepted, self_};
}

// The newest ping round a quorum has answered (we answer our own as we start them).
std::uint64_t ZabReplica::quorum_round() {
  scratch_.clear();
  scratch_.push_back(round_);
  for (const Peer& p : peers_) {
    if (p.state == Peer::State::synced) scratch_.push_back(p.acked_round);
  }
  if (scratch_.size() < quorum()) return 0;
  std::nth_element(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(quorum() - 1),
                   scratch_.end(), std::greater<>());
  return scratch_[quorum() - 1];
}

void ZabReplica::advance_reads() {
  if (!established_ || pending_reads_.empty()) return;
  const std::uint64_t confirmed = quorum_round();
  while (!pending_reads_.empty() && pending_reads_.front().round <= confirmed &&
         pending_reads_.front().position <= commit_) {
    out_.reads.push_back(
        consensus::ReadReady{pending_reads_.front().read_id, pending_reads_.front().position.value});
    pending_reads_.pop_front();
  }
}

}  // namespace lockstep::zab
