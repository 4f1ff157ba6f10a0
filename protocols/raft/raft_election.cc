// Leader election: campaigns, PreVote, vote granting and counting (§5.2, §5.4.1, thesis §4.2.3,
// §9.6) and the TimeoutNow half of leadership transfer (thesis §3.10).
#include <algorithm>

#include "core/assert.h"
#include "protocols/raft/raft_replica.h"

namespace lockstep::raft {

void RaftReplica::campaign(Nanos now, Campaign kind) {
  LS_ASSERT(is_voter(self_));
  Term campaign_term;
  if (kind == Campaign::prevote) {
    // Thesis §9.6: ask first, with the term we would use, changing nothing durable.
    role_ = RaftRole::precandidate;
    campaign_term = term_.next();
  } else {
    term_ = term_.next();
    voted_for_ = self_;
    persist_hard_state();  // synced before any RequestVote leaves (sync_before_send)
    role_ = RaftRole::candidate;
    campaign_term = term_;
  }
  leader_.reset();
  peers_.clear();
  transfer_target_.reset();
  pending_reads_.clear();
  votes_.clear();
  reset_election_timer(now);
  record_vote(now, self_, true);
  if (role_ == RaftRole::leader || (kind == Campaign::prevote && role_ != RaftRole::precandidate)) {
    return;  // a single-member cluster wins at once
  }
  const VoteRequest request{campaign_term, log_.last_index(), log_.last_term(),
                            kind == Campaign::prevote, kind == Campaign::transfer};
  for (NodeId id : log_.members()) {
    if (id != self_) send(id, request);
  }
}

void RaftReplica::record_vote(Nanos now, NodeId from, bool granted) {
  if (!is_voter(from)) return;
  for (const auto& [voter, _] : votes_) {
    if (voter == from) return;  // duplicates count once
  }
  votes_.emplace_back(from, granted);
  const auto yes = static_cast<std::size_t>(
      std::count_if(votes_.begin(), votes_.end(), [](const auto& v) { return v.second; }));
  const std::size_t no = votes_.size() - yes;
  if (yes >= quorum()) {
    if (role_ == RaftRole::precandidate) {
      campaign(now, Campaign::election);
    } else {
      become_leader(now);
    }
  } else if (no > log_.members().size() - quorum()) {
    become_follower(now, term_, std::nullopt);  // lost: wait for the winner or the next timeout
  }
}

// Thesis §4.2.3 (etcd's "in lease"): with CheckQuorum, a replica that heard from a leader within
// the minimum election timeout assumes that leader is alive and will not vote it out. Lease reads
// additionally keep a restarted replica quiet for that long, since it may have acknowledged a
// lease just before crashing.
bool RaftReplica::in_leader_lease(Nanos now) const {
  if (now < vote_quiet_until_) return true;
  if (!config_.check_quorum || !leader_) return false;
  if (role_ == RaftRole::leader) return true;
  return last_heard_leader_at_ && now < *last_heard_leader_at_ + config_.election_timeout_min;
}

void RaftReplica::handle(Nanos now, NodeId from, const VoteRequest& m) {
  // step_term has brought a RequestVote to our term; a PreVote may carry term_ + 1.
  const bool prevote_ahead = m.prevote && m.term > term_;
  const bool can_vote = voted_for_ == from || (!voted_for_ && !leader_) || prevote_ahead;
  // §5.4.1: only a candidate whose log is at least as up-to-date as ours may have our vote
  // (skipped under the bug switch, which exists to be found by the fuzzer).
  const bool log_ok = config_.bug_vote_without_log_check ||
                      log_.is_up_to_date(m.last_log_term, m.last_log_index);
  const bool granted = can_vote && log_ok && !(now < vote_quiet_until_);
  if (!granted) {
    send(from, VoteResponse{term_, false, m.prevote});
    return;
  }
  if (m.prevote) {
    send(from, VoteResponse{m.term, true, true});
    return;
  }
  voted_for_ = from;
  persist_hard_state();  // §5.2: the vote is durable before the reply leaves
  reset_election_timer(now);
  send(from, VoteResponse{term_, true, false});
}

void RaftReplica::handle(Nanos now, NodeId from, const VoteResponse& m) {
  if (m.prevote) {
    // A grant carries the term we would campaign in; a refusal carries the voter's term.
    const bool current = m.granted ? m.term == term_.next() : m.term == term_;
    if (role_ == RaftRole::precandidate && current) record_vote(now, from, m.granted);
  } else if (role_ == RaftRole::candidate && m.term == term_) {
    record_vote(now, from, m.granted);
  }
}

void RaftReplica::handle(Nanos now, NodeId from, const TimeoutNow&) {
  // Thesis §3.10: the leader has brought our log up to date; campaign without waiting.
  if (role_ != RaftRole::follower || leader_ != from || !is_voter(self_)) return;
  campaign(now, Campaign::transfer);
}

}  // namespace lockstep::raft
