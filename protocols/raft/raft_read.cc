// Linearizable reads without writing to the log (thesis §6.4 ReadIndex, §6.4.1 leases).
//
// Every message the leader sends carries the number of its latest heartbeat round; a follower's
// reply in the same term proves it still accepted this leader after the round began. Once a
// quorum has confirmed a round that began after a read barrier was requested, no other leader can
// have committed anything the read must see, so the read is safe at the commit index recorded
// for it.
#include "core/assert.h"
#include "protocols/raft/raft_replica.h"

namespace lockstep::raft {

namespace {
// Rounds awaiting a quorum are remembered with their send time (for the lease); beyond this many
// the oldest are forgotten, which only means the lease is not extended from them.
constexpr std::size_t kRoundsTrackedMax = 1024;
}  // namespace

consensus::ProposeResult RaftReplica::read_barrier(Nanos now, std::uint64_t read_id) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  if (role_ != RaftRole::leader) return {consensus::Outcome::not_leader, leader_};
  if (pending_reads_.size() >= config_.max_pending_reads) {
    return {consensus::Outcome::busy, leader_};
  }
  const bool own_term = committed_own_term();
  if (own_term && lease_valid(now)) {
    out_.reads.push_back(consensus::ReadReady{read_id, commit_.value});  // §6.4.1
    return {consensus::Outcome::accepted, leader_};
  }
  // §6.4: record the commit index (once this term has one), then confirm with a fresh round.
  broadcast_heartbeat(now);
  pending_reads_.push_back(PendingRead{
      read_id, own_term ? std::optional<LogIndex>(commit_) : std::nullopt, round_});
  advance_reads(now);
  return {consensus::Outcome::accepted, leader_};
}

bool RaftReplica::lease_valid(Nanos now) const {
  return config_.lease_reads && role_ == RaftRole::leader && !lease_disabled_ &&
         now < lease_expiry_;
}

// Starts a new round and sends it to every follower with the commit index each may apply.
void RaftReplica::broadcast_heartbeat(Nanos now) {
  ++round_;
  round_sent_at_.emplace_back(round_, now);
  if (round_sent_at_.size() > kRoundsTrackedMax) round_sent_at_.pop_front();
  for (const Progress& pr : peers_) {
    send(pr.id, Heartbeat{term_, std::min(pr.match, commit_), round_});
  }
  heartbeat_deadline_ = now + config_.heartbeat_interval;
}

void RaftReplica::note_round_ack(Nanos now, Progress& pr, std::uint64_t round) {
  if (role_ != RaftRole::leader || round <= pr.acked_round) return;
  if (round > round_) {
    ++malformed_messages_;  // echoes a round we never started
    return;
  }
  pr.acked_round = round;
  advance_reads(now);
}

// The newest round a quorum of the current configuration has confirmed (the leader confirms its
// own rounds as it starts them).
std::uint64_t RaftReplica::quorum_round() {
  return quorum_value(round_, [](const Progress& pr) { return pr.acked_round; });
}

void RaftReplica::advance_reads(Nanos /*now*/) {
  if (round_sent_at_.empty() && pending_reads_.empty()) return;  // nothing waits for a round
  const std::uint64_t confirmed = quorum_round();
  while (!round_sent_at_.empty() && round_sent_at_.front().first <= confirmed) {
    if (round_sent_at_.front().first == confirmed && config_.lease_reads && !lease_disabled_) {
      // §6.4.1: followers that confirmed this round will not vote for election_timeout_min
      // after receiving it, measured on their clocks; allow for the drift between clocks.
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

}  // namespace lockstep::raft
