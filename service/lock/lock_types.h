// The vocabulary of the lock service: identities, result codes, sequencers, node stats, events
// and the limits the state machine enforces. Everything here is plain data shared by the state
// machine (lock_state_machine.h), its codec (lock_codec.h), the server and the client library.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "core/types.h"

namespace lockstep::service::lock {

// A session, named by the state machine when it opens one: 1, 2, 3, ... in commit order, never
// reused, always below kOpenTokenBit. SessionId{0} is the server itself (leader commands).
struct SessionId {
  std::uint64_t value = 0;
  constexpr auto operator<=>(const SessionId&) const = default;
};
inline std::ostream& operator<<(std::ostream& os, SessionId s) { return os << "s" << s.value; }

// The state's global revision: it grows by one with every change a watcher can see (a node
// created, changed or deleted, a parent's children changed, a lock granted or released, a session
// expired). Each Event carries the revision it made; a lock grant's generation is its revision.
struct Revision {
  std::uint64_t value = 0;
  constexpr auto operator<=>(const Revision&) const = default;
};
inline std::ostream& operator<<(std::ostream& os, Revision r) { return os << "r" << r.value; }

// OpenSession is the one command sent before the client has a session. Its LoggedCommand::client
// is a token the client picks with this bit set, so the host's (client, request) keys of session
// openings can never collide with those of open sessions (whose ids stay below the bit).
inline constexpr std::uint64_t kOpenTokenBit = std::uint64_t{1} << 63;

enum class LockMode : std::uint8_t {
  exclusive = 0,  // writer: alone
  shared = 1,     // reader: with other readers, never with a writer
};
std::string_view to_string(LockMode mode);

// Every outcome a caller can see. Nothing a client sends makes the state machine assert.
enum class Code : std::uint8_t {
  ok = 0,
  // Acquire(wait) or Campaign was queued: the grant (or its end) arrives later as a Completion
  // notification naming this request.
  waiting = 1,
  // The bytes did not decode as a command, or a query is not a read command.
  bad_request = 2,
  // Not "/ls/<cell>" or "/ls/<cell>/c1/.../cn" with components of [A-Za-z0-9._-] (not "." or
  // ".."), within path_bytes_max and path_depth_max; or the cell root where a node below it is
  // required (create, delete).
  invalid_path = 3,
  content_too_large = 4,  // over LockConfig::content_bytes_max
  // A field out of its documented range: a session TTL outside [session_ttl_min,
  // session_ttl_max], watch kinds that are empty or not watchable, an OpenSession whose token
  // lacks kOpenTokenBit.
  invalid_argument = 5,
  session_unknown = 6,  // the session never existed
  session_expired = 7,  // the session existed and has ended (expired, or closed by its client)
  // At-most-once: the request number is at or below what the session acknowledged or what the
  // state machine had to forget, and no result is kept for it. It was NOT applied now; if it was
  // applied before, its result is lost (request numbers start at 1).
  stale_request = 8,
  node_exists = 9,
  no_node = 10,           // the node does not exist (or was deleted while a request waited on it)
  no_parent = 11,         // create: the parent does not exist
  not_empty = 12,         // delete: the node has children
  version_mismatch = 13,  // conditional set/delete: the node's version is not the expected one
  ephemeral_parent = 14,  // create: ephemeral nodes cannot have children (as in ZooKeeper)
  // delete: the node's lock is held, waited for, or in lock-delay; deleting it would drop a
  // holder's lock or end a lock-delay early.
  node_busy = 15,
  lock_busy = 16,        // try-acquire: the lock is held in a conflicting mode or has waiters
  lock_delay = 17,       // try-acquire: the lock is in lock-delay after its holder expired
  already_held = 18,     // acquire/campaign: this session holds the lock already
  already_waiting = 19,  // acquire/campaign: this session is already queued for the lock
  not_held = 20,         // release/resign: this session neither holds nor waits for it
  cancelled = 21,        // completion of a waiting acquire the session released before its grant
  stale_sequencer = 22,  // check-sequencer: that grant is no longer held
  no_leader = 23,        // observe: nobody holds the election
  no_watch = 24,         // unwatch: the session has no watch with that id
  // A configured bound would be exceeded: nodes_max, sessions_max, waits_per_session_max,
  // watches_per_session_max, or a parent's sequential counter (10 digits).
  limit_exceeded = 25,
  not_permitted = 26,   // a leader command sent by a client session
  stale_leader = 27,    // a leader command from a term that is not the current leadership's
  lease_extended = 28,  // expire: the session kept alive after the leader decided
  no_lock_delay = 29,   // end lock-delay: that lock-delay is not running (ended or replaced)
};
inline constexpr std::uint8_t kCodeMax = 29;
std::string_view to_string(Code code);

// Chubby's sequencer: proof of one grant of one lock. `generation` is the revision of the grant,
// so it strictly increases per lock (and globally), across releases, expiries and even deletion
// and re-creation of the node. A resource keeps the highest generation it has seen per lock and
// rejects older ones; CheckSequencer asks the service whether the grant is still held.
struct Sequencer {
  std::string path;
  LockMode mode = LockMode::exclusive;
  std::uint64_t generation = 0;
  friend bool operator==(const Sequencer&, const Sequencer&) = default;
};

// ZooKeeper's Stat, with revisions for zxids.
struct Stat {
  std::uint64_t version = 0;           // content changes since creation (0 at creation)
  std::uint64_t children_version = 0;  // child creations and deletions since creation
  Revision created;
  Revision modified;          // content last changed (the creation counts)
  SessionId ephemeral_owner;  // 0 for a persistent node
  std::uint64_t content_bytes = 0;
  std::uint64_t children = 0;
  friend bool operator==(const Stat&, const Stat&) = default;
};

enum class EventKind : std::uint8_t {
  node_created = 0,      // path: the node; version: 0
  node_changed = 1,      // path: the node; version: the new version
  node_deleted = 2,      // path: the node; version: its last version
  children_changed = 3,  // path: the parent; version: its new children_version
  lock_acquired = 4,     // path: the lock; session, mode, generation: the grant
  lock_released = 5,     // path: the lock; session, mode, generation: the grant; cause: why
  // Sent (as SessionEnded) to the session itself, for a client that still listens.
  session_expired = 6,
  // Watch replay only: the history no longer reaches the revision asked for; re-read the state
  // and watch again from this event's revision + 1.
  resync = 7,
  // Client-side events (Chubby's jeopardy and safe), raised by the client library, never by the
  // state machine: they have a kind here so one event stream carries them all.
  session_jeopardy = 8,
  session_safe = 9,
};
inline constexpr std::uint8_t kEventKindMax = 9;
std::string_view to_string(EventKind kind);

// The kinds a watch can ask for: a bit per kind, `1 << kind`, for node_created..lock_released.
inline constexpr std::uint32_t watch_bit(EventKind kind) {
  return std::uint32_t{1} << static_cast<std::uint8_t>(kind);
}
inline constexpr std::uint32_t kWatchableKinds =
    watch_bit(EventKind::node_created) | watch_bit(EventKind::node_changed) |
    watch_bit(EventKind::node_deleted) | watch_bit(EventKind::children_changed) |
    watch_bit(EventKind::lock_acquired) | watch_bit(EventKind::lock_released);

// Why a lock was released (lock_released events) or a session ended.
enum class Cause : std::uint8_t {
  none = 0,
  released = 1,         // Release or Resign
  session_closed = 2,   // the holder closed its session: a clean release
  session_expired = 3,  // the holder's session expired: the lock enters lock-delay
  node_deleted = 4,     // the node went away with its owner's session (ephemeral)
};
inline constexpr std::uint8_t kCauseMax = 4;
std::string_view to_string(Cause cause);

struct Event {
  Revision revision;
  EventKind kind = EventKind::node_created;
  std::string path;
  SessionId session;
  LockMode mode = LockMode::exclusive;
  std::uint64_t generation = 0;
  std::uint64_t version = 0;
  Cause cause = Cause::none;
  friend bool operator==(const Event&, const Event&) = default;
};

// Limits and durations; every replica must use the same values (they are part of the function
// the state machine computes). Durations are only handed to the leader in LeaderTimers: apply
// never reads a clock.
struct LockConfig {
  std::string cell = "local";
  std::size_t path_bytes_max = 256;
  std::size_t path_depth_max = 16;  // components below the cell
  std::size_t content_bytes_max = 64 * 1024;
  std::size_t nodes_max = 100'000;
  std::size_t sessions_max = 10'000;
  Nanos session_ttl_min = milliseconds(100);
  Nanos session_ttl_max = seconds(60);
  // Added to every session's TTL by a new leader (Chubby's grace period, 45 s there).
  Nanos session_grace = seconds(45);
  // How long a lock stays unavailable after its holder's session expired (Chubby: up to 1 min).
  Nanos lock_delay = seconds(10);
  // At-most-once: results kept per session above its acknowledged request. Past it the oldest
  // finished result is forgotten and its request number becomes stale.
  std::size_t results_per_session_max = 64;
  // Acquires and campaigns one session may have queued; below results_per_session_max so a
  // waiting request's result is never the one forgotten.
  std::size_t waits_per_session_max = 16;
  std::size_t watches_per_session_max = 64;
  // Events kept for watch resumption; older revisions get a resync.
  std::size_t event_history_max = 1024;
};

// Empty when `config` is usable; otherwise what is wrong, naming the field and its allowed
// values (config may come from a scenario file).
std::string validate(const LockConfig& config);

}  // namespace lockstep::service::lock
