// Linearizable reads without choosing a slot: the read barrier (confirm with a quorum that our
// ballot is still current, as Raft's ReadIndex) and, as an option, master-lease reads (PML §5.2).
//
// Every message the leader sends carries the number of its latest heartbeat round; an acceptor's
// answer in the same ballot proves it had not promised a higher ballot after the round began. Once
// a quorum has confirmed a round that began after a read barrier was asked for, no other proposer
// can have finished phase 1 before that, hence none can have had anything chosen that the read
// must see and our commit index does not cover.
#include <algorithm>
#include <functional>

#include "core/assert.h"
#include "protocols/paxos/paxos_replica.h"

namespace lockstep::paxos {

namespace {
// Rounds awaiting a quorum are remembered with their send time (for the lease); beyond this many
// the oldest are forgotten, which only means the lease is not extended from them.
constexpr std::size_t kRoundsTrackedMax = 1024;
}  // namespace

consensus::ProposeResult PaxosReplica::read_barrier(Nanos now, std::uint64_t read_id) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  if (role_ != PaxosRole::leader) return {consensus::Outcome::not_leader, leader_};
  if (pending_reads_.size() >= config_.max_pending_reads) {
    return {consensus::Outcome::busy, leader_};
  }
  const bool ready = ready_for_reads();
  if (ready && lease_valid(now)) {
    out_.reads.push_back(consensus::ReadReady{read_id, commit_.value});
    return {consensus::Outcome::accepted, leader_};
  }
  broadcast_heartbeat(now);
  pending_reads_.push_back(
      PendingRead{read_id, ready ? std::optional<Slot>(commit_) : std::nullopt, round_});
  advance_reads(now);
  return {consensus::Outcome::accepted, leader_};
}

// A new leader may serve reads once everything its phase 1 re-proposed is chosen: that covers
// every value an earlier leader could have had chosen (the promises of a quorum reported them).
bool PaxosReplica::ready_for_reads() const {
  return role_ == PaxosRole::leader && commit_ >= phase1_last_;
}

bool PaxosReplica::lease_valid(Nanos now) const {
  return config_.lease_reads && role_ == PaxosRole::leader && !lease_disabled_ &&
         now < lease_expiry_;
}

// Starts a new round and sends it to every follower with the commit each may learn.
void PaxosReplica::broadcast_heartbeat(Nanos now) {
  ++round_;
  round_sent_at_.emplace_back(round_, now);
  if (round_sent_at_.size() > kRoundsTrackedMax) round_sent_at_.pop_front();
  for (const Progress& pr : peers_) {
    send(pr.id, Heartbeat{ballot_, std::min(pr.match, commit_), round_});
  }
  heartbeat_deadline_ = now + config_.heartbeat_interval;
}

void PaxosReplica::note_round_ack(Nanos now, Progress& pr, std::uint64_t round) {
  if (role_ != PaxosRole::leader || round <= pr.acked_round) return;
  if (round > round_) {
    ++malformed_messages_;  // echoes a round we never started
    return;
  }
  pr.acked_round = round;
  advance_reads(now);
}

// The newest round a quorum has confirmed (the leader confirms its own rounds as it starts them).
std::uint64_t PaxosReplica::quorum_round() {
  scratch_.clear();
  scratch_.push_back(round_);
  for (const Progress& pr : peers_) scratch_.push_back(pr.acked_round);
  if (scratch_.size() < quorum()) return 0;
  std::nth_element(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(quorum() - 1),
                   scratch_.end(), std::greater<>());
  return scratch_[quorum() - 1];
}

void PaxosReplica::advance_reads(Nanos /*now*/) {
  const std::uint64_t confirmed = quorum_round();
  while (!round_sent_at_.empty() && round_sent_at_.front().first <= confirmed) {
    if (round_sent_at_.front().first == confirmed && config_.lease_reads && !lease_disabled_) {
      // PML §5.2: acceptors that confirmed this round promise no one else for
      // election_timeout_min after receiving it, on their clocks; allow for the drift.
      const Nanos expiry = round_sent_at_.front().second + config_.election_timeout_min -
                           config_.lease_clock_drift_bound;
      lease_expiry_ = std::max(lease_expiry_, expiry);
    }
    round_sent_at_.pop_front();
  }
  while (!pending_reads_.empty() && pending_reads_.front().index &&
         pending_reads_.front().round <= confirmed) {
    out_.reads.push_back(
        consensus::ReadReady{pending_reads_.front().read_id, pending_reads_.front().index->value});
    pending_reads_.pop_front();
  }
}

}  // namespace lockstep::paxos
