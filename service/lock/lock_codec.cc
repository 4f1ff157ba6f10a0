#include "service/lock/lock_codec.h"

#include <tuple>
#include <type_traits>

#include "core/assert.h"
#include "core/overloaded.h"

namespace lockstep::service::lock {

namespace {

constexpr std::uint8_t kCommandTagMax = std::variant_size_v<Command> - 1;
constexpr std::uint8_t kValueTagMax = std::variant_size_v<ResultValue> - 1;
constexpr std::uint8_t kBodyTagMax = 2;
// NotificationKind names the body's variant index, which is also its tag on the wire.
template <NotificationKind kind, typename Body>
constexpr bool kBodyIs = std::is_same_v<
    std::variant_alternative_t<static_cast<std::size_t>(kind), decltype(Notification::body)>, Body>;
static_assert(kBodyIs<NotificationKind::completion, Completion> &&
              kBodyIs<NotificationKind::watch_fired, WatchFired> &&
              kBodyIs<NotificationKind::session_ended, SessionEnded> &&
              std::variant_size_v<decltype(Notification::body)> == kBodyTagMax + 1);
constexpr std::uint8_t kModeMax = 1;

void write_optional(Writer& w, const std::optional<std::uint64_t>& v) {
  w.boolean(v.has_value()).u64(v.value_or(0));
}
std::optional<std::uint64_t> read_optional(FieldReader& r) {
  const bool present = r.boolean();
  const std::uint64_t v = r.u64();
  if (!present) {
    if (v != 0) r.fail();  // one encoding per value: equal commands, equal bytes
    return std::nullopt;
  }
  return v;
}
void write_nanos(Writer& w, Nanos n) { w.u64(static_cast<std::uint64_t>(n.count)); }
Nanos read_nanos(FieldReader& r) { return Nanos{static_cast<std::int64_t>(r.u64())}; }
LockMode read_mode(FieldReader& r) { return r.enumeration<LockMode>(kModeMax); }

// Stat's fields in order, for Writer::fields along with whatever precedes them.
auto stat_fields(const Stat& s) {
  return std::tuple(s.version, s.children_version, s.created.value, s.modified.value,
                    s.ephemeral_owner.value, s.content_bytes, s.children);
}

// An event after `head` (fixed-width fields: a notification's or a result's own): the path's
// length goes with the fields before it, the rest after it, two appends in all. The same bytes as
// the fields one by one and str(path).
template <typename... Head>
void write_event(Writer& w, const Event& e, Head... head) {
  LS_ASSERT_LE(e.path.size(), std::size_t{0xffffffff});
  w.fields(head..., e.revision.value, static_cast<std::uint8_t>(e.kind),
           static_cast<std::uint32_t>(e.path.size()))
      .rest(ByteView(reinterpret_cast<const std::byte*>(e.path.data()), e.path.size()))
      .fields(e.session.value, static_cast<std::uint8_t>(e.mode), e.generation, e.version,
              static_cast<std::uint8_t>(e.cause));
}

// A sequencer after `head`, likewise.
template <typename... Head>
void write_sequencer(Writer& w, const Sequencer& s, Head... head) {
  LS_ASSERT_LE(s.path.size(), std::size_t{0xffffffff});
  w.fields(head..., static_cast<std::uint32_t>(s.path.size()))
      .rest(ByteView(reinterpret_cast<const std::byte*>(s.path.data()), s.path.size()))
      .fields(static_cast<std::uint8_t>(s.mode), s.generation);
}

// A result after `head`: [code u8][revision u64][value tag u8][fields]. Every apply encodes one on
// every replica, so the head, code, revision and tag go in one append with the value's leading
// fixed-width fields, not one append each.
template <typename... Head>
void write_result(Writer& w, const Result& result, Head... head) {
  const auto code = static_cast<std::uint8_t>(result.code);
  const std::uint64_t revision = result.revision.value;
  const auto tag = static_cast<std::uint8_t>(result.value.index());
  std::visit(
      Overloaded{
          [&](const std::monostate&) { w.fields(head..., code, revision, tag); },
          [&](const SessionInfo& v) {
            w.fields(head..., code, revision, tag, v.session.value,
                     static_cast<std::uint64_t>(v.ttl.count));
          },
          [&](const NodeData& v) {
            std::apply([&](auto... stat) { w.fields(head..., code, revision, tag, stat...); },
                       stat_fields(v.stat));
            w.bytes(v.content);
          },
          [&](const NodeCreated& v) {
            w.fields(head..., code, revision, tag).str(v.path);
            write(w, v.stat);
          },
          [&](const NodeStat& v) {
            std::apply([&](auto... stat) { w.fields(head..., code, revision, tag, stat...); },
                       stat_fields(v.stat));
          },
          [&](const Children& v) {
            w.fields(head..., code, revision, tag, static_cast<std::uint32_t>(v.names.size()));
            for (const std::string& n : v.names) w.str(n);
          },
          [&](const Granted& v) { write_sequencer(w, v.sequencer, head..., code, revision, tag); },
          [&](const Leader& v) {
            write_sequencer(w, v.sequencer, head..., code, revision, tag, v.session.value);
            w.bytes(v.value);
          },
          [&](const WatchStarted& v) {
            w.fields(head..., code, revision, tag, static_cast<std::uint32_t>(v.replay.size()));
            for (const Event& e : v.replay) write_event(w, e);
          },
      },
      result.value);
}

ResultValue read_value(FieldReader& r) {
  switch (r.tag(kValueTagMax)) {
    case 0: return std::monostate{};
    case 1: {
      SessionInfo v;
      v.session = SessionId{r.u64()};
      v.ttl = read_nanos(r);
      return v;
    }
    // Braced values below: read in order, built in place.
    case 2: return NodeData{read_stat(r), r.bytes()};
    case 3: return NodeCreated{r.str(), read_stat(r)};
    case 4: return NodeStat{read_stat(r)};
    case 5: {
      Children v;
      const std::uint32_t n = r.u32();
      for (std::uint32_t i = 0; i < n && r.ok(); ++i) v.names.push_back(r.str());
      return v;
    }
    case 6: return Granted{read_sequencer(r)};
    case 7: return Leader{SessionId{r.u64()}, read_sequencer(r), r.bytes()};
    case 8: {
      WatchStarted v;
      const std::uint32_t n = r.u32();
      for (std::uint32_t i = 0; i < n && r.ok(); ++i) v.replay.push_back(read_event(r));
      return v;
    }
    default: return std::monostate{};  // the reader has failed
  }
}

template <typename T, typename ReadFn>
std::optional<T> decode_whole(ByteView bytes, ReadFn read) {
  FieldReader r(bytes);
  T value = read(r);
  if (!r.done()) return std::nullopt;
  return value;
}

}  // namespace

// Stats and events are in most results and every watch notification: their fixed-width fields
// go in with one append each (Writer::fields) rather than one per field.
void write(Writer& w, const Stat& s) {
  std::apply([&w](auto... fields) { w.fields(fields...); }, stat_fields(s));
}

Stat read_stat(FieldReader& r) {
  Stat s;
  s.version = r.u64();
  s.children_version = r.u64();
  s.created = Revision{r.u64()};
  s.modified = Revision{r.u64()};
  s.ephemeral_owner = SessionId{r.u64()};
  s.content_bytes = r.u64();
  s.children = r.u64();
  return s;
}

void write(Writer& w, const Sequencer& s) { write_sequencer(w, s); }

Sequencer read_sequencer(FieldReader& r) {
  return Sequencer{r.str(), read_mode(r), r.u64()};  // braced: read in order, built in place
}

void write(Writer& w, const Event& e) { write_event(w, e); }

Event read_event(FieldReader& r) {
  // Braced: read in order, built in place.
  return Event{Revision{r.u64()}, r.enumeration<EventKind>(kEventKindMax), r.str(),
               SessionId{r.u64()}, read_mode(r), r.u64(), r.u64(), r.enumeration<Cause>(kCauseMax)};
}

void write(Writer& w, const Result& result) { write_result(w, result); }

Result read_result(FieldReader& r) {
  Result result;
  result.code = r.enumeration<Code>(kCodeMax);
  result.revision = Revision{r.u64()};
  result.value = read_value(r);
  return result;
}

void write(Writer& w, const Command& command) {
  w.u8(static_cast<std::uint8_t>(command.index()));
  std::visit(Overloaded{
                 [&](const OpenSession& c) { write_nanos(w, c.ttl); },
                 [](const KeepAlive&) {},
                 [](const CloseSession&) {},
                 [&](const Create& c) {
                   w.str(c.path).bytes(c.content).boolean(c.ephemeral).boolean(c.sequential);
                 },
                 [&](const Delete& c) {
                   w.str(c.path);
                   write_optional(w, c.expected_version);
                 },
                 [&](const Get& c) { w.str(c.path); },
                 [&](const Set& c) {
                   w.str(c.path).bytes(c.content);
                   write_optional(w, c.expected_version);
                 },
                 [&](const List& c) { w.str(c.path); },
                 [&](const Acquire& c) {
                   w.str(c.path).u8(static_cast<std::uint8_t>(c.mode)).boolean(c.wait);
                 },
                 [&](const Release& c) { w.str(c.path); },
                 [&](const CheckSequencer& c) { write(w, c.sequencer); },
                 [&](const Campaign& c) { w.str(c.path).bytes(c.value); },
                 [&](const Resign& c) { w.str(c.path); },
                 [&](const Observe& c) { w.str(c.path); },
                 [&](const Watch& c) {
                   w.u64(c.watch_id)
                       .str(c.path)
                       .boolean(c.recursive)
                       .u32(c.kinds)
                       .u64(c.start_revision.value);
                 },
                 [&](const Unwatch& c) { w.u64(c.watch_id); },
                 [&](const BeginLeadership& c) { w.u64(c.term); },
                 [&](const ExpireSession& c) {
                   w.u64(c.session.value).u64(c.keepalive_index).u64(c.term);
                 },
                 [&](const EndLockDelay& c) { w.str(c.path).u64(c.started.value).u64(c.term); },
             },
             command);
}

// Each command is built from braced initializers, which run in order (the wire's), straight into
// its fields: assigning each decoded string or byte string to a default-built field was a second
// pass over it, on every replica for every command.
Command read_command(FieldReader& r) {
  switch (r.tag(kCommandTagMax)) {
    case 0: return OpenSession{read_nanos(r)};
    case 1: return KeepAlive{};
    case 2: return CloseSession{};
    case 3: return Create{r.str(), r.bytes(), r.boolean(), r.boolean()};
    case 4: return Delete{r.str(), read_optional(r)};
    case 5: return Get{r.str()};
    case 6: return Set{r.str(), r.bytes(), read_optional(r)};
    case 7: return List{r.str()};
    case 8: return Acquire{r.str(), read_mode(r), r.boolean()};
    case 9: return Release{r.str()};
    case 10: return CheckSequencer{read_sequencer(r)};
    case 11: return Campaign{r.str(), r.bytes()};
    case 12: return Resign{r.str()};
    case 13: return Observe{r.str()};
    case 14: return Watch{r.u64(), r.str(), r.boolean(), r.u32(), Revision{r.u64()}};
    case 15: return Unwatch{r.u64()};
    case 16: return BeginLeadership{r.u64()};
    case 17: return ExpireSession{SessionId{r.u64()}, r.u64(), r.u64()};
    case 18: return EndLockDelay{r.str(), Revision{r.u64()}, r.u64()};
    default: return KeepAlive{};  // the reader has failed
  }
}

Bytes encode(const RequestPayload& payload) {
  Writer w;
  w.u64(payload.acked_through);
  write(w, payload.command);
  return w.take();
}

std::optional<RequestPayload> decode_request_payload(ByteView bytes) {
  return decode_whole<RequestPayload>(bytes, [](FieldReader& r) {
    return RequestPayload{r.u64(), read_command(r)};  // in order, the command built in place
  });
}

Bytes encode_command(const Command& command) {
  Writer w;
  write(w, command);
  return w.take();
}

std::optional<Command> decode_command(ByteView bytes) {
  return decode_whole<Command>(bytes, [](FieldReader& r) { return read_command(r); });
}

Bytes encode(const Result& result) {
  Writer w;
  write(w, result);
  return w.take();
}

void encode_to(Bytes& out, const Result& result) {
  Writer w(out);
  write(w, result);
}

std::optional<Result> decode_result(ByteView bytes) {
  return decode_whole<Result>(bytes, [](FieldReader& r) { return read_result(r); });
}

namespace {

void write_notification(Writer& w, const Notification& n) {
  // The target and body tag go in the body's first append.
  const std::uint64_t target = n.target.value;
  const auto tag = static_cast<std::uint8_t>(n.body.index());
  std::visit(Overloaded{
                 [&](const Completion& c) { write_result(w, c.result, target, tag, c.request); },
                 [&](const WatchFired& f) {
                   write_event(w, f.event, target, tag, f.watch_id, f.prev_revision.value);
                 },
                 [&](const SessionEnded& e) { write_event(w, e.event, target, tag); },
             },
             n.body);
}

}  // namespace

Bytes encode(const Notification& n) {
  // Room for a watch event on a path of some 40 bytes (~100 bytes) without growing the buffer.
  Writer w(128);
  write_notification(w, n);
  return w.take();
}

void encode_to(Bytes& out, const Notification& n) {
  Writer w(out);
  write_notification(w, n);
}

std::optional<Notification> decode_notification(ByteView bytes) {
  return decode_whole<Notification>(bytes, [](FieldReader& r) {
    Notification n;
    n.target = SessionId{r.u64()};
    switch (r.tag(kBodyTagMax)) {
      case 0: {
        Completion c;
        c.request = r.u64();
        c.result = read_result(r);
        n.body = std::move(c);
        break;
      }
      case 1: {
        WatchFired f;
        f.watch_id = r.u64();
        f.prev_revision = Revision{r.u64()};
        f.event = read_event(r);
        n.body = std::move(f);
        break;
      }
      default: n.body = SessionEnded{read_event(r)}; break;
    }
    return n;
  });
}

std::optional<NotificationHeader> peek_notification(ByteView bytes) {
  FieldReader r(bytes);
  NotificationHeader h;
  h.target = SessionId{r.u64()};
  h.kind = r.enumeration<NotificationKind>(kBodyTagMax);
  // Completion and WatchFired open with their request or watch id (see encode above).
  if (h.kind != NotificationKind::session_ended) h.id = r.u64();
  if (!r.ok()) return std::nullopt;
  return h;
}

Bytes encode(const Sequencer& sequencer) {
  Writer w;
  write(w, sequencer);
  return w.take();
}

std::optional<Sequencer> decode_sequencer(ByteView bytes) {
  return decode_whole<Sequencer>(bytes, [](FieldReader& r) { return read_sequencer(r); });
}

}  // namespace lockstep::service::lock
