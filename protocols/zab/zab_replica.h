// A Zab replica as a pure state machine (lockstep::consensus::Replica).
//
// Zab (Junqueira, Reed, Serafini, "Zab: High-performance broadcast for primary-backup systems",
// DSN 2011; the paper's Algorithms 1-3 and ZooKeeper's implementation of them) is an atomic
// broadcast: one primary (leader) per epoch broadcasts transactions numbered by zxid = (epoch,
// counter), and every replica delivers them in zxid order. It is not Raft under other names: a new
// leader first *discovers* what a quorum accepted, then *synchronizes* every follower to its own
// history before it broadcasts anything, and an epoch is only established once a quorum holds that
// history on disk.
//
// Phase 0, Fast Leader Election (ZooKeeper's FastLeaderElection, zab_election.cc). A LOOKING server
// increments its logical clock (election round), votes for itself and sends a notification to
// everyone. Votes are ordered by (peer epoch = the candidate's currentEpoch, last zxid, server id);
// a server adopts any better vote it hears in its round and re-broadcasts. Notifications of a later
// round make it join that round; of an earlier round from a LOOKING sender, it answers with its own.
// Once a quorum of its round agrees with its vote it waits finalize_wait for a better one, then
// settles: LEADING if the vote names itself, FOLLOWING otherwise. Servers that are FOLLOWING or
// LEADING answer a LOOKING server with their leader and epoch; a quorum of those agreeing on a
// leader that itself says LEADING lets a restarted server join without disturbing anyone.
//
// Phase 1, discovery (§III-B, zab_discovery.cc). The follower sends FOLLOWERINFO (CEPOCH) with its
// acceptedEpoch. Once the prospective leader has them from a quorum (itself included) it proposes
// e' = 1 + the largest, persists acceptedEpoch = e' and sends NEWEPOCH(e'). A follower accepts only
// an epoch above every epoch it has accepted (or the same one again from the same leader, when it
// reconnects): it persists acceptedEpoch, syncs, and answers ACKEPOCH with its currentEpoch and a
// summary of its history. If a follower of the first quorum is ahead of the leader in (currentEpoch,
// last zxid), the election went wrong and the leader goes back to it (ZooKeeper does the same).
//
// Phase 2, synchronization (§III-B, zab_sync.cc). Once a quorum acknowledged e', the leader persists
// currentEpoch = e' and brings every follower to its own history: DIFF when the follower's history
// is a prefix of the leader's, TRUNC to the longest common prefix then DIFF when the follower holds
// transactions the leader does not, SNAP when the leader no longer holds the transactions after the
// common prefix. Then NEWLEADER(e'). The follower persists the synchronized history and currentEpoch
// and syncs them to disk *before* it acknowledges NEWLEADER. With acknowledgements from a quorum
// (its own counts once its records are handed over) the leader is established: its history
// commits, it sends UPTODATE, and only then does it accept proposals. A follower that connects
// later is synchronized the same way and gets UPTODATE after its acknowledgement.
//
// Phase 3, broadcast (§III-B, zab_broadcast.cc). propose() appends (e', counter+1), persists it
// and sends PROPOSAL to every synchronized follower, pipelined up to max_outstanding_proposals. A
// follower persists and syncs before it ACKs (sync_before_send). Once a quorum holds a proposal the
// leader commits it and everything before it, delivers, and sends COMMIT. Leader-to-follower
// messages are a FIFO session (zab_messages.h); a follower whose session breaks reconnects and is
// synchronized again. The leader pings every heartbeat_interval and steps down when fewer than a
// quorum of synchronized followers answered within sync_timeout; a follower goes back to election
// when its leader is silent that long.
//
// Positions. A transaction's position in the history is the consensus interface's index:
// CommittedCommand::index, Status::commit_index and last_index. Positions agree across replicas
// because committed histories are prefixes of each other.
//
// Reads (zab_broadcast.cc). read_barrier() is ZooKeeper's sync() made linearizable: the leader
// takes the position of its last proposal (the sync flows behind everything already in the
// pipeline), starts a ping round, and reports the read once a quorum of synchronized followers
// answered that round (no other leader can have been established before they did) and that position
// committed. The interface has no local read: a possibly stale read is the host's (ReplicaHost
// answers stale_read from whatever its server has applied).
//
// Snapshots. compact() drops the delivered prefix and rewrites the record log; a follower behind the
// leader's snapshot gets SNAP, and the host is told to load it (Output::snapshot), as on recovery.
//
// Restart. recover() replays the records (zab_messages.h): epochs, transactions, snapshots. The
// commit position restarts at the snapshot and is relearned from the leader. The record log's
// checksums (core/record_log.h) cut off a torn or corrupt tail before recover() sees it.
//
// Not offered: membership changes and leadership transfer (both answer unsupported).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/rng.h"
#include "protocols/consensus.h"
#include "protocols/zab/zab_config.h"
#include "protocols/zab/zab_history.h"
#include "protocols/zab/zab_messages.h"
#include "protocols/zab/zab_types.h"

namespace lockstep::zab {

// The leader's view of one follower (ZooKeeper's LearnerHandler).
struct Peer {
  enum class State : std::uint8_t {
    idle,         // no session
    connected,    // FOLLOWERINFO received; the epoch is not decided yet
    epoch_sent,   // NEWEPOCH sent, waiting for ACKEPOCH
    epoch_acked,  // ACKEPOCH received, waiting for a quorum of them
    syncing,      // DIFF/TRUNC/SNAP and NEWLEADER sent; gets proposals from now on
    synced,       // NEWLEADER acknowledged: counts for commits, reads and the quorum check
  };
  NodeId id;
  State state = State::idle;
  std::uint64_t session = 0;
  // This leadership's numbering of the session, from NEWEPOCH's seq: drawn for each session the
  // leader accepts, so that two leaderships that take the same session (a follower that kept
  // following us across our re-election) all but never number it alike (see on_session_message).
  std::uint64_t first_seq = 1;
  std::uint64_t next_seq = 1;
  Epoch accepted_epoch;       // from FOLLOWERINFO
  Epoch current_epoch;        // from ACKEPOCH
  HistorySummary summary;     // from ACKEPOCH, until synchronized
  Zxid newleader_zxid;        // the NEWLEADER it was sent
  Position acked;             // highest position it acknowledged
  std::uint64_t acked_round = 0;
  bool recent_active = false;  // heard from in the current sync_timeout window
};

class ZabReplica final : public consensus::Replica {
 public:
  // `members` is the fixed ensemble; `seed` drives the session ids and timer jitter.
  ZabReplica(const ZabConfig& config, NodeId self, std::vector<NodeId> members,
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
  ServerState state() const { return state_; }
  Phase phase() const { return phase_; }
  // Leading, and a quorum acknowledged NEWLEADER: the primary of its epoch.
  bool established() const { return state_ == ServerState::leading && established_; }
  Epoch accepted_epoch() const { return accepted_epoch_; }
  Epoch current_epoch() const { return current_epoch_; }
  std::optional<NodeId> leader() const { return leader_; }
  // Following, and NEWLEADER of the current session processed: the history is the leader's.
  bool synced() const { return state_ == ServerState::following && synced_; }
  Position commit_position() const { return commit_; }
  Position applied_position() const { return applied_; }
  const History& history() const { return history_; }
  const Vote& vote() const { return state_ == ServerState::looking ? proposal_ : current_vote_; }
  std::uint64_t round() const { return logical_clock_; }
  const ZabConfig& config() const { return config_; }
  const std::vector<NodeId>& members() const { return members_; }
  // Leader only: what it knows about `peer`; nullptr otherwise.
  const Peer* peer(NodeId id) const;
  // The clock reading at recover(): with the object's address, identifies an incarnation.
  Nanos recovered_at() const { return recovered_at_; }
  // Messages that failed to decode or were impossible in the protocol, dropped.
  std::uint64_t malformed_messages() const { return malformed_messages_; }
  // Sessions a follower abandoned for a new one (a gap it could not close, a bad sync).
  std::uint64_t reconnects() const { return reconnects_; }

 private:
  struct PendingRead {
    std::uint64_t read_id = 0;
    Position position;       // the last proposal when the read was asked for
    std::uint64_t round = 0;  // ping round a quorum must answer
  };

  // zab_replica.cc: dispatch, timers, roles, persistence, applying, output.
  void dispatch(Nanos now, NodeId from, ZabMessage& message);
  void on_session_message(Nanos now, NodeId from, ZabMessage& message, ByteView bytes);
  void deliver_in_session(Nanos now, ZabMessage& message);
  void send(NodeId to, const ZabMessage& message);
  template <typename M>
  void send_in_session(Peer& peer, M message);
  void become_looking(Nanos now);
  void become_leading(Nanos now);
  void start_following(Nanos now, NodeId leader);
  void reconnect(Nanos now);
  void leave_role();
  void persist_epochs();
  void write_txns_from(Position first);
  void flush_unlogged();
  void persist_rewrite();
  void apply_committed();
  bool is_member(NodeId id) const;
  std::size_t quorum() const { return members_.size() / 2 + 1; }
  Peer* find_peer(NodeId id);
  Nanos jittered(Nanos timeout);

  // zab_election.cc (Fast Leader Election).
  Vote self_vote() const;
  void start_election(Nanos now);
  void send_notifications();
  void set_vote_of(NodeId from, const Vote& vote);
  std::size_t agreeing(const Vote& vote) const;
  void check_election_quorum(Nanos now);
  bool leader_confirmed(NodeId leader, std::uint64_t round) const;
  void settle(Nanos now, const Vote& vote);
  void handle(Nanos now, NodeId from, const Notification& m);
  void election_tick(Nanos now);

  // zab_discovery.cc (Phase 1, both sides).
  void handle(Nanos now, NodeId from, const FollowerInfo& m);
  void handle(Nanos now, const NewEpoch& m);
  void handle(Nanos now, NodeId from, AckEpoch& m);
  void maybe_decide_epoch(Nanos now);
  void send_new_epoch(Peer& peer);
  HistorySummary summary() const;
  void send_follower_info();
  void send_ack_epoch();
  void follower_tick(Nanos now);

  // zab_sync.cc (Phase 2, both sides).
  void maybe_start_sync(Nanos now);
  void sync_follower(Peer& peer);
  void send_diff(Peer& peer, Position after, Zxid prev_zxid);
  void maybe_establish(Nanos now);
  void handle(Nanos now, const Trunc& m);
  void handle(Nanos now, Diff& m);
  void handle(Nanos now, Snap& m);
  void handle(Nanos now, const NewLeader& m);
  void handle(Nanos now, const UpToDate& m);

  // zab_broadcast.cc (Phase 3, both sides, and reads).
  void handle(Nanos now, Proposal& m);
  void handle(Nanos now, const Commit& m);
  void handle(Nanos now, const Ping& m);
  void handle(Nanos now, NodeId from, const Ack& m);
  void handle(Nanos now, NodeId from, const PingAck& m);
  void note_ack(Nanos now, Peer& peer, Zxid zxid);
  Position quorum_position();
  void maybe_commit(Nanos now);
  void commit_to(Nanos now, Zxid zxid);
  void broadcast_ping(Nanos now);
  std::uint64_t quorum_round();
  void advance_reads();
  void leader_tick(Nanos now);

  const ZabConfig config_;
  const NodeId self_;
  const std::vector<NodeId> members_;  // sorted
  Rng rng_;
  Rng seq_rng_;  // first seqs of the sessions we accept as leader; apart, so rng_'s draws stay
  History history_;

  // Persistent state (§III-B): acceptedEpoch (with the leader it came from) and currentEpoch.
  Epoch accepted_epoch_;
  std::optional<NodeId> accepted_from_;
  Epoch current_epoch_;

  // Volatile state, every role.
  ServerState state_ = ServerState::looking;
  Phase phase_ = Phase::election;
  std::optional<NodeId> leader_;
  Position commit_;
  Position applied_;
  bool recovered_ = false;
  Nanos recovered_at_;
  Nanos last_now_;
  std::uint64_t malformed_messages_ = 0;
  std::uint64_t reconnects_ = 0;

  // Election (FLE).
  std::uint64_t logical_clock_ = 0;
  Vote proposal_;
  std::vector<std::pair<NodeId, Vote>> votes_;  // LOOKING votes of this round, by sender
  std::vector<std::pair<NodeId, Notification>> out_of_election_;  // FOLLOWING/LEADING answers
  Vote current_vote_;  // the vote settled on, and its round
  std::uint64_t current_vote_round_ = 0;
  std::optional<Nanos> finalize_deadline_;
  Nanos notify_timeout_;
  Nanos notify_deadline_;

  // Follower.
  std::uint64_t session_ = 0;
  std::uint64_t next_seq_ = 1;
  std::map<std::uint64_t, Bytes> held_;  // session messages that arrived ahead of a gap
  std::optional<Nanos> gap_deadline_;
  bool got_new_epoch_ = false;
  bool synced_ = false;
  Nanos last_heard_leader_;
  Nanos init_deadline_;
  Nanos retransmit_deadline_;
  // ack_newleader_before_sync: synchronized transactions not yet written to the record log.
  std::optional<Position> unlogged_from_;

  // Leader.
  std::vector<Peer> peers_;  // one per member but itself, in member order
  std::optional<Epoch> new_epoch_;
  bool sync_started_ = false;
  bool self_synced_ = false;  // its currentEpoch record has been handed to the host
  bool established_ = false;
  std::uint64_t next_counter_ = 0;
  Position durable_position_;  // its own records handed to the host: its own acknowledgement
  Nanos heartbeat_deadline_;
  Nanos quorum_check_deadline_;
  std::uint64_t round_ = 0;
  std::deque<PendingRead> pending_reads_;
  std::vector<std::uint64_t> scratch_;

  // Output.
  consensus::Output out_;
  bool wake_now_ = false;
  consensus::Role reported_role_ = consensus::Role::follower;
  Epoch reported_term_;
  std::optional<NodeId> reported_leader_;
};

// The factory the harness uses.
std::unique_ptr<consensus::Replica> make_zab_replica(const ZabConfig& config, NodeId self,
                                                     std::vector<NodeId> members,
                                                     std::uint64_t seed);

}  // namespace lockstep::zab
