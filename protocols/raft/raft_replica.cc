// RaftReplica: construction, recovery, the message dispatcher, timers, role changes,
// persistence and applying committed entries. The protocol rules live in raft_election.cc,
// raft_replication.cc, raft_read.cc and raft_membership.cc.
#include "protocols/raft/raft_replica.h"

#include <algorithm>
#include <utility>

#include "core/assert.h"

namespace lockstep::raft {

namespace {

consensus::Role public_role(RaftRole role) {
  switch (role) {
    case RaftRole::follower:
    case RaftRole::precandidate: return consensus::Role::follower;
    case RaftRole::candidate: return consensus::Role::candidate;
    case RaftRole::leader: return consensus::Role::leader;
  }
  return consensus::Role::follower;
}

Term message_term(const RaftMessage& m) {
  return std::visit([](const auto& x) { return x.term; }, m);
}

}  // namespace

RaftReplica::RaftReplica(const RaftConfig& config, NodeId self, std::vector<NodeId> members,
                         std::uint64_t seed)
    : config_(config), self_(self), rng_(seed), log_(std::move(members)) {
  const auto error = validate(config_);
  LS_ASSERT_MSG(!error, error.value_or(""));
}

std::unique_ptr<consensus::Replica> make_raft_replica(const RaftConfig& config, NodeId self,
                                                      std::vector<NodeId> members,
                                                      std::uint64_t seed) {
  return std::make_unique<RaftReplica>(config, self, std::move(members), seed);
}

// ---- Recovery -----------------------------------------------------------------------------------

void RaftReplica::recover(Nanos now, std::span<const Bytes> records) {
  LS_ASSERT_MSG(!recovered_, "recover() is the first call and happens once per replica object");
  recovered_ = true;
  recovered_at_ = now;
  last_now_ = now;
  std::size_t position = 0;
  RaftRecord decoded;  // reused: its entries' buffers serve every record
  for (const Bytes& bytes : records) {
    // Records passed the host's checksum, so a record we cannot read was not written by this
    // code: the record log belongs to another protocol or format version.
    const bool ok = decode_record_into(bytes, decoded);
    LS_ASSERT_MSG(ok, "record " + std::to_string(position) +
                          " of the record log is not a Raft record (format " +
                          std::to_string(kFormatVersion) + ")");
    ++position;
    if (auto* hs = std::get_if<HardStateRecord>(&decoded)) {
      term_ = hs->term;
      voted_for_ = hs->voted_for;
    } else if (auto* er = std::get_if<EntriesRecord>(&decoded)) {
      LS_ASSERT_LE(er->first_index, log_.last_index().next());
      LogIndex index = er->first_index;
      for (Entry& e : er->entries) {
        if (index > log_.snapshot_index()) {
          if (index <= log_.last_index()) log_.truncate_from(index);
          log_.append(e.term, e.kind, e.data);
        }
        index = index.next();
      }
    } else {
      auto& sr = std::get<SnapshotRecord>(decoded);
      if (sr.last_index <= log_.snapshot_index()) continue;
      if (log_.matches(sr.last_index, sr.last_term)) {
        LS_ASSERT_EQ(log_.digest_at(sr.last_index).value_or(0), sr.digest);
        log_.compact(sr.last_index, std::move(sr.data));
      } else {
        log_.restore(sr.last_index, sr.last_term, sr.digest, std::move(sr.members),
                     std::move(sr.data));
      }
    }
  }
  commit_ = applied_ = log_.snapshot_index();
  durable_index_ = log_.last_index();
  reported_term_ = term_;
  role_ = RaftRole::follower;
  reset_election_timer(now);
  if (config_.lease_reads) vote_quiet_until_ = now + config_.election_timeout_min;
  if (log_.snapshot_index() > LogIndex{0}) {
    out_.snapshot = consensus::SnapshotInstall{log_.snapshot_index().value, log_.snapshot_data()};
  }
}

// ---- Dispatch -----------------------------------------------------------------------------------

void RaftReplica::receive(Nanos now, NodeId from, ByteView bytes) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  if (!decode_message_into(bytes, received_) || from == self_) {
    ++malformed_messages_;
    return;
  }
  if (!step_term(now, from, received_)) return;
  std::visit([&](auto& m) { handle(now, from, m); }, received_);
}

// The term rules every message goes through first (§5.1, thesis §4.2.3, §9.6). Returns false when
// the message has been fully dealt with.
bool RaftReplica::step_term(Nanos now, NodeId from, const RaftMessage& message) {
  const Term mt = message_term(message);
  const auto* vote_request = std::get_if<VoteRequest>(&message);
  if (mt > term_) {
    if (vote_request) {
      // Stickiness: a replica that recently heard from a leader will not help depose it.
      if (!vote_request->transfer && in_leader_lease(now)) return false;
      if (vote_request->prevote) return true;  // a PreVote does not move anyone's term
      become_follower(now, mt, std::nullopt);
      return true;
    }
    if (const auto* vr = std::get_if<VoteResponse>(&message); vr && vr->prevote && vr->granted) {
      return true;  // carries the term we would campaign in, not the voter's
    }
    const bool from_leader = std::holds_alternative<AppendRequest>(message) ||
                             std::holds_alternative<Heartbeat>(message) ||
                             std::holds_alternative<SnapshotRequest>(message) ||
                             std::holds_alternative<TimeoutNow>(message);
    become_follower(now, mt, from_leader ? std::optional<NodeId>(from) : std::nullopt);
    return true;
  }
  if (mt < term_) {
    // Tell a stale leader or candidate about the newer term so that it steps down (§5.1).
    if (vote_request) {
      send(from, VoteResponse{term_, false, vote_request->prevote});
    } else if (std::holds_alternative<AppendRequest>(message) ||
               std::holds_alternative<Heartbeat>(message) ||
               std::holds_alternative<SnapshotRequest>(message)) {
      send(from, HeartbeatResponse{term_, 0});
    }
    return false;
  }
  return true;
}

void RaftReplica::send(NodeId to, const RaftMessage& message) {
  encode_to(out_.messages.open(to), message);
  out_.messages.close();
}

// ---- Timers ---------------------------------------------------------------------------------------

void RaftReplica::tick(Nanos now) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  wake_now_ = false;
  if (role_ != RaftRole::leader) {
    if (now >= election_deadline_) {
      if (is_voter(self_)) {
        campaign(now, config_.prevote ? Campaign::prevote : Campaign::election);
      } else {
        reset_election_timer(now);  // not a member: wait to be contacted
      }
    }
    return;
  }
  maybe_commit(now);  // the leader's own records became durable at the last take_output()
  if (role_ != RaftRole::leader) return;
  if (now >= heartbeat_deadline_) broadcast_heartbeat(now);
  if (config_.check_quorum && now >= check_quorum_deadline_) {
    std::size_t active = is_voter(self_) ? 1 : 0;
    for (Progress& pr : peers_) {
      if (pr.recent_active && is_voter(pr.id)) ++active;
      pr.recent_active = false;
    }
    if (active < quorum()) {
      become_follower(now, term_, std::nullopt);  // thesis §6.2: no quorum, no leadership
      return;
    }
    check_quorum_deadline_ = now + config_.election_timeout_min;
  }
  if (transfer_target_ && now >= transfer_deadline_) transfer_target_.reset();  // §3.10: abort
  advance_catch_up(now);
}

Nanos RaftReplica::next_tick() const {
  if (wake_now_) return last_now_;
  if (role_ != RaftRole::leader) return election_deadline_;
  Nanos next = heartbeat_deadline_;
  if (config_.check_quorum) next = std::min(next, check_quorum_deadline_);
  if (transfer_target_) next = std::min(next, transfer_deadline_);
  return next;
}

void RaftReplica::reset_election_timer(Nanos now) {
  election_deadline_ = now + Nanos{rng_.between(config_.election_timeout_min.count,
                                                config_.election_timeout_max.count)};
}

// ---- Roles ----------------------------------------------------------------------------------------

void RaftReplica::become_follower(Nanos now, Term term, std::optional<NodeId> leader) {
  LS_ASSERT_GE(term, term_);
  if (term > term_) {
    term_ = term;
    voted_for_.reset();
    persist_hard_state();
  }
  role_ = RaftRole::follower;
  leader_ = leader;
  if (leader) last_heard_leader_at_ = now;
  votes_.clear();
  peers_.clear();
  transfer_target_.reset();
  catch_up_.reset();
  pending_reads_.clear();  // the host learns from the role change that they will not complete
  round_sent_at_.clear();
  reset_election_timer(now);
}

void RaftReplica::become_leader(Nanos now) {
  LS_ASSERT_EQ(voted_for_, std::optional<NodeId>(self_));
  role_ = RaftRole::leader;
  leader_ = self_;
  votes_.clear();
  peers_.clear();
  transfer_target_.reset();
  catch_up_.reset();
  pending_reads_.clear();
  round_sent_at_.clear();
  lease_expiry_ = Nanos::zero();
  lease_disabled_ = false;
  sync_peers();
  heartbeat_deadline_ = now + config_.heartbeat_interval;
  check_quorum_deadline_ = now + config_.election_timeout_min;
  // §5.4.2, §8: a no-op of the new term lets earlier-term entries commit (and reads proceed).
  const LogIndex noop = log_.append(term_, EntryKind::noop, {});
  persist_entries_from(noop);
  broadcast_append(now);
  maybe_commit(now);
}

// Leader: one Progress per member other than itself, in member order (deterministic).
void RaftReplica::sync_peers() {
  std::vector<Progress> next;
  next.reserve(log_.members().size() + 1);
  const auto keep = [&](NodeId id) {
    if (id == self_) return;
    if (Progress* existing = find_progress(id)) {
      next.push_back(std::move(*existing));
    } else {
      next.emplace_back(id, log_.last_index().next(), config_.max_inflight_appends);
    }
  };
  for (NodeId id : log_.members()) keep(id);
  // Thesis §4.2.1: the server catching up is replicated to, but has no vote.
  if (catch_up_ && !is_voter(catch_up_->node)) keep(catch_up_->node);
  peers_ = std::move(next);
}

Progress* RaftReplica::find_progress(NodeId id) {
  for (Progress& pr : peers_) {
    if (pr.id == id) return &pr;
  }
  return nullptr;
}

const Progress* RaftReplica::progress(NodeId peer) const {
  for (const Progress& pr : peers_) {
    if (pr.id == peer) return &pr;
  }
  return nullptr;
}

bool RaftReplica::is_voter(NodeId id) const {
  const auto& m = log_.members();
  return std::binary_search(m.begin(), m.end(), id);
}

bool RaftReplica::committed_own_term() const {
  return role_ == RaftRole::leader && log_.term_at(commit_) == term_;
}

bool RaftReplica::wants_snapshot() const {
  return config_.snapshot_threshold > 0 &&
         applied_.value - log_.snapshot_index().value >= config_.snapshot_threshold;
}

// ---- Persistence ----------------------------------------------------------------------------------

void RaftReplica::persist_hard_state() {
  encode_to(out_.persist.open(), RaftRecord{HardStateRecord{term_, voted_for_}});
  out_.persist.close();
  out_.sync_before_send = true;
}

void RaftReplica::persist_entries_from(LogIndex first) {
  encode_entries_record_to(out_.persist.open(), first, log_.iterator_at(first),
                           log_.iterator_at(log_.last_index().next()));
  out_.persist.close();
  out_.sync_before_send = true;
}

// The whole durable state as a fresh record log: after a snapshot the old records are garbage.
void RaftReplica::persist_rewrite() {
  out_.persist.clear();
  out_.persist_rewrite = true;
  out_.persist.add(encode(RaftRecord{HardStateRecord{term_, voted_for_}}));
  out_.persist.add(encode(RaftRecord{SnapshotRecord{
      log_.snapshot_index(), log_.snapshot_term(), log_.snapshot_digest(),
      log_.snapshot_members(), log_.snapshot_data()}}));
  if (log_.last_index() > log_.snapshot_index()) {
    encode_entries_record_to(out_.persist.open(), log_.first_index(),
                             log_.iterator_at(log_.first_index()),
                             log_.iterator_at(log_.last_index().next()));
    out_.persist.close();
  }
  out_.sync_before_send = true;
}

// ---- Applying -------------------------------------------------------------------------------------

void RaftReplica::apply_committed(Nanos now) {
  LS_ASSERT_LE(commit_, log_.last_index());
  for (LogIndex i = applied_.next(); i <= commit_; i = i.next()) {
    const EntryView e = log_.at(i);
    if (e.kind == EntryKind::command) out_.committed.add(i.value, e.data);
  }
  applied_ = std::max(applied_, commit_);
  // Thesis §4.2.2: a leader that is not in the committed configuration steps down.
  if (role_ == RaftRole::leader && !is_voter(self_) && log_.members_index() <= commit_) {
    become_follower(now, term_, std::nullopt);
  }
}

// ---- Output ---------------------------------------------------------------------------------------

void RaftReplica::take_output(consensus::Output& out) {
  if (std::exchange(append_due_, false) && role_ == RaftRole::leader) broadcast_append(last_now_);
  // Everything in the log has now been handed to the host, to be synced before our next message.
  const bool durable_advanced = durable_index_ != log_.last_index();
  durable_index_ = log_.last_index();
  const consensus::Role role = public_role(role_);
  if (role != reported_role_ || term_ != reported_term_ || leader_ != reported_leader_) {
    out_.role_change = consensus::RoleChange{role, term_.value, leader_};
    reported_role_ = role;
    reported_term_ = term_;
    reported_leader_ = leader_;
  }
  // The leader's own entries now count: if that completes a quorum, ask to be ticked at once.
  if (durable_advanced && role_ == RaftRole::leader && quorum_match() > commit_) wake_now_ = true;
  // Swapping keeps both buffers' capacity: neither side allocates once warm. Only the parts that
  // hold something are swapped (a step fills two or three of them; the others are empty on both
  // sides once `out` is cleared).
  out.clear();
  using std::swap;
  if (!out_.persist.empty()) swap(out.persist, out_.persist);
  if (!out_.messages.empty()) swap(out.messages, out_.messages);
  if (!out_.committed.empty()) swap(out.committed, out_.committed);
  if (!out_.reads.empty()) out.reads.swap(out_.reads);
  out.persist_rewrite = std::exchange(out_.persist_rewrite, false);
  out.sync_before_send = std::exchange(out_.sync_before_send, false);
  if (out_.snapshot) out.snapshot = std::exchange(out_.snapshot, std::nullopt);
  if (out_.role_change) out.role_change = std::exchange(out_.role_change, std::nullopt);
  last_append_.reset();
}

consensus::Status RaftReplica::status() const {
  consensus::Status s;
  s.self = self_;
  s.role = public_role(role_);
  s.term = term_.value;
  s.leader = leader_;
  s.commit_index = commit_.value;
  s.last_index = log_.last_index().value;
  s.members = log_.members();
  return s;
}

}  // namespace lockstep::raft
