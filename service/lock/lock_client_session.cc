// The session half of the client library: opening, the keepalive fiber and the lease's
// jeopardy/grace/expired progression, and the request machinery (retries, failover, waiting).
#include <algorithm>

#include "core/assert.h"
#include "core/codec.h"
#include "service/lock/lock_client_core.h"
#include "service/lock/lock_codec.h"

namespace lockstep::service::lock {

std::string_view to_string(SessionState state) {
  switch (state) {
    case SessionState::opening: return "opening";
    case SessionState::safe: return "safe";
    case SessionState::jeopardy: return "jeopardy";
    case SessionState::expired: return "expired";
    case SessionState::closed: return "closed";
  }
  return "?";
}

std::string_view to_string(SessionEvent event) {
  switch (event) {
    case SessionEvent::jeopardy: return "jeopardy";
    case SessionEvent::safe: return "safe";
    case SessionEvent::expired: return "expired";
  }
  return "?";
}

std::string_view to_string(Status status) {
  switch (status) {
    case Status::ok: return "ok";
    case Status::refused: return "refused";
    case Status::timeout: return "timeout";
    case Status::session_lost: return "session_lost";
  }
  return "?";
}

std::optional<Notification> notification_for(ByteView message, SessionId session) {
  if (!notification_header_for(message, session)) return std::nullopt;
  return decode_notification(*notify_body(message));
}

std::optional<NotificationHeader> notification_header_for(ByteView message, SessionId session) {
  const auto body = notify_body(message);
  if (!body) return std::nullopt;
  const auto header = peek_notification(*body);
  if (!header || header->target != session) return std::nullopt;
  return header;
}

void LockClient::Core::redirect(std::optional<NodeId> hint) {
  if (hint) {
    const auto it = std::find(config.servers.begin(), config.servers.end(), *hint);
    if (it != config.servers.end()) {
      const auto index = static_cast<std::size_t>(it - config.servers.begin());
      if (index != target) {
        target = index;
        ++failovers;
      }
      return;
    }
  }
  rotate();
}

void LockClient::Core::rotate() {
  target = (target + 1) % config.servers.size();
  ++failovers;
}

void LockClient::Core::set_state(SessionState next) {
  if (next == state) return;
  state = next;
  std::optional<SessionEvent> event;
  if (next == SessionState::jeopardy) event = SessionEvent::jeopardy;
  if (next == SessionState::safe) event = SessionEvent::safe;
  if (next == SessionState::expired) event = SessionEvent::expired;
  if (!event) return;
  if (observer != nullptr) observer->session_event(session, *event);
  if (on_event) on_event(*event);
}

LockClient::Core::Fit LockClient::Core::fit(ByteView message, const Wanted& wanted) const {
  Reader r(message);
  const std::uint8_t envelope = r.u8();
  if (envelope == static_cast<std::uint8_t>(Envelope::reply)) {
    const std::uint64_t client = r.u64();
    const std::uint64_t request = r.u64();
    if (!r.ok()) return Fit::neither;
    if (wanted.reply && wanted.reply->first == client && wanted.reply->second == request) {
      return Fit::wanted;
    }
    if (client == open_token) return state != SessionState::opening ? Fit::stray : Fit::neither;
    const bool stray =
        client == session.value && session.value != 0 && !outstanding.contains(request);
    return stray ? Fit::stray : Fit::neither;
  }
  if (session.value == 0) return Fit::neither;
  const auto n = notification_header_for(message, session);
  if (!n) return Fit::neither;
  if (wanted.note && n->kind == *wanted.note && n->id == wanted.note_id) return Fit::wanted;
  bool stray = false;
  switch (n->kind) {
    case NotificationKind::session_ended: stray = true; break;
    case NotificationKind::completion: stray = !outstanding.contains(n->id); break;
    case NotificationKind::watch_fired: stray = !watches.contains(n->id); break;
  }
  return stray ? Fit::stray : Fit::neither;
}

void LockClient::Core::absorb(ByteView message) {
  if (session.value == 0) return;
  const auto n = notification_header_for(message, session);
  if (n && n->kind == NotificationKind::session_ended) set_state(SessionState::expired);
  // Anything else stray is a late duplicate: dropped.
}

std::optional<sim::Received> LockClient::Core::await(sim::FiberContext& f, Nanos deadline,
                                                     const Wanted& wanted) {
  const sim::MessageFilter accept = [&](NodeId, ByteView message) {
    return fit(message, wanted) != Fit::neither;
  };
  for (;;) {
    if (lost()) return std::nullopt;
    const Nanos now = f.env().monotonic();
    if (now >= deadline) return std::nullopt;
    auto received = f.receive(deadline == Nanos::max() ? Nanos::max() : deadline - now, accept);
    if (!received) return std::nullopt;
    if (fit(received->payload, wanted) == Fit::wanted) return received;
    absorb(received->payload);
  }
}

std::optional<ClientReply> LockClient::Core::exchange(sim::FiberContext& f, std::uint64_t client,
                                                      std::uint64_t n, ClientOp op,
                                                      const Bytes& payload, const Command& command,
                                                      Nanos deadline) {
  const Bytes message = encode(ClientRequest{client, n, op, payload});
  Wanted want;
  want.reply.emplace(client, n);
  bool first = true;
  for (;;) {
    if (lost() || stopped) return std::nullopt;
    const Nanos now = f.env().monotonic();
    if (now >= deadline) return std::nullopt;
    f.send(server(), message);
    if (observer != nullptr && client == session.value) observer->sent(session, n, command, first);
    first = false;
    const auto received = await(f, std::min(deadline, now + config.request_timeout), want);
    if (!received) {
      if (lost() || stopped || f.env().monotonic() >= deadline) return std::nullopt;
      rotate();  // no answer in time: try the next server
      continue;
    }
    auto reply = decode_reply(received->payload);
    if (!reply) continue;  // cannot happen: `want` read its header; skip it all the same
    switch (reply->status) {
      case ReplyStatus::ok:
      case ReplyStatus::rejected:
        return reply;
      case ReplyStatus::not_leader:
        redirect(reply->leader_hint);
        break;
      case ReplyStatus::busy:
        break;
    }
    f.sleep(config.retry_backoff);
  }
}

void LockClient::Core::open(sim::FiberContext& f) {
  open_token = f.env().random() | kOpenTokenBit;
  const Command command = OpenSession{config.session_ttl};
  const Bytes payload = encode(RequestPayload{0, command});
  const Nanos first_send = f.env().monotonic();
  const Nanos deadline = deadline_after(first_send, config.open_timeout);
  const auto reply = exchange(f, open_token, 1, ClientOp::write, payload, command, deadline);
  const auto result = reply ? decode_result(reply->payload) : std::nullopt;
  const auto* info = result ? std::get_if<SessionInfo>(&result->value) : nullptr;
  if (result == std::nullopt || result->code != Code::ok || info == nullptr) {
    open_failed = true;
    open_code = result ? result->code : Code::ok;
    return;
  }
  session = info->session;
  // The service started the lease when it applied the opening, some time after its first send.
  lease_end = first_send + config.session_ttl;
  if (observer != nullptr) observer->opened(session);
  if (lease_end <= f.env().monotonic()) {
    // Opening took longer than the lease (no leader for a while): a KeepAlive sent now gives the
    // lease a fresh start before the session is handed out.
    const std::uint64_t n = begin_request();
    const Command keepalive = KeepAlive{};
    const Nanos sent = f.env().monotonic();
    const auto renewed = exchange(f, session.value, n, ClientOp::write,
                                  encode(RequestPayload{acked_through(), keepalive}), keepalive,
                                  deadline_after(sent, config.session_ttl));
    finish_request(n);
    const auto r = renewed ? decode_result(renewed->payload) : std::nullopt;
    if (!r || r->code != Code::ok) {
      open_failed = true;
      open_code = r ? r->code : Code::ok;
      return;
    }
    if (observer != nullptr) observer->answered(session, n, keepalive, *r, renewed->index);
    lease_end = sent + config.session_ttl;
  }
  state = SessionState::safe;
}

// Chubby's KeepAlive loop, without its long poll: one KeepAlive every keepalive_interval, each
// retried under its number across servers until a leader answers. The lease is counted from the
// first send of the acknowledged KeepAlive; it ending without an answer is jeopardy, and `grace`
// more without one is the end of the session.
void LockClient::Core::keepalive_loop(sim::FiberContext& f) {
  const Nanos interval = config.keepalive_interval > Nanos::zero() ? config.keepalive_interval
                                                                   : config.session_ttl / 3;
  const Command command = KeepAlive{};
  Nanos grace_end = Nanos::max();  // while in jeopardy: when the session counts as expired
  while (!stopped && !lost()) {
    const std::uint64_t n = begin_request();
    const Bytes payload = encode(RequestPayload{acked_through(), command});
    const Nanos first_send = f.env().monotonic();
    std::optional<ClientReply> reply;
    while (!reply) {
      const Nanos limit = state == SessionState::safe ? lease_end : grace_end;
      reply = exchange(f, session.value, n, ClientOp::write, payload, command, limit);
      if (reply || stopped || lost()) break;
      if (state == SessionState::safe) {
        grace_end = deadline_after(lease_end, config.grace);
        set_state(SessionState::jeopardy);
      } else {
        set_state(SessionState::expired);
      }
    }
    if (!reply || stopped) return;  // stopped: the client (and its observer) may be gone
    finish_request(n);
    const auto result = decode_result(reply->payload);
    if (result && observer != nullptr) observer->answered(session, n, command, *result, reply->index);
    const Nanos now = f.env().monotonic();
    if (result && result->code == Code::ok) {
      lease_end = std::max(lease_end, first_send + config.session_ttl);
      // A KeepAlive first sent long ago (retried through the outage) proves too little: the
      // next one, sent now, decides.
      if (lease_end <= now) continue;
      if (state == SessionState::jeopardy) set_state(SessionState::safe);
    } else if (result && (result->code == Code::session_expired ||
                          result->code == Code::session_unknown)) {
      set_state(SessionState::expired);
      return;
    }
    const Nanos next = first_send + interval;
    if (next > now) {
      // Wait for the next round, handling a session end pushed meanwhile.
      await(f, next, Wanted{});
    }
  }
}

}  // namespace lockstep::service::lock
