// The lock service's client library: a session and every call of the service, as blocking calls
// on a fiber (sim/fiber.h), so that client code reads as straight-line code:
//
//   LockClient client(f, config);                          // opens a session, keeps it alive
//   auto granted = client.acquire("/ls/local/db", LockMode::exclusive, seconds(5));
//   if (granted.ok()) { write_with(granted.value); client.release("/ls/local/db"); }
//
// Only a fiber suspends, never the node: the client speaks through the fiber's Env (send,
// timers, its own clocks), so the same calls run on the simulator and on real sockets.
//
// Session (Chubby §2.8, §2.9). The constructor opens a session with a lease TTL and spawns a
// keepalive fiber that sends KeepAlive every keepalive_interval (TTL / 3 by default). The client
// keeps its own view of the lease, measured from the FIRST send of the latest acknowledged
// KeepAlive on its monotonic clock — the service started its timer later, at apply, so the
// client's lease ends first. Then:
//   safe ── no KeepAlive acknowledged before the local lease ends ──> jeopardy
//   jeopardy ── a leader acknowledges a KeepAlive within `grace` ──> safe
//   jeopardy ── `grace` passes ──> expired         (also: the service says session_expired)
// with a callback on each change. The service grants session_grace after a failover counted
// from its new leader's start, which is after the client's last acknowledged send, so a client
// whose `grace` is at most the service's gives up no later than the service expires it.
//
// Requests and failover. Every request carries (session, request number, acked_through) and is
// retried under the SAME number until answered: a not_leader reply redirects to its leader hint,
// a timeout or a reply without a hint moves to the next server. The state machine answers a
// retry from its record, so a retry never applies twice. acked_through is the highest number
// below which every request has its FINAL result here: a queued acquire's is its Completion, so a
// queued acquire holds acked_through down until it completes.
//
// Locks and elections. acquire queues (FIFO) and blocks until the grant arrives as a Completion
// notification pushed by the leader, or `timeout` passes (then the wait is withdrawn with a
// Release, which also releases a grant that raced the timeout). While waiting it re-sends its
// request every wait_resend: the answer comes from the at-most-once record, so a Completion lost
// in a failover costs one re-send, not the grant. campaign is the same over an election.
//
// Watches (etcd's resumable watch). Events come in commit order from next_event. Each carries the
// revision its watch delivered before; on a gap, and after every failover, the client registers
// the watch again from the last revision it handed out + 1, and the service replays what was
// missed (or sends one resync event when its history no longer reaches back: re-read, then go
// on). Events already handed out are never handed out again.
//
// Reads (get, list, observe, check_sequencer) are linearizable (through the leader's read
// barrier) unless called with Consistency::stale, which any server answers from its own state.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/types.h"
#include "service/client_wire.h"
#include "service/lock/lock_commands.h"
#include "sim/fiber.h"

namespace lockstep::service::lock {

enum class SessionState : std::uint8_t {
  opening,   // not open yet (or the open failed: see LockClient::open_code)
  safe,      // the lease is valid
  jeopardy,  // the local lease ran out; looking for a leader within the grace period
  expired,   // the session is gone (grace ran out, or the service said so)
  closed,    // close() ended it
};
std::string_view to_string(SessionState state);

enum class SessionEvent : std::uint8_t { jeopardy, safe, expired };
std::string_view to_string(SessionEvent event);

enum class Consistency : std::uint8_t { linearizable, stale };

// How a call ended.
enum class Status : std::uint8_t {
  ok,            // `value` holds the answer
  refused,       // the service answered `code` (not ok): no_node, lock_busy, version_mismatch...
  timeout,       // acquire, campaign, next_event: nothing within the timeout
  session_lost,  // the session expired or was closed before an answer came
};
std::string_view to_string(Status status);

struct Done {};

template <typename T>
struct Outcome {
  Status status = Status::ok;
  Code code = Code::ok;  // the service's answer; ok unless status is refused
  T value{};
  Revision revision;      // the service's revision when it answered
  std::uint64_t index = 0;  // the log index a write was applied at (0 for reads)
  bool ok() const { return status == Status::ok; }
};

struct LockClientConfig {
  std::vector<NodeId> servers;  // the cell's servers; at least one
  Nanos session_ttl = seconds(12);
  // How long jeopardy lasts before the client counts the session expired. At most the service's
  // LockConfig::session_grace.
  Nanos grace = seconds(45);
  // Between KeepAlives; zero: session_ttl / 3.
  Nanos keepalive_interval = Nanos::zero();
  Nanos request_timeout = milliseconds(200);  // one attempt at one server
  Nanos retry_backoff = milliseconds(5);      // after not_leader or busy, before the next attempt
  Nanos wait_resend = seconds(1);             // a queued acquire re-sends its request this often
  Nanos open_timeout = seconds(10);           // the constructor gives up opening after this
};

// What a client did, for checkers and workloads (the harness records it with true time). Every
// method has an empty default.
class LockClientObserver {
 public:
  virtual ~LockClientObserver() = default;
  virtual void opened(SessionId) {}
  // A request's attempt left for a server (first: its first attempt).
  virtual void sent(SessionId, std::uint64_t /*request*/, const Command&, bool /*first*/) {}
  // The final answer of a request (a reply, or a queued request's Completion).
  virtual void answered(SessionId, std::uint64_t /*request*/, const Command&, const Result&,
                        std::uint64_t /*index*/) {}
  // A Completion arrived for a queued acquire or campaign: the client was woken.
  virtual void woken(SessionId, std::uint64_t /*request*/) {}
  virtual void session_event(SessionId, SessionEvent) {}
  virtual void watch_event(SessionId, std::uint64_t /*watch_id*/, const Event&) {}
};

class LockClient {
 public:
  // Opens a session, blocking `f` until the service answers or open_timeout passes (then
  // state() stays opening and every call returns session_lost). `f` is the fiber the calls will
  // be made from. `observer` (may be null) must outlive the client and its keepalive fiber.
  LockClient(sim::FiberContext& f, LockClientConfig config,
             std::function<void(SessionEvent)> on_session_event = {},
             LockClientObserver* observer = nullptr);
  // Stops the keepalive (the session then expires on the service unless closed first).
  ~LockClient();
  LockClient(const LockClient&) = delete;
  LockClient& operator=(const LockClient&) = delete;

  SessionState state() const;
  SessionId session() const;
  // The service's answer to OpenSession when it was not ok (invalid TTL, too many sessions).
  Code open_code() const;
  // The session is safe: its lease (as this client measures it) has not run out.
  bool lease_valid() const { return state() == SessionState::safe; }

  // ---- locks and elections ----
  Outcome<Sequencer> acquire(const std::string& path, LockMode mode, Nanos timeout);
  Outcome<Sequencer> try_acquire(const std::string& path, LockMode mode);
  Outcome<Done> release(const std::string& path);
  // Blocks until elected (the fencing token is the sequencer) or `timeout` passes.
  Outcome<Sequencer> campaign(const std::string& path, Bytes value, Nanos timeout);
  Outcome<Done> resign(const std::string& path);
  Outcome<Leader> observe(const std::string& path, Consistency c = Consistency::linearizable);
  Outcome<Done> check_sequencer(const Sequencer& sequencer,
                                Consistency c = Consistency::linearizable);

  // ---- namespace ----
  Outcome<NodeData> get(const std::string& path, Consistency c = Consistency::linearizable);
  Outcome<Children> list(const std::string& path, Consistency c = Consistency::linearizable);
  Outcome<NodeCreated> create(const std::string& path, Bytes content, bool ephemeral = false,
                              bool sequential = false);
  Outcome<NodeStat> set(const std::string& path, Bytes content,
                        std::optional<std::uint64_t> expected_version = std::nullopt);
  Outcome<Done> remove(const std::string& path,
                       std::optional<std::uint64_t> expected_version = std::nullopt);

  // ---- watches ----
  // Registers watch `watch_id` (any number the caller picks) on `path` (and below it when
  // recursive) for `kinds`. start_revision 0: events after now; otherwise from that revision on
  // (replayed, or a resync event when the service no longer has them).
  Outcome<Revision> watch(std::uint64_t watch_id, const std::string& path, bool recursive = false,
                          std::uint32_t kinds = kWatchableKinds, Revision start_revision = {});
  // The watch's next event in commit order; timeout when none comes within `timeout`.
  Outcome<Event> next_event(std::uint64_t watch_id, Nanos timeout);
  Outcome<Done> unwatch(std::uint64_t watch_id);

  // Ends the session cleanly: locks released without lock-delay, ephemeral nodes deleted.
  Outcome<Done> close();

  struct Core;  // the session state shared with the keepalive fiber (lock_client_session.cc)

 private:
  // Sends `command` as the next request (its number in `request`) and waits for its reply;
  // nullopt: the session is lost.
  std::optional<Outcome<Result>> call(const Command& command, std::uint64_t* request = nullptr);
  Outcome<Result> read(const Command& command, Consistency c);
  Outcome<Sequencer> wait_for_grant(const Command& command, const Command& withdraw,
                                    Nanos timeout);
  Outcome<Done> resume_watch(std::uint64_t watch_id);

  sim::FiberContext& f_;
  std::shared_ptr<Core> core_;
};

}  // namespace lockstep::service::lock
