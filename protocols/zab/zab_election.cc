// Phase 0: Fast Leader Election, as ZooKeeper's FastLeaderElection.lookForLeader and its
// WorkerReceiver implement it (the Zab paper leaves the election open; ZooKeeper's is the one Zab
// runs with). The rules, each marked FLE-n below:
//   FLE-1 a LOOKING server increments its logical clock, votes for itself and notifies everyone;
//   FLE-2 votes are ordered by (peer epoch, last zxid, server id);
//   FLE-3 a notification of a later round moves the receiver to that round: it forgets the votes it
//         had, takes the better of the sender's vote and its own, and notifies everyone;
//   FLE-4 a notification of an earlier round from a LOOKING server is answered with our own vote;
//   FLE-5 in the same round, a better vote is adopted and re-broadcast;
//   FLE-6 once a quorum of the round's votes equals ours, wait finalize_wait for a better one,
//         then settle (LEADING when the vote names us, else FOLLOWING);
//   FLE-7 a FOLLOWING or LEADING server answers a LOOKING one with the leader it follows and its
//         currentEpoch as peer epoch; a LOOKING server that collects such answers from a quorum
//         agreeing on one leader (same server, same peer epoch), which itself answers LEADING,
//         follows it. (ZooKeeper answers with the vote it settled on. Here a follower may rejoin
//         its leader's next epoch by reconnecting, without an election, and its settled vote
//         would then name an older peer epoch than its fellows': a quorum would never agree, and
//         a LOOKING server could never join — ZOOKEEPER-1732's symptom. The live epoch agrees.)
//   FLE-8 with no news, notifications are re-sent after a timeout that doubles up to a bound.
#include <algorithm>

#include "core/assert.h"
#include "protocols/zab/zab_replica.h"

namespace lockstep::zab {

Vote ZabReplica::self_vote() const { return Vote{self_, history_.last_zxid(), current_epoch_}; }

// FLE-1.
void ZabReplica::start_election(Nanos now) {
  ++logical_clock_;
  proposal_ = self_vote();
  votes_.clear();
  out_of_election_.clear();
  finalize_deadline_.reset();
  set_vote_of(self_, proposal_);
  send_notifications();
  notify_timeout_ = config_.notification_timeout_min;
  notify_deadline_ = now + jittered(notify_timeout_);
  check_election_quorum(now);  // a one-server ensemble elects itself
}

void ZabReplica::send_notifications() {
  const Notification n{ServerState::looking, proposal_, logical_clock_};
  std::optional<std::size_t> first;
  for (NodeId id : members_) {
    if (id == self_) continue;
    if (first) {
      out_.messages.add_copy(id, *first);  // the same bytes for everyone: encode once
    } else {
      first = out_.messages.size();
      send(id, n);
    }
  }
}

void ZabReplica::set_vote_of(NodeId from, const Vote& vote) {
  for (auto& [id, v] : votes_) {
    if (id == from) {
      v = vote;
      return;
    }
  }
  votes_.emplace_back(from, vote);
}

std::size_t ZabReplica::agreeing(const Vote& vote) const {
  return static_cast<std::size_t>(std::count_if(
      votes_.begin(), votes_.end(), [&](const auto& entry) { return entry.second == vote; }));
}

// FLE-6: a quorum agrees with our vote; settle after finalize_wait unless a better vote arrives.
void ZabReplica::check_election_quorum(Nanos now) {
  if (finalize_deadline_ || agreeing(proposal_) < quorum()) return;
  finalize_deadline_ = now + config_.finalize_wait;
  if (config_.finalize_wait == Nanos::zero()) settle(now, proposal_);
}

// FLE-7 (ZooKeeper's checkLeader): a leader named by others must say itself that it leads; a vote
// that names us is only trusted from our own round.
bool ZabReplica::leader_confirmed(NodeId leader, std::uint64_t round) const {
  if (leader == self_) return round == logical_clock_;
  for (const auto& [id, n] : out_of_election_) {
    if (id == leader) return n.state == ServerState::leading;
  }
  return false;
}

void ZabReplica::settle(Nanos now, const Vote& vote) {
  current_vote_ = vote;
  current_vote_round_ = logical_clock_;
  finalize_deadline_.reset();
  if (vote.leader == self_) {
    become_leading(now);
  } else {
    start_following(now, vote.leader);
  }
}

void ZabReplica::handle(Nanos now, NodeId from, const Notification& m) {
  if (state_ != ServerState::looking) {
    // FLE-7: tell a LOOKING server whom we follow (or that we lead), in which epoch.
    if (m.state == ServerState::looking) {
      const NodeId leader = state_ == ServerState::leading ? self_ : *leader_;
      send(from, Notification{state_, Vote{leader, history_.last_zxid(), current_epoch_},
                              current_vote_round_});
    }
    return;
  }
  if (m.state == ServerState::looking) {
    if (m.round > logical_clock_) {  // FLE-3
      logical_clock_ = m.round;
      votes_.clear();
      finalize_deadline_.reset();
      const Vote own = self_vote();
      proposal_ = better(m.vote, own) ? m.vote : own;
      set_vote_of(self_, proposal_);
      send_notifications();
    } else if (m.round < logical_clock_) {  // FLE-4
      send(from, Notification{ServerState::looking, proposal_, logical_clock_});
      return;
    } else if (better(m.vote, proposal_)) {  // FLE-5
      proposal_ = m.vote;
      finalize_deadline_.reset();
      set_vote_of(self_, proposal_);
      send_notifications();
    }
    set_vote_of(from, m.vote);
    check_election_quorum(now);
    return;
  }
  // FLE-7: an answer from a server that has settled.
  bool found = false;
  for (auto& [id, n] : out_of_election_) {
    if (id == from) {
      n = m;
      found = true;
    }
  }
  if (!found) out_of_election_.emplace_back(from, m);
  const auto same_leader = [&](const auto& entry) {
    return entry.second.vote.leader == m.vote.leader &&
           entry.second.vote.peer_epoch == m.vote.peer_epoch;
  };
  const auto count = static_cast<std::size_t>(
      std::count_if(out_of_election_.begin(), out_of_election_.end(), same_leader));
  if (count >= quorum() && leader_confirmed(m.vote.leader, m.round)) {
    logical_clock_ = m.round;
    settle(now, m.vote);
  }
}

void ZabReplica::election_tick(Nanos now) {
  if (finalize_deadline_ && now >= *finalize_deadline_) {
    finalize_deadline_.reset();
    if (agreeing(proposal_) >= quorum()) {  // FLE-6: no better vote came
      settle(now, proposal_);
      return;
    }
  }
  if (now >= notify_deadline_) {  // FLE-8
    send_notifications();
    notify_timeout_ = std::min(notify_timeout_ * 2, config_.notification_timeout_max);
    notify_deadline_ = now + jittered(notify_timeout_);
  }
}

}  // namespace lockstep::zab
