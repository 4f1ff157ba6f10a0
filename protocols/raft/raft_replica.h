// A Raft replica as a pure state machine (lockstep::consensus::Replica).
//
// Raft (Ongaro & Ousterhout 2014, "In Search of an Understandable Consensus Algorithm"; Ongaro's
// 2014 thesis "Consensus: Bridging Theory and Practice") keeps a replicated log consistent by
// electing one leader per term and letting only the leader append.
//
// Election (§5.2). Each replica is a follower, candidate or leader. A follower that hears nothing
// from a leader for a randomized election timeout becomes a candidate: it increments its term,
// votes for itself (term and vote persisted and synced before any RequestVote leaves) and asks
// every member for a vote. A replica grants one vote per term, only to a candidate whose log is
// at least as up-to-date as its own (§5.4.1: higher last term, or equal last term and at least as
// long). A majority of votes makes the candidate leader. Any message carrying a higher term makes
// the receiver adopt that term and step down (§5.1).
//   PreVote (thesis §9.6): before incrementing its term a would-be candidate asks whether it could
//   win; a replica partitioned away therefore returns without a term inflated past the leader's.
//   CheckQuorum (thesis §6.2): a leader that has not heard from a quorum within an election
//   timeout steps down; a follower that heard from a leader within election_timeout_min ignores
//   RequestVote (thesis §4.2.3), so a removed or flapping server cannot depose a healthy leader.
//   Leadership transfer (thesis §3.10): the leader stops taking proposals, brings the target's log
//   up to date, then sends TimeoutNow; the target campaigns at once, and voters waive the
//   stickiness rule for that election.
//
// Log replication (§5.3). The leader sends AppendEntries with the (index, term) of the entry
// preceding the new ones; a follower accepts only if its log holds that entry (the consistency
// check), deletes any conflicting suffix and appends. A rejection carries a hint (thesis §5.3,
// etcd): the follower's last index at or below the probe whose term is <= the leader's term
// there, so the leader skips a whole conflicting term per round trip. Per follower the leader
// keeps a Progress (raft_progress.h): probe until the logs are known to match, then a pipeline of
// batched appends bounded in count and bytes. An entry is committed once stored on a majority,
// but the leader counts replicas only for entries of its own term (§5.4.2, Figure 8): earlier
// entries commit indirectly. A new leader therefore appends a no-op entry of its term (§8).
// Entries are persisted and synced before a follower acknowledges them, and before the leader
// counts itself (the leader's own match index advances only once its records have been handed to
// the host with sync_before_send, i.e. at take_output()).
//
// Reads (thesis §6.4). read_barrier() on the leader waits until it has committed an entry of its
// own term, records the commit index, and confirms it is still leader with a heartbeat round
// acknowledged by a quorum (every AppendEntries and heartbeat carries a round number that
// responses echo). Optional lease reads (§6.4.1) skip the round while a clock-based lease holds.
//
// Snapshots (§7). The host calls compact() with its state machine's snapshot; the replica drops
// the log prefix and asks the host to rewrite its record log. A follower whose next entry the
// leader no longer has receives InstallSnapshot; the host is told to load it (Output::snapshot).
//
// Membership (thesis §4.1). One server is added or removed at a time with a config entry that
// takes effect as soon as it is appended; the next change waits until it commits, and a new
// leader must commit an entry of its own term before any change (the thesis's fix to the bug in
// single-server changes). A leader that removed itself keeps leading, without counting itself,
// until the change commits, then steps down.
//
// Restart. recover() replays the records of raft_messages.h: term and vote, entries, snapshots.
// The commit index restarts at the snapshot index and is relearned from the leader.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/assert.h"
#include "core/rng.h"
#include "protocols/consensus.h"
#include "protocols/raft/raft_config.h"
#include "protocols/raft/raft_log.h"
#include "protocols/raft/raft_messages.h"
#include "protocols/raft/raft_progress.h"
#include "protocols/raft/raft_types.h"

namespace lockstep::raft {

class RaftReplica final : public consensus::Replica {
 public:
  // `members` is the bootstrap configuration. A server that joins an existing cluster is
  // constructed with members that do not include itself (e.g. empty): it never campaigns until a
  // leader's log makes it a member. `seed` drives the randomized election timeouts.
  RaftReplica(const RaftConfig& config, NodeId self, std::vector<NodeId> members,
              std::uint64_t seed);

  // consensus::Replica.
  void recover(Nanos now, std::span<const Bytes> records) override;
  void receive(Nanos now, NodeId from, ByteView message) override;
  void tick(Nanos now) override;
  Nanos next_tick() const override;
  consensus::ProposeResult propose(Nanos now, ByteView command) override;
  consensus::ProposeResult read_barrier(Nanos now, std::uint64_t read_id) override;
  consensus::ProposeResult change_membership(Nanos now, consensus::MembershipChange change) override;
  consensus::ProposeResult transfer_leadership(Nanos now, NodeId target) override;
  void compact(Nanos now, std::uint64_t index, Bytes snapshot) override;
  using consensus::Replica::take_output;
  void take_output(consensus::Output& out) override;
  consensus::Status status() const override;

  // Read-only view for the cluster checker, tests and reports.
  NodeId id() const { return self_; }
  RaftRole role() const { return role_; }
  Term term() const { return term_; }
  std::optional<NodeId> voted_for() const { return voted_for_; }
  std::optional<NodeId> leader() const { return leader_; }
  LogIndex commit_index() const { return commit_; }
  LogIndex applied_index() const { return applied_; }  // handed to the host in Output::committed
  const RaftLog& log() const { return log_; }
  const RaftConfig& config() const { return config_; }
  const std::vector<NodeId>& members() const { return log_.members(); }
  // The clock reading at recover(): with the object's address, identifies an incarnation.
  Nanos recovered_at() const { return recovered_at_; }
  // Messages that failed to decode or were semantically impossible, dropped.
  std::uint64_t malformed_messages() const { return malformed_messages_; }
  // The host should call compact() (RaftConfig::snapshot_threshold).
  bool wants_snapshot() const;
  // Leader only: what it knows about `peer`; nullptr otherwise.
  const Progress* progress(NodeId peer) const;
  bool lease_valid(Nanos now) const;
  std::optional<NodeId> transfer_target() const { return transfer_target_; }

 private:
  enum class Campaign : std::uint8_t { prevote, election, transfer };

  struct PendingRead {
    std::uint64_t read_id = 0;
    std::optional<LogIndex> index;  // unset until the leader commits an entry of its term
    std::uint64_t round = 0;        // heartbeat round that must be acknowledged by a quorum
  };

  // raft_replica.cc: roles, timers, persistence, applying.
  void become_follower(Nanos now, Term term, std::optional<NodeId> leader);
  void become_leader(Nanos now);
  void reset_election_timer(Nanos now);
  bool step_term(Nanos now, NodeId from, const RaftMessage& message);
  void send(NodeId to, const RaftMessage& message);
  void persist_hard_state();
  void persist_entries_from(LogIndex first);
  void persist_rewrite();
  void apply_committed(Nanos now);
  bool is_voter(NodeId id) const;
  std::size_t quorum() const { return log_.members().size() / 2 + 1; }
  // Leader: the largest value a quorum of the current configuration has reached, where the
  // leader's own is `own` (counted only while it is a member) and a follower's is value_of(its
  // Progress); 0 without a quorum. Walks the members and peers_ together (sync_peers keeps
  // peers_ in member order, a learner last), so no member is looked up.
  template <typename ValueOf>
  std::uint64_t quorum_value(std::uint64_t own, ValueOf value_of);
  bool committed_own_term() const;
  Progress* find_progress(NodeId id);
  void sync_peers();

  // raft_election.cc (§5.2, §5.4.1, thesis §9.6).
  void campaign(Nanos now, Campaign kind);
  void record_vote(Nanos now, NodeId from, bool granted);
  bool in_leader_lease(Nanos now) const;
  void handle(Nanos now, NodeId from, const VoteRequest& m);
  void handle(Nanos now, NodeId from, const VoteResponse& m);
  void handle(Nanos now, NodeId from, const TimeoutNow& m);

  // raft_replication.cc (§5.3, §5.4.2, §7).
  void broadcast_append(Nanos now);
  void send_append(Nanos now, Progress& pr, bool allow_empty);
  void send_snapshot(Nanos now, Progress& pr);
  LogIndex quorum_match();
  void maybe_commit(Nanos now);
  void accept_from_leader(Nanos now, NodeId from);
  void handle(Nanos now, NodeId from, const AppendRequest& m);
  void handle(Nanos now, NodeId from, const AppendResponse& m);
  void handle(Nanos now, NodeId from, const Heartbeat& m);
  void handle(Nanos now, NodeId from, const HeartbeatResponse& m);
  void handle(Nanos now, NodeId from, SnapshotRequest& m);
  void handle(Nanos now, NodeId from, const SnapshotResponse& m);
  void maybe_send_timeout_now(Progress& pr);
  // Thesis §4.2.1 catch-up: appends the configuration once the learner is caught up, starts its
  // next round, or gives up (tick). Called when its match advances and on every leader tick.
  void advance_catch_up(Nanos now);
  void append_config(Nanos now, std::vector<NodeId> members);
  // The learner being caught up, if any: it has a Progress but no vote.
  bool is_learner(NodeId id) const { return catch_up_ && catch_up_->node == id; }

  // raft_read.cc (thesis §6.4).
  void broadcast_heartbeat(Nanos now);
  void note_round_ack(Nanos now, Progress& pr, std::uint64_t round);
  std::uint64_t quorum_round();
  void advance_reads(Nanos now);

  const RaftConfig config_;
  const NodeId self_;
  Rng rng_;
  RaftLog log_;

  // Persistent state (Figure 2).
  Term term_;
  std::optional<NodeId> voted_for_;

  // Volatile state.
  RaftRole role_ = RaftRole::follower;
  std::optional<NodeId> leader_;
  LogIndex commit_;
  LogIndex applied_;
  // Highest index whose record has been handed to the host (durable before anything we send
  // next): the leader's own match index.
  LogIndex durable_index_;
  bool recovered_ = false;
  Nanos recovered_at_;
  Nanos last_now_;
  Nanos election_deadline_;
  // When a leader was last heard from (thesis §4.2.3); and, with lease reads, no vote is granted
  // before vote_quiet_until_ after a restart, since the lease the restarted node acknowledged
  // may still be running.
  std::optional<Nanos> last_heard_leader_at_;
  Nanos vote_quiet_until_;
  std::uint64_t malformed_messages_ = 0;
  RaftMessage received_;  // the message being handled, decoded in place (buffers reused)

  // Candidate and precandidate: the votes received in this election.
  std::vector<std::pair<NodeId, bool>> votes_;

  // Leader.
  std::vector<Progress> peers_;
  Nanos heartbeat_deadline_;
  Nanos check_quorum_deadline_;
  std::optional<NodeId> transfer_target_;
  Nanos transfer_deadline_;
  std::uint64_t round_ = 0;
  std::deque<std::pair<std::uint64_t, Nanos>> round_sent_at_;  // rounds not yet quorum-acked
  Nanos lease_expiry_;
  bool lease_disabled_ = false;  // a TimeoutNow was sent in this term: voters may skip stickiness
  std::deque<PendingRead> pending_reads_;
  std::vector<std::uint64_t> scratch_;
  // Thesis §4.2.1: a server being added, catching up as a learner before it becomes a member.
  struct CatchUp {
    NodeId node;
    std::uint32_t round = 1;
    LogIndex round_target;   // the round ends once the learner holds this index
    Nanos round_started;
    LogIndex progress_seen;  // its match at the last sign of progress...
    Nanos progress_at;       // ...and when
  };
  std::optional<CatchUp> catch_up_;

  // Output.
  consensus::Output out_;
  // The AppendEntries last encoded into out_.messages: followers in step get the same bytes, so
  // a broadcast encodes once and copies (reset whenever out_ is handed over).
  struct EncodedAppend {
    Term term;
    LogIndex prev;
    std::size_t count = 0;
    LogIndex commit;
    std::uint64_t round = 0;
    std::size_t message = 0;  // its position in out_.messages
    bool operator==(const EncodedAppend& o) const {
      return term == o.term && prev == o.prev && count == o.count && commit == o.commit &&
             round == o.round;
    }
  };
  std::optional<EncodedAppend> last_append_;
  bool wake_now_ = false;
  bool append_due_ = false;  // proposals were appended this step: take_output sends them
  consensus::Role reported_role_ = consensus::Role::follower;
  Term reported_term_;
  std::optional<NodeId> reported_leader_;
};

template <typename ValueOf>
std::uint64_t RaftReplica::quorum_value(std::uint64_t own, ValueOf value_of) {
  const std::vector<NodeId>& members = log_.members();
  const std::size_t n = members.size();
  if (n == 0) return 0;
  if (scratch_.size() != n) scratch_.resize(n);
  std::uint64_t* sorted = scratch_.data();
  // Each member's value goes into place in a descending prefix as it is read (insertion sort): a
  // configuration has a handful of members, for which this costs less than nth_element's set-up,
  // and it runs on every acknowledgement the leader counts.
  std::size_t peer = 0;
  for (std::size_t m = 0; m < n; ++m) {
    std::uint64_t v = own;
    if (members[m] != self_) {
      LS_ASSERT_LT(peer, peers_.size());
      LS_ASSERT_EQ(peers_[peer].id, members[m]);
      v = value_of(peers_[peer]);
      ++peer;
    }
    std::size_t j = m;
    for (; j > 0 && sorted[j - 1] < v; --j) sorted[j] = sorted[j - 1];
    sorted[j] = v;
  }
  return sorted[quorum() - 1];
}

// The factories the harness uses.
std::unique_ptr<consensus::Replica> make_raft_replica(const RaftConfig& config, NodeId self,
                                                      std::vector<NodeId> members,
                                                      std::uint64_t seed);

}  // namespace lockstep::raft
