// Commands the lock service's state machine applies, and what applying them produces.
//
// A client command travels in LoggedCommand::payload as [acked_through u64][command] (see
// lock_codec.h) with LoggedCommand::client = its session and ::request = its request number.
// Leader commands (BeginLeadership, ExpireSession, EndLockDelay) are proposed by the leader's
// server with LoggedCommand::client = 0; they carry the time-dependent decisions, so that apply
// never reads a clock (DESIGN.md, "The service is a deterministic state machine on top").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/bytes.h"
#include "service/lock/lock_types.h"

namespace lockstep::service::lock {

// ---- sessions ----------------------------------------------------------------------------------

// Opens a session with a lease of `ttl`. Sent with LoggedCommand::client = an open token (with
// kOpenTokenBit); a retry with the same token while the session lives returns the same session.
struct OpenSession {
  Nanos ttl;
  friend bool operator==(const OpenSession&, const OpenSession&) = default;
};
// Extends the session's lease: the leader restarts its timer at apply (a LeaseTimer).
struct KeepAlive {
  friend bool operator==(const KeepAlive&, const KeepAlive&) = default;
};
// Ends the session cleanly: its locks are released without lock-delay, its waits and watches are
// dropped, its ephemeral nodes deleted.
struct CloseSession {
  friend bool operator==(const CloseSession&, const CloseSession&) = default;
};

// ---- namespace ---------------------------------------------------------------------------------

struct Create {
  std::string path;  // for a sequential node, the prefix: "/ls/c/q/job-" -> ".../job-0000000000"
  Bytes content;
  bool ephemeral = false;
  bool sequential = false;
  friend bool operator==(const Create&, const Create&) = default;
};
struct Delete {
  std::string path;
  std::optional<std::uint64_t> expected_version;  // compare-and-delete when set
  friend bool operator==(const Delete&, const Delete&) = default;
};
struct Get {
  std::string path;
  friend bool operator==(const Get&, const Get&) = default;
};
struct Set {
  std::string path;
  Bytes content;
  std::optional<std::uint64_t> expected_version;  // compare-and-set when set
  friend bool operator==(const Set&, const Set&) = default;
};
struct List {
  std::string path;
  friend bool operator==(const List&, const List&) = default;
};

// ---- locks and elections -----------------------------------------------------------------------

struct Acquire {
  std::string path;
  LockMode mode = LockMode::exclusive;
  bool wait = true;  // false: try-acquire, answered lock_busy / lock_delay instead of queueing
  friend bool operator==(const Acquire&, const Acquire&) = default;
};
// Releases a held lock, or withdraws a queued acquire/campaign (which completes `cancelled`).
struct Release {
  std::string path;
  friend bool operator==(const Release&, const Release&) = default;
};
struct CheckSequencer {
  Sequencer sequencer;
  friend bool operator==(const CheckSequencer&, const CheckSequencer&) = default;
};
// An election is the node's exclusive lock: the leader is its holder and publishes `value`
// (its address, say). Completes when elected, with the leader's sequencer as fencing token.
struct Campaign {
  std::string path;
  Bytes value;  // at most content_bytes_max
  friend bool operator==(const Campaign&, const Campaign&) = default;
};
// Steps down as leader, or withdraws a queued campaign. Only for holds taken by Campaign.
struct Resign {
  std::string path;
  friend bool operator==(const Resign&, const Resign&) = default;
};
struct Observe {
  std::string path;
  friend bool operator==(const Observe&, const Observe&) = default;
};

// ---- watches -----------------------------------------------------------------------------------

// Registers (or replaces) the session's watch `watch_id` on `path` (and, when recursive, every
// node below it) for the event kinds in `kinds` (watch_bit()s). With start_revision > 0 the
// result first replays the kept events from that revision on; if the history no longer reaches
// it, the replay is a single resync event.
struct Watch {
  std::uint64_t watch_id = 0;
  std::string path;
  bool recursive = false;
  std::uint32_t kinds = kWatchableKinds;
  Revision start_revision;
  friend bool operator==(const Watch&, const Watch&) = default;
};
struct Unwatch {
  std::uint64_t watch_id = 0;
  friend bool operator==(const Unwatch&, const Unwatch&) = default;
};

// ---- leader commands (LoggedCommand::client = 0) -----------------------------------------------

// The first command a new leader proposes, with its consensus term. Once applied, leader commands
// must carry this term; earlier leaders' ones are refused (stale_leader). Its outcome lists a
// LeaseTimer for every session (TTL + session_grace) and a LockDelayTimer for every lock in
// lock-delay (a full lock_delay): what the new leader must time.
struct BeginLeadership {
  std::uint64_t term = 0;
  friend bool operator==(const BeginLeadership&, const BeginLeadership&) = default;
};
// The leader's lease timer for `session` fired. Applies only if no KeepAlive was applied since
// the one at `keepalive_index` (the index from the LeaseTimer the leader armed); otherwise the
// result is lease_extended and the session lives.
struct ExpireSession {
  SessionId session;
  std::uint64_t keepalive_index = 0;
  std::uint64_t term = 0;
  friend bool operator==(const ExpireSession&, const ExpireSession&) = default;
};
// The leader's lock-delay timer for the lock-delay that started at `started` fired.
struct EndLockDelay {
  std::string path;
  Revision started;
  std::uint64_t term = 0;
  friend bool operator==(const EndLockDelay&, const EndLockDelay&) = default;
};

using Command = std::variant<OpenSession, KeepAlive, CloseSession, Create, Delete, Get, Set, List,
                             Acquire, Release, CheckSequencer, Campaign, Resign, Observe, Watch,
                             Unwatch, BeginLeadership, ExpireSession, EndLockDelay>;

// Get, List, Observe, CheckSequencer: no effect, so never recorded for at-most-once, and also
// answerable as StateMachine::query (linearizable behind a read barrier, or stale).
bool is_read(const Command& command);
// BeginLeadership, ExpireSession, EndLockDelay.
bool is_leader_command(const Command& command);
std::string_view command_name(const Command& command);

// ---- results -----------------------------------------------------------------------------------

struct SessionInfo {  // OpenSession, KeepAlive
  SessionId session;
  Nanos ttl;
  friend bool operator==(const SessionInfo&, const SessionInfo&) = default;
};
struct NodeData {  // Get
  Stat stat;
  Bytes content;
  friend bool operator==(const NodeData&, const NodeData&) = default;
};
struct NodeCreated {  // Create: the path it got (sequential nodes get a suffix)
  std::string path;
  Stat stat;
  friend bool operator==(const NodeCreated&, const NodeCreated&) = default;
};
struct NodeStat {  // Set
  Stat stat;
  friend bool operator==(const NodeStat&, const NodeStat&) = default;
};
struct Children {  // List: names, sorted
  std::vector<std::string> names;
  friend bool operator==(const Children&, const Children&) = default;
};
struct Granted {  // Acquire, Campaign
  Sequencer sequencer;
  friend bool operator==(const Granted&, const Granted&) = default;
};
struct Leader {  // Observe
  SessionId session;
  Sequencer sequencer;
  Bytes value;
  friend bool operator==(const Leader&, const Leader&) = default;
};
struct WatchStarted {  // Watch: the replay, then live events continue after `revision`
  std::vector<Event> replay;
  friend bool operator==(const WatchStarted&, const WatchStarted&) = default;
};
// What a result carries besides its code, by command (monostate: nothing).
using ResultValue = std::variant<std::monostate, SessionInfo, NodeData, NodeCreated, NodeStat,
                                 Children, Granted, Leader, WatchStarted>;

struct Result {
  Code code = Code::ok;
  // The state's revision after this was applied (or when a query was answered): a client that
  // read at revision r and then watches from r + 1 misses nothing (etcd's pattern).
  Revision revision;
  ResultValue value;
  friend bool operator==(const Result&, const Result&) = default;
};

// ---- notifications and timers ------------------------------------------------------------------

// A queued request finished: granted (ok + Granted), cancelled, or no_node.
struct Completion {
  std::uint64_t request = 0;
  Result result;
  friend bool operator==(const Completion&, const Completion&) = default;
};
// An event matched one of the target's watches. `prev_revision` is the revision of the event this
// watch delivered before (or the revision its registration was answered at): a client that last
// saw a different revision on this watch lost events and must Watch again from there.
struct WatchFired {
  std::uint64_t watch_id = 0;
  Revision prev_revision;
  Event event;
  friend bool operator==(const WatchFired&, const WatchFired&) = default;
};
// The target's session expired (event.kind == session_expired).
struct SessionEnded {
  Event event;
  friend bool operator==(const SessionEnded&, const SessionEnded&) = default;
};

// Something the server must deliver to a session's client, in the order given (which is commit
// order). Completions update the at-most-once record too, so a retried request gets the same.
struct Notification {
  SessionId target;
  std::variant<Completion, WatchFired, SessionEnded> body;
  friend bool operator==(const Notification&, const Notification&) = default;
};

// Timers for the leader's server (every replica's apply produces them; only the leader acts).
// (Re)arm the session's lease timer: unless a later LeaseTimer replaces it, propose
// ExpireSession{session, keepalive_index, term} once `expire_after` has passed on the leader's
// clock, counted from this apply.
struct LeaseTimer {
  SessionId session;
  std::uint64_t keepalive_index = 0;
  Nanos expire_after;
  friend bool operator==(const LeaseTimer&, const LeaseTimer&) = default;
};
// The session ended (closed or expired): drop its lease timer.
struct LeaseEnded {
  SessionId session;
  friend bool operator==(const LeaseEnded&, const LeaseEnded&) = default;
};
// Propose EndLockDelay{path, started, term} once `end_after` has passed, counted from this apply.
// No cancellation: a lock-delay that ended otherwise (its node deleted with its owner, or a newer
// lock-delay replaced it) answers that proposal no_lock_delay, harmlessly.
struct LockDelayTimer {
  std::string path;
  Revision started;
  Nanos end_after;
  friend bool operator==(const LockDelayTimer&, const LockDelayTimer&) = default;
};
using LeaderTimer = std::variant<LeaseTimer, LeaseEnded, LockDelayTimer>;

struct ApplyOutcome {
  Result result;                            // for the caller
  std::vector<Notification> notifications;  // for sessions' clients (the caller's included)
  std::vector<LeaderTimer> timers;          // for the leader's server
  friend bool operator==(const ApplyOutcome&, const ApplyOutcome&) = default;
};

}  // namespace lockstep::service::lock
