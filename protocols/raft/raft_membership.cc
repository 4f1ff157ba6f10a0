// Single-server membership changes (thesis §4.1), leadership transfer (thesis §3.10) and log
// compaction (§7).
#include <algorithm>

#include "core/assert.h"
#include "protocols/raft/raft_replica.h"

namespace lockstep::raft {

consensus::ProposeResult RaftReplica::change_membership(Nanos now,
                                                        consensus::MembershipChange change) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  if (role_ != RaftRole::leader) return {consensus::Outcome::not_leader, leader_};
  if (transfer_target_) return {consensus::Outcome::busy, leader_};
  // Thesis §4.1 (the fix published in 2015): a leader must commit an entry of its own term before
  // changing the configuration; otherwise a change it appends can overlap with an uncommitted
  // change of a previous leader and two disjoint majorities can form.
  if (!committed_own_term()) return {consensus::Outcome::busy, leader_};
  // One change at a time: the previous one must be committed.
  if (log_.members_index() > commit_) return {consensus::Outcome::busy, leader_};

  // One server catching up at a time; asking again for the same one is a no-op.
  if (catch_up_) {
    return {catch_up_->node == change.node && change.kind == consensus::MembershipChange::Kind::add
                ? consensus::Outcome::accepted
                : consensus::Outcome::busy,
            leader_};
  }

  std::vector<NodeId> members = log_.members();
  const auto it = std::lower_bound(members.begin(), members.end(), change.node);
  const bool present = it != members.end() && *it == change.node;
  if (change.kind == consensus::MembershipChange::Kind::add) {
    if (present) return {consensus::Outcome::accepted, leader_};  // already a member
    if (config_.catch_up_rounds > 0) {
      // Thesis §4.2.1: replicate to it as a learner first; the configuration follows.
      catch_up_ = CatchUp{change.node, 1, log_.last_index(), now, LogIndex{0}, now};
      sync_peers();
      if (Progress* pr = find_progress(change.node)) send_append(now, *pr, true);
      return {consensus::Outcome::accepted, leader_};
    }
    members.insert(it, change.node);
  } else {
    if (!present) return {consensus::Outcome::accepted, leader_};  // already gone
    if (members.size() == 1) return {consensus::Outcome::unsupported, leader_};  // last member
    members.erase(it);
  }
  append_config(now, std::move(members));
  return {consensus::Outcome::accepted, leader_};
}

void RaftReplica::append_config(Nanos now, std::vector<NodeId> members) {
  const LogIndex index = log_.append(term_, EntryKind::config, encode_members(members));
  persist_entries_from(index);
  sync_peers();  // effective as soon as appended, on the leader too
  broadcast_append(now);
  maybe_commit(now);  // a smaller quorum may already hold everything
}

// Thesis §4.2.1: a round replicates everything the leader held when it began. A round that
// finishes within an election timeout means the learner is close enough to join without stalling
// commitment for long; otherwise another round begins, up to catch_up_rounds. A learner that
// makes no progress for an election timeout (down, partitioned) is given up on.
void RaftReplica::advance_catch_up(Nanos now) {
  if (!catch_up_ || role_ != RaftRole::leader) return;
  CatchUp& c = *catch_up_;
  const Progress* pr = find_progress(c.node);
  LS_ASSERT(pr != nullptr);
  if (pr->match > c.progress_seen) {
    c.progress_seen = pr->match;
    c.progress_at = now;
  }
  if (pr->match >= c.round_target) {
    if (now - c.round_started < config_.election_timeout_min) {
      const NodeId node = c.node;
      catch_up_.reset();
      std::vector<NodeId> members = log_.members();
      members.insert(std::lower_bound(members.begin(), members.end(), node), node);
      append_config(now, std::move(members));
      return;
    }
    if (c.round < config_.catch_up_rounds) {
      ++c.round;
      c.round_target = log_.last_index();
      c.round_started = now;
      return;
    }
  } else if (now - c.progress_at < config_.election_timeout_min) {
    return;  // still moving
  }
  catch_up_.reset();  // too slow, or silent: the configuration stays as it is
  sync_peers();
}

consensus::ProposeResult RaftReplica::transfer_leadership(Nanos now, NodeId target) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  if (role_ != RaftRole::leader) return {consensus::Outcome::not_leader, leader_};
  if (target == self_) return {consensus::Outcome::accepted, leader_};
  Progress* pr = find_progress(target);
  if (!pr || !is_voter(target)) return {consensus::Outcome::unsupported, leader_};  // not a member
  if (transfer_target_ == target) return {consensus::Outcome::accepted, leader_};
  transfer_target_ = target;
  // Give up after an election timeout: the target is probably down (thesis §3.10).
  transfer_deadline_ = now + config_.election_timeout_min;
  maybe_send_timeout_now(*pr);
  if (transfer_target_) send_append(now, *pr, false);
  return {consensus::Outcome::accepted, leader_};
}

// Thesis §3.10: once the target's log is as long as ours, tell it to campaign now.
void RaftReplica::maybe_send_timeout_now(Progress& pr) {
  if (transfer_target_ != pr.id || pr.match != log_.last_index()) return;
  // The target's voters will skip the stickiness rule, so this term's lease promises are void.
  lease_disabled_ = true;
  send(pr.id, TimeoutNow{term_});
}

void RaftReplica::compact(Nanos now, std::uint64_t index, Bytes snapshot) {
  LS_ASSERT_MSG(recovered_, "recover() must be called before any other call");
  last_now_ = now;
  const LogIndex i{index};
  if (i <= log_.snapshot_index()) return;  // already covered by a newer snapshot
  LS_ASSERT_MSG(i <= applied_, "compact() past what the state machine was handed");
  log_.compact(i, std::move(snapshot));
  persist_rewrite();
}

}  // namespace lockstep::raft
