// The lock service as a deterministic state machine: Chubby's sessions, locks, sequencers,
// lock-delay and events, ZooKeeper's ephemeral and sequential nodes, versions and herd-free lock
// queues, etcd's revisions and resumable watches. Every replica applies the same committed
// commands in the same order and reaches the same state; apply reads no clock, no randomness,
// nothing but its state and the command.
//
// Namespace. Nodes are named "/ls/<cell>/a/b" (lock_path.h); the cell root always exists. A node
// holds up to content_bytes_max bytes, a version (ZooKeeper's: 0 at creation, +1 per set) that
// conditional set and delete compare against, and revisions of its creation and last change. An
// ephemeral node belongs to a session and is deleted when the session ends; it cannot have
// children. A sequential create appends the parent's counter, zero-padded to ten digits.
//
// Sessions (Chubby §2.8). OpenSession names a session (1, 2, 3, ... in commit order) with a
// lease TTL. Time enters only through leader commands: applying OpenSession and KeepAlive hands
// the leader a LeaseTimer{session, keepalive_index = this index, ttl}; when it fires, the leader
// proposes ExpireSession{session, keepalive_index, term}, which ends the session only if no
// KeepAlive was applied since (a KeepAlive racing the decision wins: lease_extended).
//
// Leadership and the grace period (Chubby §2.9). The contract with the server:
//   1. A server that becomes leader of term T proposes BeginLeadership{T} before any other leader
//      command, and proposes none until it has applied it.
//   2. Applying BeginLeadership{T} (T above every earlier one) makes T the current term and
//      outputs a LeaseTimer for every live session with expire_after = ttl + session_grace and a
//      LockDelayTimer for every lock in lock-delay with a full lock_delay: the new leader knows
//      neither when clients last kept alive nor when lock-delays began, so it assumes "just now"
//      and adds the grace a client needs to find it.
//   3. ExpireSession and EndLockDelay carry the term of the leader that decided them; any other
//      term is refused (stale_leader). A deposed leader's decision, committed late, cannot cut a
//      session's grace or a lock-delay short.
//   4. Only the leader acts on LeaderTimers; every replica produces them, so whichever becomes
//      leader next re-arms from BeginLeadership, not from what followers saw.
//
// At-most-once (Raft dissertation §6.3). Each client command carries (session, request number,
// acked_through). A session keeps the result of every request above acked_through, at most
// results_per_session_max of them; a retry is answered from that record, and the result of a
// queued acquire is updated when it completes, so a retry after a lost Completion sees the grant.
// When the record is full the oldest finished result is forgotten and its number becomes stale:
// a request at or below the forgotten or acknowledged mark with no record is refused
// (stale_request), never applied again. So a client retries a lost reply within
// results_per_session_max of its later requests (KeepAlives included), or learns stale_request
// (outcome unknown) — never a double application. Reads (Get, List, Observe, CheckSequencer) have
// no effect: they are answered afresh and not recorded. Leader commands are idempotent by content.
//
// Locks (Chubby §2.4, ZooKeeper's lock recipe). Any node can be locked exclusive or shared. Grants
// are FIFO: an acquire is granted at once only if nobody waits and the mode is compatible;
// otherwise it queues (or, as a try, fails). A release wakes only the front of the queue: one
// exclusive waiter, or the run of shared waiters up to the next exclusive one — never the herd.
// Each grant's sequencer has generation = the grant's revision. When a holder's session EXPIRES
// the lock enters lock-delay: no grant until the leader's EndLockDelay (a clean release or close
// has no delay). An election is a node's exclusive lock taken by Campaign with a value; the leader
// is the holder, Observe names it, Resign releases it.
//
// Watches and events (etcd's watch API, Chubby §2.5). Every visible change gets the next global
// revision and becomes an Event kept in a history of event_history_max events. A watch (per
// session, on a path or a subtree, for some kinds) receives matching events as WatchFired
// notifications in commit order, each naming the revision its watch delivered before, so a gap is
// detectable. A watch can start from an old revision: the kept events are replayed in its result,
// or a single resync event if the history no longer reaches back that far.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "service/lock/lock_commands.h"
#include "service/lock/lock_path.h"

namespace lockstep::service::lock {

// Who sent a command: the session (an open token for OpenSession, 0 for leader commands), the
// request number (from 1), and acked_through: the client holds the FINAL result of every request
// numbered up to it, so their records may go. A queued acquire's final result is its Completion,
// not the "waiting" reply: a client that acknowledged past a queued request and then lost the
// Completion could not ask for the grant again.
struct Caller {
  SessionId session;
  std::uint64_t request = 0;
  std::uint64_t acked_through = 0;
};

class LockStateMachine {
 public:
  // `config` must pass validate() (assertion: the server checks it first).
  explicit LockStateMachine(LockConfig config = {});

  // Applies `command`, committed at log `index` (strictly increasing across calls).
  ApplyOutcome apply(std::uint64_t index, const Caller& caller, const Command& command);
  // Answers a read command (is_read) against the current state; bad_request for any other.
  Result query(const Command& command) const;

  // The whole replicated state, canonically encoded: equal states give equal bytes.
  Bytes snapshot() const;
  // Replaces the state with a snapshot's; false (and the state untouched) when the bytes do not
  // decode to a consistent state.
  [[nodiscard]] bool restore(ByteView snapshot);

  // Each broken invariant, described; empty when all hold. Checked by tests after every command:
  // one exclusive holder and no reader beside it, no waiter left behind a free lock, indexes
  // consistent with the nodes and sessions, revisions ordered.
  std::vector<std::string> invariant_violations() const;

  const LockConfig& config() const { return config_; }
  Revision revision() const { return state_.revision; }
  std::uint64_t applied_index() const { return state_.applied_index; }
  std::uint64_t leader_term() const { return state_.leader_term; }
  std::size_t session_count() const { return state_.sessions.size(); }
  std::size_t node_count() const { return state_.nodes.size(); }
  std::size_t history_size() const { return state_.history.size(); }
  bool session_alive(SessionId session) const { return state_.sessions.contains(session); }
  // Whether the last apply answered a retried request from its at-most-once record instead of
  // running it (for checkers).
  bool last_answered_from_record() const { return last_from_record_; }
  // The kept events, oldest first (at most event_history_max).
  const std::deque<Event>& history() const { return state_.history; }

  // Whether apply lists notifications in its outcome (on by default). Only a leader delivers
  // them, and a watched event on a busy cell makes one per watching session, each with a copy of
  // the event: a follower's server turns them off. Nothing else changes: the state (a watch's
  // last revision, a completion's record) and the leader timers are the same either way.
  void set_notifications_wanted(bool wanted) { notifications_wanted_ = wanted; }
  bool notifications_wanted() const { return notifications_wanted_; }

 private:
  struct Holder {
    LockMode mode = LockMode::exclusive;
    std::uint64_t generation = 0;
    bool campaign = false;
    Bytes value;
  };
  struct Waiter {
    SessionId session;
    std::uint64_t request = 0;
    LockMode mode = LockMode::exclusive;
    bool campaign = false;
    Bytes value;
  };
  struct LockState {
    std::map<SessionId, Holder> holders;
    // FIFO. A vector, not a deque: every node has a lock, most locks never have a waiter, and
    // libstdc++'s deque allocates even when empty. Queues are short (one entry per session).
    std::vector<Waiter> waiters;
    Revision delay_started;  // nonzero while in lock-delay: the revision of the expiry's release
    bool idle() const { return holders.empty() && waiters.empty() && delay_started.value == 0; }
  };
  struct Node {
    Bytes content;
    std::uint64_t version = 0;
    std::uint64_t children_version = 0;
    Revision created;
    Revision modified;
    SessionId ephemeral_owner;
    std::uint64_t next_sequence = 0;
    // Names (derived from the paths on restore). PathLess: std::less<>'s order, found by a
    // path's string_view.
    std::set<std::string, PathLess> children;
    LockState lock;
  };
  struct WatchState {
    std::string path;
    bool recursive = false;
    std::uint32_t kinds = 0;
    Revision last_revision;  // of the last event delivered, or of the registration
  };
  struct Recorded {
    Result result;
    bool pending = false;  // a queued acquire or campaign: never forgotten
  };
  // By request number, ascending. A session keeps a handful of results at a time (its client
  // acknowledges as it goes: each request is recorded, then soon forgotten), so a sorted vector:
  // a map allocated, rebalanced and freed a node for every request on every replica.
  using Records = std::vector<std::pair<std::uint64_t, Recorded>>;
  struct Session {
    Nanos ttl;
    std::uint64_t last_keepalive_index = 0;
    std::uint64_t open_token = 0;
    std::uint64_t acked_through = 0;
    std::uint64_t forgotten_through = 0;
    Records results;
    std::map<std::uint64_t, WatchState> watches;
    // Derived from the nodes (rebuilt on restore).
    std::set<std::string> held;
    std::set<std::string> waiting;
    std::set<std::string> ephemerals;
  };
  // PathLess: std::less<>'s order (snapshots and List iterate it), found by string_view too.
  using Nodes = std::map<std::string, Node, PathLess>;
  // A path with its PathHash: the node index's table hashes each path once, not again for every
  // node it passes in a bucket or moves when it grows (libstdc++ keeps no hash of its own for a
  // hasher it takes to be cheap).
  struct IndexedPath {
    explicit IndexedPath(std::string_view p) : path(p), hash(PathHash{}(p)) {}
    bool operator==(const IndexedPath& other) const {
      return hash == other.hash && path == other.path;
    }
    std::string_view path;
    std::size_t hash;
  };
  struct IndexedPathHash {
    std::size_t operator()(const IndexedPath& p) const noexcept { return p.hash; }
  };
  using WatchKey = std::pair<SessionId, std::uint64_t>;
  struct WatchTarget {  // a watch an event matched, while emit notifies them
    WatchKey key;
    WatchState* watch = nullptr;
  };
  struct State {
    State() = default;
    // watch_index points into `sessions` and node_index into `nodes`: a copy would point into
    // the original. A move keeps the maps' nodes, and so the pointers.
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    State(State&&) = default;
    State& operator=(State&&) = default;

    std::uint64_t applied_index = 0;
    std::uint64_t leader_term = 0;
    std::uint64_t next_session = 1;
    Revision revision;
    Revision compacted;  // the newest revision dropped from `history` (0: none dropped)
    Nodes nodes;
    std::map<SessionId, Session> sessions;
    std::deque<Event> history;
    // Derived (rebuilt on restore).
    std::map<std::uint64_t, SessionId> open_tokens;
    std::set<std::string> delayed_locks;
    // By watched path, each watch on it with its state (a node of its session's `watches`), so
    // that emit reaches a watch without looking up its session. std::less<> finds a path's
    // ancestors by string_view, without a copy.
    std::map<std::string, std::map<WatchKey, WatchState*>, std::less<>> watch_index;
    // Every node by its path (a view of its key in `nodes`), for lookups: a command's path is
    // looked up on every replica, and the ordered map compared it with a dozen paths sharing
    // long prefixes. Never iterated: `nodes` keeps the order.
    std::unordered_map<IndexedPath, Nodes::iterator, IndexedPathHash> node_index;
  };

  // lock_state_machine.cc: dispatch, at-most-once, sessions, leadership
  // The caller's result: what apply() returns besides the effects.
  Result decide(std::uint64_t index, const Caller& caller, const Command& command);
  // Runs a client command not run before and records its result for retries.
  Result run_and_record(std::uint64_t index, SessionId session, std::uint64_t request,
                        const Command& command);
  Result run(std::uint64_t index, SessionId session, std::uint64_t request, const Command& command);
  Result run_leader_command(const Command& command);
  Result read(const Command& command) const;
  Result open_session(std::uint64_t index, std::uint64_t token, const OpenSession& c);
  Result keep_alive(std::uint64_t index, SessionId session);
  Result begin_leadership(const BeginLeadership& c);
  Result expire_session(const ExpireSession& c);
  void end_session(SessionId session, Cause cause);
  void record(Session& s, std::uint64_t request, const Result& result);
  void forget_acknowledged(Session& s, std::uint64_t acked_through);
  // The record of `request`, or records.end().
  static Records::iterator find_record(Records& records, std::uint64_t request);
  static Records::const_iterator find_record(const Records& records, std::uint64_t request);
  Code session_problem(SessionId session) const;
  Result answer(Code code) const { return Result{code, state_.revision, {}}; }
  Result answer(Code code, ResultValue value) const {
    return Result{code, state_.revision, std::move(value)};
  }

  // lock_namespace.cc
  Result create(SessionId session, const Create& c);
  Nodes::iterator insertion_hint(Nodes::iterator parent_entry, const Node& parent,
                                 std::set<std::string, PathLess>::const_iterator name);
  Result remove(const Delete& c);
  Result get(const Get& c) const;
  Result set(const Set& c);
  Result list(const List& c) const;
  Stat stat_of(const Node& node) const;
  // Deletes a node whatever its lock state: holders lose it, waiters complete no_node.
  void delete_node(const std::string& path);

  // lock_locks.cc
  Result acquire(SessionId session, std::uint64_t request, const std::string& path, LockMode mode,
                 bool wait, bool campaign, const Bytes& value);
  Result release(SessionId session, const std::string& path, bool campaign_only);
  Result check_sequencer(const CheckSequencer& c) const;
  Result observe(const Observe& c) const;
  Result end_lock_delay(const EndLockDelay& c);
  bool grantable(const LockState& lock, LockMode mode) const;
  Sequencer grant(const std::string& path, Node& node, SessionId session, LockMode mode,
                  bool campaign, Bytes value);
  void grant_waiters(const std::string& path, Node& node);
  void drop_holder(const std::string& path, Node& node, SessionId session, Cause cause);
  void complete(SessionId session, std::uint64_t request, Result result);

  // lock_watches.cc
  Result watch(SessionId session, const Watch& c);
  Result unwatch(SessionId session, const Unwatch& c);
  // Gives `event` the next revision, keeps it in the history, and notifies matching watches.
  Revision emit(Event event);
  // An event of `kind` on `path` (other fields default), its path held in the storage of the
  // last event the history dropped, when there is one.
  Event event_on(EventKind kind, std::string_view path);
  void drop_watch(SessionId session, std::uint64_t watch_id);

  // lock_snapshot.cc
  static bool decode_state(ByteView bytes, const LockConfig& config, State& state);
  static bool rebuild_derived(State& state, const LockConfig& config);

  const Node* find(std::string_view path) const;
  Node* find(std::string_view path);
  // The node at `path`; null with `problem` invalid_path or no_node when there is none.
  const Node* find_valid(std::string_view path, Code& problem) const;
  Node* find_valid(std::string_view path, Code& problem);
  // The entry of the node at `path`, or nodes.end().
  Nodes::iterator locate(std::string_view path);
  // Adds a node at `path` (where none is) to `nodes`, placed from `hint` (as std::map's
  // emplace_hint), and to the index. Returns its entry, whose key later copies can read.
  Nodes::iterator insert_node(std::string path, Nodes::iterator hint);

  LockConfig config_;
  State state_;
  // What the apply under way produces besides its result; apply() moves it into the outcome.
  struct Effects {
    std::vector<Notification> notifications;
    std::vector<LeaderTimer> timers;
  };
  Effects effects_;
  bool last_from_record_ = false;
  bool notifications_wanted_ = true;  // not replicated state: a replica's role decides it
  std::vector<WatchTarget> emit_targets_;  // emit's buffer, kept to reuse its allocation
  std::string hint_path_;                  // insertion_hint's buffer, likewise
  std::string spare_path_;                 // the path storage emit recycles for event_on
};

}  // namespace lockstep::service::lock
