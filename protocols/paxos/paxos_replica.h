// A Multi-Paxos replica as a pure state machine (lockstep::consensus::Replica).
//
// Lamport, "Paxos Made Simple" (PMS, 2001) chooses one value per slot of a sequence; Chandra,
// Griesemer and Redstone, "Paxos Made Live" (PML, 2007) is Chubby's engineering of it. Every
// replica is proposer, acceptor and learner at once.
//
// Ballots (PMS §2.2, §2.5). A ballot is (round, node), owned by the node that issues it; rounds
// come from disjoint sets per member, so no two proposers ever use the same one.
//
// Phase 1, once per leadership (PMS §3). A replica that hears from no leader for a randomized
// timeout becomes a candidate: it picks a ballot above every round it has seen, records it as the
// highest it issued (PMS §2.5; persisted and synced before anything leaves) and sends
// Prepare(ballot, first) to every member, first being the lowest slot it does not know to be
// chosen. An acceptor promises a ballot above any it promised before and answers with every value
// it has accepted from `first` on, with the ballot it accepted each in, and what it knows chosen.
// The candidate's own acceptor promises last, once the others' promises make a quorum with it: a
// candidacy that fails leaves it as it was, so it does not go on to refuse the live leader's
// accepts. With the quorum, the candidate becomes leader and, for every slot from its first
// unchosen one up to the highest slot
// any promise reported, proposes (PMS §2.2 P2c) a value known chosen if a promise says so, else
// the value with the highest ballot among the promises, else a no-op (PMS §3: gaps are filled
// with no-ops). A promise from an acceptor that compacted slots the candidate lacks comes with its
// snapshot, which the candidate installs before it may finish. Unlike Raft, any replica may lead:
// it learns what it lacks from the promises.
//
// Phase 2 (PMS §2.2, §3). The leader accepts its own proposals and sends Accept(ballot, first,
// values, commit) in pipelined batches (etcd-style flow control, paxos_progress.h). An acceptor
// takes an accept whose ballot is at least its promise (raising the promise to it), persists the
// values and syncs before it answers Accepted(match): every slot through match now holds the
// leader's value or is chosen. A slot is chosen once a quorum's matches reach it; the leader's
// commit (every slot through it chosen) rides on accepts and heartbeats, and a learner marks
// chosen only slots it holds in the leader's ballot (so holds the leader's, hence the chosen,
// value). A follower that lags gets the leader's values in the leader's ballot — accepting them is
// sound, since a leader's value for a chosen slot is the chosen value — or, below the leader's
// snapshot, the snapshot.
//
// Leadership (PMS §2.4, PML §5.2). A leader heartbeats every heartbeat_interval. Anyone who learns
// of a higher ballot — a nack, or an accept or heartbeat of a higher ballot — stops leading. With
// master leases (PML §5.2) acceptors refuse prepares from other proposers while they have heard
// from the leader within election_timeout_min, and a leader that has not heard from a quorum for
// that long steps down. With the ballot boost (PML §5.2) a leader nacked by a higher ballot first
// tries a new phase 1 above it. transfer_leadership(t) sends TimeoutNow; t runs phase 1 at once and
// acceptors waive the lease for it.
//
// Reads. read_barrier() waits until the leader has chosen everything its phase 1 re-proposed,
// records the commit index, and confirms with a heartbeat round acknowledged by a quorum that its
// ballot is still current (as Raft's ReadIndex); with lease_reads, a valid lease skips the round.
//
// Persistence and restart (PMS §2.5). Records (paxos_messages.h): the promise, accepted values,
// what is chosen (written along with other records), snapshots. recover() replays them; the host's
// record log (core/record_log.h) has already cut a torn or corrupt tail by checksum, and a record
// that passed the checksum but does not decode is a bug, asserted on. What is chosen is
// persisted, so a restarted replica re-applies its chosen prefix at once.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/rng.h"
#include "protocols/consensus.h"
#include "protocols/paxos/paxos_config.h"
#include "protocols/paxos/paxos_log.h"
#include "protocols/paxos/paxos_messages.h"
#include "protocols/paxos/paxos_progress.h"
#include "protocols/paxos/paxos_types.h"

namespace lockstep::paxos {

// One value this acceptor accepted (journal for the checker).
struct Acceptance {
  Slot slot;
  Ballot ballot;
  std::uint64_t digest = 0;
};

// What a leader's phase 1 collected and what it proposed from it (for the checker).
struct PromiseReport {
  NodeId from;
  Slot commit;                        // slots through here are chosen at `from`
  std::vector<Acceptance> accepted;   // (slot, ballot, value digest), slot order
};
struct Phase1Evidence {
  Ballot ballot;
  Slot first;  // the slots re-proposed: first..last (none when last < first)
  Slot last;
  std::vector<PromiseReport> reports;   // one per acceptor of the quorum, the leader's own included
  std::vector<std::uint64_t> proposed;  // digest of the value proposed at first + k
};

class PaxosReplica final : public consensus::Replica {
 public:
  // `members` is the fixed configuration (membership changes are not supported). `seed` drives
  // the randomized election timeouts.
  PaxosReplica(const PaxosConfig& config, NodeId self, std::vector<NodeId> members,
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
  PaxosRole role() const { return role_; }
  Ballot promised() const { return promised_; }
  Ballot ballot() const { return ballot_; }  // own ballot as candidate or leader; zero otherwise
  std::optional<NodeId> leader() const { return leader_; }
  Slot commit_index() const { return commit_; }
  Slot applied_index() const { return applied_; }  // handed to the host in Output::committed
  const PaxosLog& log() const { return log_; }
  const PaxosConfig& config() const { return config_; }
  const std::vector<NodeId>& members() const { return members_; }
  std::size_t quorum() const { return members_.size() / 2 + 1; }
  Nanos recovered_at() const { return recovered_at_; }
  std::uint64_t malformed_messages() const { return malformed_messages_; }
  const Progress* progress(NodeId peer) const;
  bool lease_valid(Nanos now) const;
  std::optional<NodeId> transfer_target() const { return transfer_target_; }
  // Leader: what its phase 1 collected and proposed; nullptr otherwise.
  const Phase1Evidence* phase1_evidence() const {
    return role_ == PaxosRole::leader && evidence_ ? &*evidence_ : nullptr;
  }
  // The values this incarnation accepted, numbered from 0 in order. Only the latest
  // kJournalKept are retained: acceptance(seq) for journal_begin() <= seq < journal_end().
  static constexpr std::uint64_t kJournalKept = 1 << 14;
  std::uint64_t journal_begin() const {
    return journal_end_ > kJournalKept ? journal_end_ - kJournalKept : 0;
  }
  std::uint64_t journal_end() const { return journal_end_; }
  const Acceptance& acceptance(std::uint64_t seq) const;

 private:
  enum class Campaign : std::uint8_t { timeout, transfer, boost };

  struct CollectedPromise {
    NodeId from;
    Slot commit;
    std::vector<PromisedEntry> entries;
  };
  struct PendingRead {
    std::uint64_t read_id = 0;
    std::optional<Slot> index;  // unset until the leader has chosen what its phase 1 proposed
    std::uint64_t round = 0;    // heartbeat round that must be acknowledged by a quorum
  };

  // paxos_replica.cc: dispatch, timers, roles, persistence, applying.
  bool valid_sender(NodeId from, const PaxosMessage& message) const;
  bool owns(Ballot b) const;
  void note_round(Ballot b);
  void become_follower(Nanos now, std::optional<NodeId> leader);
  void reset_election_timer(Nanos now);
  void send(NodeId to, const PaxosMessage& message);
  void persist_promise();
  void persist_issued_round();
  void persist_accepted(Slot first, Slot last);
  void persist_rewrite();
  void record_acceptance(Slot s);
  void apply_committed();
  bool is_member(NodeId id) const;

  // paxos_phase1.cc (PMS §2.2 phase 1, §3; PML §5.2).
  void campaign(Nanos now, Campaign kind);
  std::uint64_t next_owned_round(std::uint64_t above) const;
  bool in_leader_lease(Nanos now, NodeId from) const;
  void maybe_finish_phase1(Nanos now);
  void become_leader(Nanos now);
  void handle(Nanos now, NodeId from, const Prepare& m);
  void handle(Nanos now, NodeId from, Promise& m);
  void handle(Nanos now, NodeId from, const Nack& m);
  void handle(Nanos now, NodeId from, const TimeoutNow& m);

  // paxos_phase2.cc (PMS §2.2 phase 2, §2.3, §3).
  bool follow(Nanos now, NodeId from, Ballot ballot);
  Slot match_for(Ballot ballot);
  void learn_commit(Slot commit);
  void install_snapshot(Slot index, Bytes data);
  void broadcast_accepts(Nanos now);
  void send_accepts(Nanos now, Progress& pr, bool allow_empty);
  void send_snapshot(Nanos now, Progress& pr);
  Slot quorum_match();
  void maybe_commit(Nanos now);
  Progress* find_progress(NodeId id);
  void handle(Nanos now, NodeId from, Accept& m);
  void handle(Nanos now, NodeId from, const Accepted& m);
  void handle(Nanos now, NodeId from, const Heartbeat& m);
  void handle(Nanos now, NodeId from, SnapshotMessage& m);

  // paxos_read.cc (read barrier, master lease).
  void broadcast_heartbeat(Nanos now);
  void note_round_ack(Nanos now, Progress& pr, std::uint64_t round);
  std::uint64_t quorum_round();
  bool ready_for_reads() const;
  void advance_reads(Nanos now);

  const PaxosConfig config_;
  const NodeId self_;
  std::vector<NodeId> members_;  // sorted, no duplicates
  Rng rng_;
  PaxosLog log_;

  // Persistent state (PMS §2.5), besides the log: the acceptor's promise and the highest round
  // the proposer issued.
  Ballot promised_;
  std::uint64_t issued_round_ = 0;

  // Volatile state.
  PaxosRole role_ = PaxosRole::follower;
  Ballot ballot_;
  std::optional<NodeId> leader_;
  Slot commit_;
  Slot applied_;
  Slot persisted_commit_;  // the latest ChosenRecord written
  // Leader: the highest slot whose record has been handed to the host (durable before anything
  // it sends next): its own match.
  Slot durable_;
  // Follower: every slot in (commit_, match_] holds the value accepted in match_ballot_.
  Ballot match_ballot_;
  Slot match_;
  std::uint64_t max_round_seen_ = 0;
  bool recovered_ = false;
  Nanos recovered_at_;
  Nanos last_now_;
  Nanos election_deadline_;
  // When the leader was last heard from (master lease); with lease reads, no promise to another
  // proposer before promise_quiet_until_ after a restart, since a lease acknowledged just before
  // the crash may still run.
  std::optional<Nanos> last_heard_leader_at_;
  Nanos promise_quiet_until_;
  std::uint64_t malformed_messages_ = 0;

  // Candidate.
  bool transfer_campaign_ = false;
  bool boosting_ = false;  // a leader re-running phase 1 (ballot boost): its lease still holds
  Slot phase1_first_;
  Slot phase1_needed_;  // a promiser's snapshot index: must be chosen here before finishing
  std::vector<CollectedPromise> promises_;  // from others; our own is read at the end
  std::vector<NodeId> refusals_;

  // Leader.
  std::vector<Progress> peers_;
  Slot phase1_last_;  // reads wait until the commit reaches it
  std::optional<Phase1Evidence> evidence_;
  Nanos heartbeat_deadline_;
  Nanos check_quorum_deadline_;
  std::optional<NodeId> transfer_target_;
  Nanos transfer_deadline_;
  std::uint64_t round_ = 0;
  std::deque<std::pair<std::uint64_t, Nanos>> round_sent_at_;  // rounds not yet quorum-acked
  Nanos lease_expiry_;
  bool lease_disabled_ = false;  // a TimeoutNow was sent: acceptors may waive the lease
  std::deque<PendingRead> pending_reads_;
  std::vector<std::uint64_t> scratch_;

  // The acceptance journal: a ring of the last kJournalKept acceptances.
  std::vector<Acceptance> journal_;
  std::uint64_t journal_end_ = 0;

  // Output.
  consensus::Output out_;
  // The Accept last encoded into out_.messages: followers in step get the same bytes, so a
  // broadcast encodes once and copies (reset whenever out_ is handed over).
  struct EncodedAccept {
    Ballot ballot;
    Slot first;
    std::size_t count = 0;
    Slot commit;
    std::uint64_t round = 0;
    std::size_t message = 0;  // its position in out_.messages
    bool same(const EncodedAccept& o) const {
      return ballot == o.ballot && first == o.first && count == o.count && commit == o.commit &&
             round == o.round;
    }
  };
  std::optional<EncodedAccept> last_accept_;
  bool wake_now_ = false;
  bool accepts_due_ = false;  // proposals were made this step: take_output sends them
  consensus::Role reported_role_ = consensus::Role::follower;
  std::uint64_t reported_term_ = 0;
  std::optional<NodeId> reported_leader_;
};

std::unique_ptr<consensus::Replica> make_paxos_replica(const PaxosConfig& config, NodeId self,
                                                       std::vector<NodeId> members,
                                                       std::uint64_t seed);

}  // namespace lockstep::paxos
