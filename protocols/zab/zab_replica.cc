// ZabReplica: construction, recovery, the message dispatcher and the in-order session layer,
// timers, role changes, persistence, applying committed transactions and the output. The protocol
// rules live in zab_election.cc, zab_discovery.cc, zab_sync.cc and zab_broadcast.cc.
#include "protocols/zab/zab_replica.h"

#include <algorithm>
#include <utility>

#include "core/assert.h"

namespace lockstep::zab {

namespace {

consensus::Role public_role(ServerState state, bool established) {
  switch (state) {
    case ServerState::looking: return consensus::Role::candidate;
    case ServerState::following: return consensus::Role::follower;
    case ServerState::leading:
      return established ? consensus::Role::leader : consensus::Role::candidate;
  }
  return consensus::Role::follower;
}

std::vector<NodeId> sorted(std::vector<NodeId> members) {
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  return members;
}

}  // namespace

ZabReplica::ZabReplica(const ZabConfig& config, NodeId self, std::vector<NodeId> members,
                       std::uint64_t seed)
    : config_(config), self_(self), members_(sorted(std::move(members))), rng_(seed),
      seq_rng_(Rng::derive(seed, "zab-session-seq")) {
  const auto error = validate(config_);
  LS_ASSERT_MSG(!error, error.value_or(""));
  LS_ASSERT_MSG(is_member(self_), "a Zab replica must be a member of its ensemble");
}

std::unique_ptr<consensus::Replica> make_zab_replica(const ZabConfig& config, NodeId self,
                                                     std::vector<NodeId> members,
                                                     std::uint64_t seed) {
  return std::make_unique<ZabReplica>(config, self, std::move(members), seed);
}

// ---- Recovery -------------------------------------------------------------------------------------

void ZabReplica::recover(Nanos now, std::span<const Bytes> records) {
  LS_ASSERT_MSG(!recovered_, "recover() is the first call and happens once per replica object");
  recovered_ = true;
  recovered_at_ = now;
  last_now_ = now;
  std::size_t position = 0;
  for (const Bytes& bytes : records) {
    auto record = decode_record(bytes);
    // Records passed the host's checksum, so a record we cannot read was not written by this
    // code: the record log belongs to another protocol or format version.
    LS_ASSERT_MSG(record.has_value(), "record " + std::to_string(position) +
                                          " of the record log is not a Zab record (format " +
                                          std::to_string(kFormatVersion) + ")");
    ++position;
    if (auto* er = std::get_if<EpochRecord>(&*record)) {
      accepted_epoch_ = er->accepted_epoch;
      accepted_from_ = er->accepted_from;
      current_epoch_ = er->current_epoch;
    } else if (auto* tr = std::get_if<TxnsRecord>(&*record)) {
      LS_ASSERT_LE(tr->first_position, history_.last_position().next());
      if (tr->first_position > history_.snapshot_position()) {
        history_.truncate_to(tr->first_position.prev());
      }
      Position p = tr->first_position;
      for (Txn& t : tr->txns) {
        if (p > history_.snapshot_position()) {
          if (p <= history_.last_position()) history_.truncate_to(p.prev());
          history_.append(t.zxid, std::move(t.data));
        }
        p = p.next();
      }
    } else {
      auto& sr = std::get<SnapshotRecord>(*record);
      if (sr.position <= history_.snapshot_position()) continue;
      if (history_.zxid_at(sr.position) == sr.zxid) {
        LS_ASSERT_EQ(history_.digest_at(sr.position).value_or(0), sr.digest);
        history_.compact(sr.position, std::move(sr.data));
      } else {
        history_.restore(sr.position, sr.zxid, sr.digest, std::move(sr.data));
      }
    }
  }
  commit_ = applied_ = history_.snapshot_position();
  durable_position_ = history_.last_position();
  reported_term_ = accepted_epoch_;
  if (history_.snapshot_position() > Position{0}) {
    out_.snapshot =
        consensus::SnapshotInstall{history_.snapshot_position().value, history_.snapshot_data()};
  }
  // ZooKeeper starts every server LOOKING: a restarted server rejoins through the answers of
  // those that are FOLLOWING or LEADING, without disturbing them.
  become_looking(now);
}

// ---- Dispatch -------------------------------------------------------------------------------------

void ZabReplica::receive(Nanos now, NodeId from, ByteView bytes) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  auto message = decode_message(bytes);
  if (!message || from == self_ || !is_member(from)) {
    ++malformed_messages_;
    return;
  }
  if (session_seq(*message)) {
    on_session_message(now, from, *message, bytes);
    return;
  }
  dispatch(now, from, *message);
}

void ZabReplica::dispatch(Nanos now, NodeId from, ZabMessage& message) {
  std::visit(
      [&](auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, Notification> || std::is_same_v<M, FollowerInfo> ||
                      std::is_same_v<M, AckEpoch> || std::is_same_v<M, Ack> ||
                      std::is_same_v<M, PingAck>) {
          handle(now, from, m);
        } else {
          handle(now, m);
        }
      },
      message);
}

// The follower's end of a session: leader-to-follower messages are processed strictly in sequence
// order (the FIFO channel Zab assumes). Duplicates are dropped; a message ahead of a gap is held
// until the gap closes, for at most gap_timeout and reorder_window messages, after which the
// follower reconnects: the leader then re-synchronizes it from its last zxid.
void ZabReplica::on_session_message(Nanos now, NodeId from, ZabMessage& message, ByteView bytes) {
  if (state_ != ServerState::following || leader_ != from) return;  // stale: an old leader
  const auto [session, seq] = *session_seq(message);
  if (session != session_) return;  // an old session
  if (!got_new_epoch_ && std::holds_alternative<NewEpoch>(message)) {
    // The session's first message, numbered from where this leadership numbers it. The session
    // is ours, but the leader may have taken it twice: in discovery we keep sending FOLLOWERINFO
    // until a NEWEPOCH comes, and if the leader lost its quorum and was elected again meanwhile,
    // both leaderships answered it. What we hold numbered otherwise is the other's: dropped.
    std::erase_if(held_, [&](const auto& h) {
      return h.first <= seq || h.first - seq > config_.reorder_window;
    });
    next_seq_ = seq;
  }
  if (seq < next_seq_) return;  // a duplicate
  if (seq > next_seq_) {
    if (held_.size() >= config_.reorder_window) {
      reconnect(now);
      return;
    }
    held_.try_emplace(seq, bytes.begin(), bytes.end());
    if (!gap_deadline_) gap_deadline_ = now + config_.gap_timeout;
    return;
  }
  deliver_in_session(now, message);
  while (state_ == ServerState::following && session_ == session && !held_.empty() &&
         held_.begin()->first == next_seq_) {
    const Bytes held = std::move(held_.begin()->second);
    held_.erase(held_.begin());
    auto next = decode_message(held);
    LS_ASSERT(next.has_value());  // decoded once already when it arrived
    deliver_in_session(now, *next);
  }
  if (state_ == ServerState::following && session_ == session) {
    gap_deadline_.reset();
    if (!held_.empty()) gap_deadline_ = now + config_.gap_timeout;
  }
}

void ZabReplica::deliver_in_session(Nanos now, ZabMessage& message) {
  ++next_seq_;
  last_heard_leader_ = now;
  dispatch(now, *leader_, message);
}

void ZabReplica::send(NodeId to, const ZabMessage& message) {
  encode_to(out_.messages.open(to), message);
  out_.messages.close();
}

template <typename M>
void ZabReplica::send_in_session(Peer& peer, M message) {
  message.session = peer.session;
  message.seq = peer.next_seq++;
  send(peer.id, message);
}

template void ZabReplica::send_in_session(Peer&, NewEpoch);
template void ZabReplica::send_in_session(Peer&, Trunc);
template void ZabReplica::send_in_session(Peer&, Snap);
template void ZabReplica::send_in_session(Peer&, NewLeader);
template void ZabReplica::send_in_session(Peer&, UpToDate);
template void ZabReplica::send_in_session(Peer&, Commit);
template void ZabReplica::send_in_session(Peer&, Ping);

// ---- Timers ---------------------------------------------------------------------------------------

void ZabReplica::tick(Nanos now) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  wake_now_ = false;
  switch (state_) {
    case ServerState::looking: election_tick(now); break;
    case ServerState::following: follower_tick(now); break;
    case ServerState::leading: leader_tick(now); break;
  }
}

Nanos ZabReplica::next_tick() const {
  if (wake_now_) return last_now_;
  switch (state_) {
    case ServerState::looking:
      return finalize_deadline_ ? std::min(*finalize_deadline_, notify_deadline_)
                                : notify_deadline_;
    case ServerState::following: {
      Nanos next = phase_ == Phase::broadcast ? last_heard_leader_ + config_.sync_timeout
                                              : std::min(init_deadline_, retransmit_deadline_);
      if (gap_deadline_) next = std::min(next, *gap_deadline_);
      return next;
    }
    case ServerState::leading:
      return std::min(heartbeat_deadline_, established_ ? quorum_check_deadline_ : init_deadline_);
  }
  return Nanos::max();
}

Nanos ZabReplica::jittered(Nanos timeout) {
  return timeout + Nanos{rng_.between(0, timeout.count / 2)};
}

// ---- Roles ----------------------------------------------------------------------------------------

// Forgets everything of the follower's and the leader's roles.
void ZabReplica::leave_role() {
  leader_.reset();
  session_ = 0;
  next_seq_ = 1;
  held_.clear();
  gap_deadline_.reset();
  got_new_epoch_ = false;
  synced_ = false;
  flush_unlogged();
  peers_.clear();
  new_epoch_.reset();
  sync_started_ = false;
  self_synced_ = false;
  established_ = false;
  pending_reads_.clear();  // the host learns from the role change that they will not complete
  commit_ = std::min(commit_, history_.last_position());
}

void ZabReplica::become_looking(Nanos now) {
  leave_role();
  state_ = ServerState::looking;
  phase_ = Phase::election;
  start_election(now);
}

void ZabReplica::become_leading(Nanos now) {
  leave_role();
  state_ = ServerState::leading;
  phase_ = Phase::discovery;
  leader_ = self_;
  peers_.reserve(members_.size());
  for (NodeId id : members_) {
    if (id != self_) peers_.push_back(Peer{id});
  }
  init_deadline_ = now + config_.init_timeout;
  heartbeat_deadline_ = now + config_.heartbeat_interval;
  maybe_decide_epoch(now);  // a one-server ensemble is its own quorum
}

void ZabReplica::start_following(Nanos now, NodeId leader) {
  leave_role();
  state_ = ServerState::following;
  phase_ = Phase::discovery;
  leader_ = leader;
  session_ = rng_.next() | 1;  // never 0, which marks "no session"
  init_deadline_ = now + config_.init_timeout;
  retransmit_deadline_ = now + config_.heartbeat_interval;
  last_heard_leader_ = now;
  send_follower_info();
}

// A broken session: open a new one with the same leader, which synchronizes us again.
void ZabReplica::reconnect(Nanos now) {
  LS_ASSERT(state_ == ServerState::following && leader_);
  ++reconnects_;
  start_following(now, *leader_);
}

Peer* ZabReplica::find_peer(NodeId id) {
  for (Peer& p : peers_) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const Peer* ZabReplica::peer(NodeId id) const {
  for (const Peer& p : peers_) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

bool ZabReplica::is_member(NodeId id) const {
  return std::binary_search(members_.begin(), members_.end(), id);
}

// ---- Persistence ----------------------------------------------------------------------------------

void ZabReplica::persist_epochs() {
  encode_to(out_.persist.open(),
            ZabRecord{EpochRecord{accepted_epoch_, accepted_from_, current_epoch_}});
  out_.persist.close();
  out_.sync_before_send = true;
}

// Writes positions first..last. The caller decides whether they must be synced before sending.
void ZabReplica::write_txns_from(Position first) {
  flush_unlogged();
  encode_txns_record_to(out_.persist.open(), first, history_.iterator_at(first),
                        history_.iterator_at(history_.last_position().next()));
  out_.persist.close();
}

// ack_newleader_before_sync: synchronized transactions are written late, and without a sync.
void ZabReplica::flush_unlogged() {
  if (!unlogged_from_) return;
  const Position first = *unlogged_from_;
  unlogged_from_.reset();
  if (first > history_.last_position()) return;
  encode_txns_record_to(out_.persist.open(), first, history_.iterator_at(first),
                        history_.iterator_at(history_.last_position().next()));
  out_.persist.close();
}

// The whole durable state as a fresh record log: after a snapshot the old records are garbage.
void ZabReplica::persist_rewrite() {
  unlogged_from_.reset();
  out_.persist.clear();
  out_.persist_rewrite = true;
  out_.persist.add(encode(ZabRecord{EpochRecord{accepted_epoch_, accepted_from_, current_epoch_}}));
  out_.persist.add(encode(ZabRecord{SnapshotRecord{history_.snapshot_position(),
                                                   history_.snapshot_zxid(),
                                                   history_.snapshot_digest(),
                                                   history_.snapshot_data()}}));
  if (history_.size() > 0) {
    encode_txns_record_to(out_.persist.open(), history_.first_position(),
                          history_.iterator_at(history_.first_position()),
                          history_.iterator_at(history_.last_position().next()));
    out_.persist.close();
  }
  out_.sync_before_send = true;
}

void ZabReplica::compact(Nanos now, std::uint64_t index, Bytes snapshot) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  const Position p{index};
  LS_ASSERT_LE(p, applied_);  // only what the host has applied can be in its snapshot
  if (p <= history_.snapshot_position()) return;
  history_.compact(p, std::move(snapshot));
  persist_rewrite();
}

// ---- Applying -------------------------------------------------------------------------------------

// Hands the host every committed transaction it has not had, in position order. A history cut
// below what was applied (only a safety bug can do that; the checker reports it) delivers nothing
// until it grows past the applied position again.
void ZabReplica::apply_committed() {
  for (Position p = applied_.next(); p <= commit_; p = p.next()) {
    out_.committed.add(p.value, history_.at(p).data);
  }
  applied_ = std::max(applied_, commit_);
}

// ---- Output ---------------------------------------------------------------------------------------

void ZabReplica::take_output(consensus::Output& out) {
  // Everything written has now been handed to the host, to be synced before our next message:
  // the leader's own acknowledgements (of NEWLEADER and of its proposals) count from here.
  if (state_ == ServerState::leading) {
    if (sync_started_ && !self_synced_) {
      self_synced_ = true;
      wake_now_ = true;
    }
    if (durable_position_ != history_.last_position()) {
      durable_position_ = history_.last_position();
      if (established_ && quorum_position() > commit_) wake_now_ = true;
    }
  } else {
    durable_position_ = history_.last_position();
  }
  const consensus::Role role = public_role(state_, established_);
  const std::optional<NodeId> leader = state_ == ServerState::looking ? std::nullopt : leader_;
  if (role != reported_role_ || accepted_epoch_ != reported_term_ || leader != reported_leader_) {
    out_.role_change = consensus::RoleChange{role, accepted_epoch_.value, leader};
    reported_role_ = role;
    reported_term_ = accepted_epoch_;
    reported_leader_ = leader;
  }
  // Swapping keeps both buffers' capacity: neither side allocates once warm.
  out.clear();
  if (!out_.empty()) swap(out, out_);
}

consensus::Status ZabReplica::status() const {
  consensus::Status s;
  s.self = self_;
  s.role = public_role(state_, established_);
  s.term = accepted_epoch_.value;
  s.leader = state_ == ServerState::looking ? std::nullopt : leader_;
  s.commit_index = commit_.value;
  s.last_index = history_.last_position().value;
  s.members = members_;
  return s;
}

consensus::ProposeResult ZabReplica::change_membership(Nanos now, consensus::MembershipChange) {
  last_now_ = now;
  return {consensus::Outcome::unsupported, leader_};
}

consensus::ProposeResult ZabReplica::transfer_leadership(Nanos now, NodeId) {
  last_now_ = now;
  return {consensus::Outcome::unsupported, leader_};
}

}  // namespace lockstep::zab
