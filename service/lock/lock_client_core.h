// The state a LockClient shares with its keepalive fiber, and the request machinery both use:
// numbering and acked_through, retries with failover, waiting for a message while handling the
// session-wide ones. Private to lock_client*.cc.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "service/lock/lock_client.h"
#include "service/lock/lock_codec.h"

namespace lockstep::service::lock {

// `now + d`, saturating at Nanos::max() (which means "no deadline").
inline Nanos deadline_after(Nanos now, Nanos d) {
  return d >= Nanos::max() - now ? Nanos::max() : now + d;
}

struct LockClient::Core {
  struct WatchState {
    std::string path;
    bool recursive = false;
    std::uint32_t kinds = 0;
    Revision chain;    // the revision the service's next WatchFired must name as prev_revision
    Revision queued;   // events up to here are handed out or in `buffer`
    Revision handed;   // events up to here were handed out
    std::deque<Event> buffer;
    std::uint64_t epoch = 0;  // `failovers` when last registered
  };

  LockClientConfig config;
  std::function<void(SessionEvent)> on_event;
  LockClientObserver* observer = nullptr;

  std::uint64_t open_token = 0;
  SessionId session;
  SessionState state = SessionState::opening;
  bool open_failed = false;
  Code open_code = Code::ok;
  Nanos lease_end;  // monotonic
  bool stopped = false;

  std::size_t target = 0;         // index into config.servers
  std::uint64_t failovers = 0;    // times the target changed
  std::uint64_t next_request = 1;
  std::set<std::uint64_t> outstanding;  // requests without their final result
  std::map<std::uint64_t, WatchState> watches;

  bool lost() const {
    return open_failed || state == SessionState::expired || state == SessionState::closed;
  }
  NodeId server() const { return config.servers[target]; }
  void redirect(std::optional<NodeId> hint);  // to the hint if it is a server, else the next one
  void rotate();

  std::uint64_t begin_request() {
    const std::uint64_t n = next_request++;
    outstanding.insert(n);
    return n;
  }
  void finish_request(std::uint64_t n) { outstanding.erase(n); }
  std::uint64_t acked_through() const {
    return outstanding.empty() ? next_request - 1 : *outstanding.begin() - 1;
  }
  void set_state(SessionState next);

  // What a waiting caller takes: the reply to one request, and/or one notification of this
  // session (of a kind, about a request or a watch id). Data rather than a predicate, so that
  // each message a filter looks at is read once for both questions below; the filter runs for
  // every message that arrives and again on every rescan of the mailbox.
  struct Wanted {
    std::optional<std::pair<std::uint64_t, std::uint64_t>> reply;  // (client, request)
    std::optional<NotificationKind> note;
    std::uint64_t note_id = 0;
  };
  // Whether `message` is what `wanted` names; if not, whether it is a stray: a message for this
  // client that nobody waits for (a reply or Completion of a finished request, an event of an
  // unknown watch, or the session's end).
  enum class Fit { wanted, stray, neither };
  Fit fit(ByteView message, const Wanted& wanted) const;
  void absorb(ByteView message);
  // Waits until a message `wanted` names arrives, absorbing strays on the way. nullopt once
  // `deadline` (monotonic) passes or the session is lost.
  std::optional<sim::Received> await(sim::FiberContext& f, Nanos deadline, const Wanted& wanted);
  // Sends request `n` of client id `client` until a server answers it (status ok or rejected),
  // following leader hints and moving on after each request_timeout. nullopt when the session
  // is lost or `deadline` passes.
  std::optional<ClientReply> exchange(sim::FiberContext& f, std::uint64_t client, std::uint64_t n,
                                      ClientOp op, const Bytes& payload, const Command& command,
                                      Nanos deadline);

  void open(sim::FiberContext& f);
  void keepalive_loop(sim::FiberContext& f);
};

// The notification in `message`, when it is a notify for `session`.
std::optional<Notification> notification_for(ByteView message, SessionId session);
// Its header only (peek_notification): enough to tell whom it is for and what it is about.
std::optional<NotificationHeader> notification_header_for(ByteView message, SessionId session);

}  // namespace lockstep::service::lock
