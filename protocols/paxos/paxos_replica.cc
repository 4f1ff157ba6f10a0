// PaxosReplica: construction, recovery, the message dispatcher, timers, role changes, persistence,
// the acceptance journal and applying chosen values. The protocol rules live in paxos_phase1.cc,
// paxos_phase2.cc and paxos_read.cc.
#include "protocols/paxos/paxos_replica.h"

#include <algorithm>
#include <utility>

#include "core/assert.h"

namespace lockstep::paxos {

namespace {

consensus::Role public_role(PaxosRole role) {
  switch (role) {
    case PaxosRole::follower: return consensus::Role::follower;
    case PaxosRole::candidate: return consensus::Role::candidate;
    case PaxosRole::leader: return consensus::Role::leader;
  }
  return consensus::Role::follower;
}

}  // namespace

PaxosReplica::PaxosReplica(const PaxosConfig& config, NodeId self, std::vector<NodeId> members,
                           std::uint64_t seed)
    : config_(config), self_(self), members_(std::move(members)), rng_(seed) {
  const auto error = validate(config_);
  LS_ASSERT_MSG(!error, error.value_or(""));
  std::sort(members_.begin(), members_.end());
  members_.erase(std::unique(members_.begin(), members_.end()), members_.end());
}

std::unique_ptr<consensus::Replica> make_paxos_replica(const PaxosConfig& config, NodeId self,
                                                       std::vector<NodeId> members,
                                                       std::uint64_t seed) {
  return std::make_unique<PaxosReplica>(config, self, std::move(members), seed);
}

// ---- Recovery -----------------------------------------------------------------------------------

void PaxosReplica::recover(Nanos now, std::span<const Bytes> records) {
  LS_ASSERT_MSG(!recovered_, "recover() is the first call and happens once per replica object");
  recovered_ = true;
  recovered_at_ = now;
  last_now_ = now;
  Slot chosen;
  std::size_t position = 0;
  for (const Bytes& bytes : records) {
    auto record = decode_record(bytes);
    // The host's record log has cut any torn or corrupt tail by checksum (core/record_log.h), so a
    // record that does not decode was not written by this code: another protocol's, or a bug.
    LS_ASSERT_MSG(record.has_value(), "record " + std::to_string(position) +
                                          " of the record log is not a Paxos record (format " +
                                          std::to_string(kFormatVersion) + ")");
    ++position;
    if (auto* pr = std::get_if<PromiseRecord>(&*record)) {
      promised_ = std::max(promised_, pr->promised);
    } else if (auto* ir = std::get_if<ProposerRecord>(&*record)) {
      issued_round_ = std::max(issued_round_, ir->round);
    } else if (auto* ar = std::get_if<AcceptRecord>(&*record)) {
      Slot s = ar->first;
      for (Value& v : ar->values) {
        if (s > log_.snapshot_index()) log_.put(s, ar->ballot, v.kind, std::move(v.data));
        s = s.next();
      }
    } else if (auto* cr = std::get_if<ChosenRecord>(&*record)) {
      chosen = std::max(chosen, cr->through);
    } else {
      auto& sr = std::get<SnapshotRecord>(*record);
      if (sr.index > log_.snapshot_index()) log_.install(sr.index, std::move(sr.data));
    }
  }
  commit_ = std::max(chosen, log_.snapshot_index());
  LS_ASSERT_LE(commit_, log_.last_slot());
  persisted_commit_ = commit_;
  applied_ = log_.snapshot_index();
  match_ = commit_;
  max_round_seen_ = std::max(promised_.round, issued_round_);
  reported_term_ = promised_.round;
  role_ = PaxosRole::follower;
  reset_election_timer(now);
  if (config_.lease_reads) promise_quiet_until_ = now + config_.election_timeout_min;
  if (log_.snapshot_index() > Slot{0}) {
    out_.snapshot = consensus::SnapshotInstall{log_.snapshot_index().value, log_.snapshot_data()};
  }
  apply_committed();  // the chosen prefix is known: hand it to the host again
}

// ---- Dispatch -----------------------------------------------------------------------------------

void PaxosReplica::receive(Nanos now, NodeId from, ByteView bytes) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  auto message = decode_message(bytes);
  if (!message || from == self_ || !valid_sender(from, *message)) {
    ++malformed_messages_;
    return;
  }
  std::visit([&](auto& m) { handle(now, from, m); }, *message);
}

// A proposer's messages carry its own ballot; answers to a proposer carry that proposer's ballot.
bool PaxosReplica::valid_sender(NodeId from, const PaxosMessage& message) const {
  if (!is_member(from)) return false;
  return std::visit(
      [&](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, Promise> || std::is_same_v<M, Nack> ||
                      std::is_same_v<M, Accepted>) {
          return m.ballot.node == self_;
        } else if constexpr (std::is_same_v<M, SnapshotMessage>) {
          return !m.from_leader || (m.ballot.node == from && owns(m.ballot));
        } else {
          return m.ballot.node == from && owns(m.ballot);
        }
      },
      message);
}

// PMS §2.5: member k of n issues only rounds r > 0 with r mod n == k.
bool PaxosReplica::owns(Ballot b) const {
  if (b.round == 0) return false;
  const auto it = std::lower_bound(members_.begin(), members_.end(), b.node);
  if (it == members_.end() || *it != b.node) return false;
  return b.round % members_.size() == static_cast<std::uint64_t>(it - members_.begin());
}

void PaxosReplica::note_round(Ballot b) { max_round_seen_ = std::max(max_round_seen_, b.round); }

void PaxosReplica::send(NodeId to, const PaxosMessage& message) {
  encode_to(out_.messages.open(to), message);
  out_.messages.close();
}

bool PaxosReplica::is_member(NodeId id) const {
  return std::binary_search(members_.begin(), members_.end(), id);
}

// ---- Timers ---------------------------------------------------------------------------------------

void PaxosReplica::tick(Nanos now) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  wake_now_ = false;
  if (role_ != PaxosRole::leader) {
    if (now >= election_deadline_) {
      if (is_member(self_)) {
        campaign(now, Campaign::timeout);  // a candidate whose phase 1 stalled retries higher
      } else {
        reset_election_timer(now);
      }
    }
    return;
  }
  maybe_commit(now);  // the leader's own records became durable at the last take_output()
  if (role_ != PaxosRole::leader) return;
  if (now >= heartbeat_deadline_) broadcast_heartbeat(now);
  if (config_.master_lease && now >= check_quorum_deadline_) {
    // PML §5.2: a master that cannot renew its lease with a quorum stops serving.
    std::size_t active = 1;
    for (Progress& pr : peers_) {
      if (pr.recent_active) ++active;
      pr.recent_active = false;
    }
    if (active < quorum()) {
      become_follower(now, std::nullopt);
      return;
    }
    check_quorum_deadline_ = now + config_.election_timeout_min;
  }
  if (transfer_target_ && now >= transfer_deadline_) transfer_target_.reset();
}

Nanos PaxosReplica::next_tick() const {
  if (wake_now_) return last_now_;
  if (role_ != PaxosRole::leader) return election_deadline_;
  Nanos next = heartbeat_deadline_;
  if (config_.master_lease) next = std::min(next, check_quorum_deadline_);
  if (transfer_target_) next = std::min(next, transfer_deadline_);
  return next;
}

void PaxosReplica::reset_election_timer(Nanos now) {
  election_deadline_ = now + Nanos{rng_.between(config_.election_timeout_min.count,
                                                config_.election_timeout_max.count)};
}

// ---- Roles ----------------------------------------------------------------------------------------

void PaxosReplica::become_follower(Nanos now, std::optional<NodeId> leader) {
  role_ = PaxosRole::follower;
  ballot_ = Ballot{};
  leader_ = leader;
  if (leader) last_heard_leader_at_ = now;
  transfer_campaign_ = false;
  boosting_ = false;
  promises_.clear();
  refusals_.clear();
  peers_.clear();
  evidence_.reset();
  transfer_target_.reset();
  pending_reads_.clear();  // the host learns from the role change that they will not complete
  round_sent_at_.clear();
  reset_election_timer(now);
}

Progress* PaxosReplica::find_progress(NodeId id) {
  for (Progress& pr : peers_) {
    if (pr.id == id) return &pr;
  }
  return nullptr;
}

const Progress* PaxosReplica::progress(NodeId peer) const {
  for (const Progress& pr : peers_) {
    if (pr.id == peer) return &pr;
  }
  return nullptr;
}

consensus::ProposeResult PaxosReplica::change_membership(Nanos now, consensus::MembershipChange) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  return {consensus::Outcome::unsupported, leader_};  // the configuration is fixed (README)
}

// ---- Persistence (PMS §2.5: recorded in stable storage before the response is sent) -----------

void PaxosReplica::persist_promise() {
  encode_to(out_.persist.open(), PaxosRecord{PromiseRecord{promised_}});
  out_.persist.close();
  out_.sync_before_send = true;
}

void PaxosReplica::persist_issued_round() {
  encode_to(out_.persist.open(), PaxosRecord{ProposerRecord{issued_round_}});
  out_.persist.close();
  out_.sync_before_send = true;
}

// Slots first..last, which all hold values accepted in one ballot.
void PaxosReplica::persist_accepted(Slot first, Slot last) {
  LS_ASSERT_LE(first, last);
  encode_accept_record_to(out_.persist.open(), log_.at(first).ballot, first,
                          log_.iterator_at(first), log_.iterator_at(last.next()));
  out_.persist.close();
  out_.sync_before_send = true;
}

// The whole durable state as a fresh record log: after a snapshot the old records are garbage.
void PaxosReplica::persist_rewrite() {
  out_.persist.clear();
  out_.persist_rewrite = true;
  out_.persist.add(encode(PaxosRecord{PromiseRecord{promised_}}));
  out_.persist.add(encode(PaxosRecord{ProposerRecord{issued_round_}}));
  if (log_.snapshot_index() > Slot{0}) {
    out_.persist.add(
        encode(PaxosRecord{SnapshotRecord{log_.snapshot_index(), log_.snapshot_data()}}));
  }
  // One record per run of consecutive slots accepted in the same ballot (empty slots end runs).
  std::optional<Slot> run;
  for (Slot s = log_.first_slot(); s <= log_.last_slot(); s = s.next()) {
    if (!log_.holds(s)) continue;
    if (!run) run = s;
    if (s == log_.last_slot() || !log_.holds(s.next()) ||
        log_.at(s.next()).ballot != log_.at(*run).ballot) {
      persist_accepted(*run, s);
      run.reset();
    }
  }
  out_.persist.add(encode(PaxosRecord{ChosenRecord{commit_}}));
  persisted_commit_ = commit_;
  out_.sync_before_send = true;
}

// ---- The acceptance journal (for the checker) ----------------------------------------------------

void PaxosReplica::record_acceptance(Slot s) {
  const Entry& e = log_.at(s);
  const Acceptance a{s, e.ballot, e.digest};
  if (journal_.size() < kJournalKept) {
    journal_.push_back(a);
  } else {
    journal_[journal_end_ % kJournalKept] = a;
  }
  ++journal_end_;
}

const Acceptance& PaxosReplica::acceptance(std::uint64_t seq) const {
  LS_ASSERT_GE(seq, journal_begin());
  LS_ASSERT_LT(seq, journal_end_);
  return journal_[seq % kJournalKept];
}

// ---- Applying -------------------------------------------------------------------------------------

void PaxosReplica::apply_committed() {
  LS_ASSERT_LE(commit_, log_.last_slot());
  for (Slot s = std::max(applied_.next(), log_.first_slot()); s <= commit_; s = s.next()) {
    const Entry& e = log_.at(s);
    if (e.kind == ValueKind::command) out_.committed.add(s.value, e.data);
  }
  applied_ = std::max(applied_, commit_);
}

void PaxosReplica::compact(Nanos now, std::uint64_t index, Bytes snapshot) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  const Slot i{index};
  if (i <= log_.snapshot_index()) return;  // already covered by a newer snapshot
  LS_ASSERT_MSG(i <= applied_, "compact() past what the state machine was handed");
  log_.compact(i, std::move(snapshot));
  persist_rewrite();
}

// ---- Output ---------------------------------------------------------------------------------------

void PaxosReplica::take_output(consensus::Output& out) {
  if (std::exchange(accepts_due_, false) && role_ == PaxosRole::leader) broadcast_accepts(last_now_);
  // What is chosen rides along with records written anyway, never costing a write of its own.
  if (!out_.persist.empty() && commit_ > persisted_commit_) {
    out_.persist.add(encode(PaxosRecord{ChosenRecord{commit_}}));
    persisted_commit_ = commit_;
  }
  // Everything in the log has now been handed to the host, to be synced before our next message.
  const bool durable_advanced = durable_ != log_.last_slot();
  durable_ = log_.last_slot();
  const consensus::Role role = public_role(role_);
  if (role != reported_role_ || promised_.round != reported_term_ || leader_ != reported_leader_) {
    out_.role_change = consensus::RoleChange{role, promised_.round, leader_};
    reported_role_ = role;
    reported_term_ = promised_.round;
    reported_leader_ = leader_;
  }
  // The leader's own acceptances now count: if that completes a quorum, ask to be ticked at once.
  if (durable_advanced && role_ == PaxosRole::leader && quorum_match() > commit_) wake_now_ = true;
  out.clear();
  if (!out_.empty()) swap(out, out_);  // keeps both buffers' capacity
  last_accept_.reset();
}

consensus::Status PaxosReplica::status() const {
  consensus::Status s;
  s.self = self_;
  s.role = public_role(role_);
  s.term = promised_.round;
  s.leader = leader_;
  s.commit_index = commit_.value;
  s.last_index = log_.last_slot().value;
  s.members = members_;
  return s;
}

}  // namespace lockstep::paxos
