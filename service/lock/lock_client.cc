// The calls of the client library; the session machinery is in lock_client_session.cc.
#include "service/lock/lock_client.h"

#include "core/assert.h"
#include "service/lock/lock_client_core.h"
#include "service/lock/lock_codec.h"

namespace lockstep::service::lock {

namespace {

template <typename T>
Outcome<T> lost() {
  Outcome<T> out;
  out.status = Status::session_lost;
  return out;
}

// The typed answer: ok with the value the command answers with, or refused with the code.
template <typename T>
Outcome<T> typed(const Outcome<Result>& r) {
  Outcome<T> out;
  out.status = r.status;
  out.code = r.code;
  out.revision = r.revision;
  out.index = r.index;
  if (r.status != Status::ok) return out;
  if constexpr (std::is_same_v<T, Done>) {
    return out;
  } else {
    if (const auto* v = std::get_if<T>(&r.value.value)) {
      out.value = *v;
    } else {
      // A server that answers ok with the wrong value is not ours (bytes from outside).
      out.status = Status::refused;
      out.code = Code::bad_request;
    }
    return out;
  }
}

Outcome<Result> from_reply(const ClientReply& reply) {
  Outcome<Result> out;
  out.index = reply.index;
  const auto result =
      reply.status == ReplyStatus::ok ? decode_result(reply.payload) : std::nullopt;
  if (!result) {
    out.status = Status::refused;
    out.code = Code::bad_request;
    return out;
  }
  out.code = result->code;
  out.revision = result->revision;
  out.status = result->code == Code::ok ? Status::ok : Status::refused;
  out.value = *result;
  return out;
}

Outcome<Sequencer> granted(const Result& result, std::uint64_t index) {
  Outcome<Result> r;
  r.status = result.code == Code::ok ? Status::ok : Status::refused;
  r.code = result.code;
  r.revision = result.revision;
  r.value = result;
  r.index = index;
  const Outcome<Granted> g = typed<Granted>(r);
  Outcome<Sequencer> out;
  out.status = g.status;
  out.code = g.code;
  out.revision = g.revision;
  out.index = g.index;
  out.value = g.value.sequencer;
  return out;
}

}  // namespace

LockClient::LockClient(sim::FiberContext& f, LockClientConfig config,
                       std::function<void(SessionEvent)> on_session_event,
                       LockClientObserver* observer)
    : f_(f), core_(std::make_shared<Core>()) {
  LS_ASSERT(!config.servers.empty());
  core_->config = std::move(config);
  core_->on_event = std::move(on_session_event);
  core_->observer = observer;
  core_->target = static_cast<std::size_t>(f.env().random() % core_->config.servers.size());
  core_->open(f);
  if (core_->open_failed) return;
  f.spawn([core = core_](sim::FiberContext& kf) { core->keepalive_loop(kf); });
}

LockClient::~LockClient() { core_->stopped = true; }

SessionState LockClient::state() const { return core_->state; }
SessionId LockClient::session() const { return core_->session; }
Code LockClient::open_code() const { return core_->open_code; }

std::optional<Outcome<Result>> LockClient::call(const Command& command,
                                                std::uint64_t* request) {
  Core& c = *core_;
  if (c.lost() || c.state == SessionState::opening) return std::nullopt;
  const std::uint64_t n = c.begin_request();
  const Bytes payload = encode(RequestPayload{c.acked_through(), command});
  const auto reply =
      c.exchange(f_, c.session.value, n, ClientOp::write, payload, command, Nanos::max());
  if (!reply) return std::nullopt;
  Outcome<Result> out = from_reply(*reply);
  if (out.code != Code::waiting) {
    c.finish_request(n);
    if (c.observer != nullptr) c.observer->answered(c.session, n, command, out.value, out.index);
  }
  if (request != nullptr) *request = n;
  return out;
}

Outcome<Result> LockClient::read(const Command& command, Consistency consistency) {
  Core& c = *core_;
  if (c.lost() || c.state == SessionState::opening) return lost<Result>();
  const std::uint64_t n = c.begin_request();
  const ClientOp op = consistency == Consistency::stale ? ClientOp::stale_read : ClientOp::read;
  const auto reply = c.exchange(f_, c.session.value, n, op, encode_command(command), command,
                                Nanos::max());
  c.finish_request(n);
  if (!reply) return lost<Result>();
  Outcome<Result> out = from_reply(*reply);
  out.index = 0;
  if (c.observer != nullptr) c.observer->answered(c.session, n, command, out.value, 0);
  return out;
}

Outcome<Sequencer> LockClient::wait_for_grant(const Command& command, const Command& withdraw,
                                              Nanos timeout) {
  Core& c = *core_;
  const Nanos deadline = deadline_after(f_.env().monotonic(), timeout);
  std::uint64_t n = 0;
  const auto first = call(command, &n);
  if (!first) return lost<Sequencer>();
  if (first->code != Code::waiting) return granted(first->value, first->index);
  const SessionId session = c.session;
  Core::Wanted want;  // the reply to a resend, or the Completion
  want.reply.emplace(session.value, n);
  want.note = NotificationKind::completion;
  want.note_id = n;
  const Bytes resend = encode(ClientRequest{
      session.value, n, ClientOp::write, encode(RequestPayload{c.acked_through(), command})});
  bool resend_answered = true;
  for (;;) {
    const Nanos now = f_.env().monotonic();
    if (now >= deadline) break;
    const auto received = c.await(f_, std::min(deadline, now + c.config.wait_resend), want);
    if (c.lost()) return lost<Sequencer>();
    if (!received) {
      if (f_.env().monotonic() >= deadline) break;
      // Nothing for a while: ask again under the same number, in case the grant was lost. The
      // answer comes from the record (waiting, or the grant); a server that did not answer the
      // last time is given up for the next.
      if (!resend_answered) c.rotate();
      f_.send(c.server(), resend);
      if (c.observer != nullptr) c.observer->sent(session, n, command, false);
      resend_answered = false;
      continue;
    }
    if (const auto note = notification_for(received->payload, session)) {
      const Result& result = std::get<Completion>(note->body).result;  // `want` took it
      if (c.observer != nullptr) c.observer->woken(session, n);
      c.finish_request(n);
      if (c.observer != nullptr) c.observer->answered(session, n, command, result, 0);
      return granted(result, 0);
    }
    const auto reply = decode_reply(received->payload);
    resend_answered = true;
    if (!reply) continue;
    if (reply->status == ReplyStatus::not_leader) {
      c.redirect(reply->leader_hint);
      continue;
    }
    const Outcome<Result> r = from_reply(*reply);
    if (reply->status != ReplyStatus::ok || r.code == Code::waiting) continue;
    c.finish_request(n);  // the grant (or its end) came back from the record
    if (c.observer != nullptr) c.observer->answered(session, n, command, r.value, r.index);
    return granted(r.value, r.index);
  }
  // Timed out: withdraw. The release also gives back a grant that raced the timeout, and once it
  // is answered the queued request has its final result in the record.
  const auto withdrawn = call(withdraw);
  c.finish_request(n);
  if (!withdrawn) return lost<Sequencer>();
  Outcome<Sequencer> out;
  out.status = Status::timeout;
  return out;
}

Outcome<Sequencer> LockClient::acquire(const std::string& path, LockMode mode, Nanos timeout) {
  return wait_for_grant(Acquire{path, mode, true}, Release{path}, timeout);
}

Outcome<Sequencer> LockClient::try_acquire(const std::string& path, LockMode mode) {
  const auto r = call(Acquire{path, mode, false});
  if (!r) return lost<Sequencer>();
  return granted(r->value, r->index);
}

Outcome<Done> LockClient::release(const std::string& path) {
  const auto r = call(Release{path});
  return r ? typed<Done>(*r) : lost<Done>();
}

Outcome<Sequencer> LockClient::campaign(const std::string& path, Bytes value, Nanos timeout) {
  return wait_for_grant(Campaign{path, std::move(value)}, Resign{path}, timeout);
}

Outcome<Done> LockClient::resign(const std::string& path) {
  const auto r = call(Resign{path});
  return r ? typed<Done>(*r) : lost<Done>();
}

Outcome<Leader> LockClient::observe(const std::string& path, Consistency c) {
  return typed<Leader>(read(Observe{path}, c));
}

Outcome<Done> LockClient::check_sequencer(const Sequencer& sequencer, Consistency c) {
  return typed<Done>(read(CheckSequencer{sequencer}, c));
}

Outcome<NodeData> LockClient::get(const std::string& path, Consistency c) {
  return typed<NodeData>(read(Get{path}, c));
}

Outcome<Children> LockClient::list(const std::string& path, Consistency c) {
  return typed<Children>(read(List{path}, c));
}

Outcome<NodeCreated> LockClient::create(const std::string& path, Bytes content, bool ephemeral,
                                        bool sequential) {
  const auto r = call(Create{path, std::move(content), ephemeral, sequential});
  return r ? typed<NodeCreated>(*r) : lost<NodeCreated>();
}

Outcome<NodeStat> LockClient::set(const std::string& path, Bytes content,
                                  std::optional<std::uint64_t> expected_version) {
  const auto r = call(Set{path, std::move(content), expected_version});
  return r ? typed<NodeStat>(*r) : lost<NodeStat>();
}

Outcome<Done> LockClient::remove(const std::string& path,
                                 std::optional<std::uint64_t> expected_version) {
  const auto r = call(Delete{path, expected_version});
  return r ? typed<Done>(*r) : lost<Done>();
}

// ---- watches -----------------------------------------------------------------------------------

Outcome<Revision> LockClient::watch(std::uint64_t watch_id, const std::string& path,
                                    bool recursive, std::uint32_t kinds,
                                    Revision start_revision) {
  const auto r = call(Watch{watch_id, path, recursive, kinds, start_revision});
  if (!r) return lost<Revision>();
  Outcome<Revision> out;
  out.status = r->status;
  out.code = r->code;
  out.revision = r->revision;
  out.value = r->revision;
  const auto* started = std::get_if<WatchStarted>(&r->value.value);
  if (!r->ok() || started == nullptr) {
    if (r->ok()) {
      out.status = Status::refused;
      out.code = Code::bad_request;
    }
    return out;
  }
  Core::WatchState w;
  w.path = path;
  w.recursive = recursive;
  w.kinds = kinds;
  w.chain = r->revision;
  w.queued = r->revision;
  w.handed = start_revision.value > 0 ? Revision{start_revision.value - 1} : r->revision;
  w.buffer.assign(started->replay.begin(), started->replay.end());
  w.epoch = core_->failovers;
  core_->watches[watch_id] = std::move(w);
  return out;
}

Outcome<Done> LockClient::resume_watch(std::uint64_t watch_id) {
  const Core::WatchState& w = core_->watches.at(watch_id);
  const auto r =
      call(Watch{watch_id, w.path, w.recursive, w.kinds, Revision{w.handed.value + 1}});
  if (!r) return lost<Done>();
  if (!r->ok()) return typed<Done>(*r);
  const auto* started = std::get_if<WatchStarted>(&r->value.value);
  if (started == nullptr) return typed<Done>(from_reply(ClientReply{}));
  Core::WatchState& again = core_->watches.at(watch_id);  // `call` suspended: look it up again
  again.buffer.assign(started->replay.begin(), started->replay.end());
  again.chain = r->revision;
  again.queued = r->revision;
  again.epoch = core_->failovers;
  return typed<Done>(*r);
}

Outcome<Event> LockClient::next_event(std::uint64_t watch_id, Nanos timeout) {
  Core& c = *core_;
  if (!c.watches.contains(watch_id)) {
    Outcome<Event> out;
    out.status = Status::refused;
    out.code = Code::no_watch;
    return out;
  }
  if (c.lost()) return lost<Event>();
  const Nanos deadline = deadline_after(f_.env().monotonic(), timeout);
  const SessionId session = c.session;
  Core::Wanted want;
  want.note = NotificationKind::watch_fired;
  want.note_id = watch_id;
  const auto failed = [](const Outcome<Done>& r) {
    Outcome<Event> out;
    out.status = r.status;
    out.code = r.code;
    return out;
  };
  // After a failover the new leader may not have sent what the old one did not: resume.
  if (c.watches.at(watch_id).epoch != c.failovers) {
    if (const auto r = resume_watch(watch_id); !r.ok()) return failed(r);
  }
  for (;;) {
    Core::WatchState& w = c.watches.at(watch_id);
    while (!w.buffer.empty()) {
      Event e = std::move(w.buffer.front());
      w.buffer.pop_front();
      if (e.kind != EventKind::resync && e.revision <= w.handed) continue;  // handed out before
      w.handed = std::max(w.handed, e.revision);
      if (c.observer != nullptr) c.observer->watch_event(session, watch_id, e);
      Outcome<Event> out;
      out.revision = e.revision;
      out.value = std::move(e);
      return out;
    }
    // Wait in slices: a failover found meanwhile (by the keepalive) means resuming.
    const Nanos now = f_.env().monotonic();
    const auto received = c.await(f_, std::min(deadline, deadline_after(now, c.config.wait_resend)), want);
    if (!received) {
      if (c.lost()) return lost<Event>();
      if (f_.env().monotonic() >= deadline) {
        Outcome<Event> out;
        out.status = Status::timeout;
        return out;
      }
      if (c.watches.at(watch_id).epoch != c.failovers) {
        if (const auto r = resume_watch(watch_id); !r.ok()) return failed(r);
      }
      continue;
    }
    auto note = notification_for(received->payload, session);
    if (!note) continue;  // its header read, its body did not: bytes that are not our server's
    WatchFired& fired = std::get<WatchFired>(note->body);
    Core::WatchState& live = c.watches.at(watch_id);
    if (fired.event.revision <= live.queued) continue;  // a duplicate
    if (fired.prev_revision != live.chain) {
      // Something between was lost: register again from what was handed out.
      if (const auto r = resume_watch(watch_id); !r.ok()) return failed(r);
      continue;
    }
    live.chain = fired.event.revision;
    live.queued = fired.event.revision;
    live.buffer.push_back(std::move(fired.event));
  }
}

Outcome<Done> LockClient::unwatch(std::uint64_t watch_id) {
  const auto r = call(Unwatch{watch_id});
  if (!r) return lost<Done>();
  core_->watches.erase(watch_id);
  return typed<Done>(*r);
}

Outcome<Done> LockClient::close() {
  const auto r = call(CloseSession{});
  if (!r) return lost<Done>();
  core_->set_state(SessionState::closed);
  core_->stopped = true;
  return typed<Done>(*r);
}

}  // namespace lockstep::service::lock
