// Rapidcheck generators for the lock service's values: any command, result, event and
// notification the codec must carry (fields anywhere in their range, strings of any bytes).
#pragma once

#include <rapidcheck.h>

#include <optional>
#include <string>
#include <vector>

#include "service/lock/lock_commands.h"

namespace lockstep::service::lock::testing {

inline rc::Gen<Bytes> gen_bytes() {
  return rc::gen::map(rc::gen::arbitrary<std::vector<std::uint8_t>>(),
                      [](const std::vector<std::uint8_t>& v) {
                        Bytes out;
                        for (auto x : v) out.push_back(static_cast<std::byte>(x));
                        return out;
                      });
}
inline rc::Gen<std::string> gen_string() { return rc::gen::arbitrary<std::string>(); }
inline rc::Gen<std::uint64_t> gen_u64() { return rc::gen::arbitrary<std::uint64_t>(); }
inline rc::Gen<Revision> gen_revision() {
  return rc::gen::map(gen_u64(), [](std::uint64_t v) { return Revision{v}; });
}
inline rc::Gen<SessionId> gen_session() {
  return rc::gen::map(gen_u64(), [](std::uint64_t v) { return SessionId{v}; });
}
inline rc::Gen<Nanos> gen_nanos() {
  return rc::gen::map(rc::gen::arbitrary<std::int64_t>(), [](std::int64_t v) { return Nanos{v}; });
}
inline rc::Gen<LockMode> gen_mode() {
  return rc::gen::element(LockMode::exclusive, LockMode::shared);
}
inline rc::Gen<std::optional<std::uint64_t>> gen_version() {
  return rc::gen::map(rc::gen::maybe(gen_u64()), [](const rc::Maybe<std::uint64_t>& m) {
    return m ? std::optional<std::uint64_t>(*m) : std::nullopt;
  });
}
inline rc::Gen<Sequencer> gen_sequencer() {
  return rc::gen::apply(
      [](std::string p, LockMode m, std::uint64_t g) {
        return Sequencer{p, m, g};
      },
      gen_string(), gen_mode(), gen_u64());
}
inline rc::Gen<Stat> gen_stat() {
  return rc::gen::apply([](std::uint64_t v, std::uint64_t cv, Revision c, Revision m, SessionId o,
                           std::uint64_t n, std::uint64_t k) { return Stat{v, cv, c, m, o, n, k}; },
                        gen_u64(), gen_u64(), gen_revision(), gen_revision(), gen_session(),
                        gen_u64(), gen_u64());
}
inline rc::Gen<Event> gen_event() {
  return rc::gen::apply(
      [](Revision r, std::uint8_t kind, std::string path, SessionId s, LockMode m, std::uint64_t g,
         std::uint64_t v, std::uint8_t cause) {
        return Event{r, static_cast<EventKind>(kind), path, s, m, g, v, static_cast<Cause>(cause)};
      },
      gen_revision(), rc::gen::inRange<std::uint8_t>(0, kEventKindMax + 1), gen_string(),
      gen_session(), gen_mode(), gen_u64(), gen_u64(),
      rc::gen::inRange<std::uint8_t>(0, kCauseMax + 1));
}

template <typename T, typename G>
rc::Gen<Command> as_command(G gen) {
  return rc::gen::map(gen, [](T v) { return Command{std::move(v)}; });
}

inline rc::Gen<Command> gen_command() {
  using rc::gen::apply;
  using rc::gen::arbitrary;
  return rc::gen::oneOf(
      as_command<OpenSession>(rc::gen::map(gen_nanos(), [](Nanos n) { return OpenSession{n}; })),
      rc::gen::just(Command{KeepAlive{}}), rc::gen::just(Command{CloseSession{}}),
      as_command<Create>(apply(
          [](std::string p, Bytes c, bool e, bool s) {
            return Create{p, c, e, s};
          },
          gen_string(), gen_bytes(), arbitrary<bool>(), arbitrary<bool>())),
      as_command<Delete>(apply(
          [](std::string p, std::optional<std::uint64_t> v) {
            return Delete{p, v};
          },
          gen_string(), gen_version())),
      as_command<Get>(rc::gen::map(gen_string(), [](std::string p) { return Get{p}; })),
      as_command<Set>(apply(
          [](std::string p, Bytes c, std::optional<std::uint64_t> v) {
            return Set{p, c, v};
          },
          gen_string(), gen_bytes(), gen_version())),
      as_command<List>(rc::gen::map(gen_string(), [](std::string p) { return List{p}; })),
      as_command<Acquire>(apply(
          [](std::string p, LockMode m, bool w) {
            return Acquire{p, m, w};
          },
          gen_string(), gen_mode(), arbitrary<bool>())),
      as_command<Release>(rc::gen::map(gen_string(), [](std::string p) { return Release{p}; })),
      as_command<CheckSequencer>(
          rc::gen::map(gen_sequencer(), [](Sequencer s) { return CheckSequencer{s}; })),
      as_command<Campaign>(apply(
          [](std::string p, Bytes v) {
            return Campaign{p, v};
          },
          gen_string(), gen_bytes())),
      as_command<Resign>(rc::gen::map(gen_string(), [](std::string p) { return Resign{p}; })),
      as_command<Observe>(rc::gen::map(gen_string(), [](std::string p) { return Observe{p}; })),
      as_command<Watch>(
          apply(
              [](std::uint64_t id, std::string p, bool r, std::uint32_t k, Revision from) {
                return Watch{id, p, r, k, from};
              },
              gen_u64(), gen_string(), arbitrary<bool>(), arbitrary<std::uint32_t>(),
              gen_revision())),
      as_command<Unwatch>(rc::gen::map(gen_u64(), [](std::uint64_t id) { return Unwatch{id}; })),
      as_command<BeginLeadership>(
          rc::gen::map(gen_u64(), [](std::uint64_t t) { return BeginLeadership{t}; })),
      as_command<ExpireSession>(
          apply(
              [](SessionId s, std::uint64_t k, std::uint64_t t) {
                return ExpireSession{s, k, t};
              },
              gen_session(), gen_u64(), gen_u64())),
      as_command<EndLockDelay>(
          apply(
              [](std::string p, Revision r, std::uint64_t t) {
                return EndLockDelay{p, r, t};
              },
              gen_string(), gen_revision(), gen_u64())));
}

template <typename T, typename G>
rc::Gen<ResultValue> as_value(G gen) {
  return rc::gen::map(gen, [](T v) { return ResultValue{std::move(v)}; });
}

inline rc::Gen<ResultValue> gen_value() {
  using rc::gen::apply;
  return rc::gen::oneOf(
      rc::gen::just(ResultValue{}),
      as_value<SessionInfo>(apply(
          [](SessionId s, Nanos t) {
            return SessionInfo{s, t};
          },
          gen_session(), gen_nanos())),
      as_value<NodeData>(apply(
          [](Stat s, Bytes c) {
            return NodeData{s, c};
          },
          gen_stat(), gen_bytes())),
      as_value<NodeCreated>(apply(
          [](std::string p, Stat s) {
            return NodeCreated{p, s};
          },
          gen_string(), gen_stat())),
      as_value<NodeStat>(rc::gen::map(gen_stat(), [](Stat s) { return NodeStat{s}; })),
      as_value<Children>(rc::gen::map(rc::gen::arbitrary<std::vector<std::string>>(),
                                      [](std::vector<std::string> n) { return Children{n}; })),
      as_value<Granted>(rc::gen::map(gen_sequencer(), [](Sequencer s) { return Granted{s}; })),
      as_value<Leader>(apply(
          [](SessionId s, Sequencer q, Bytes v) {
            return Leader{s, q, v};
          },
          gen_session(), gen_sequencer(), gen_bytes())),
      as_value<WatchStarted>(rc::gen::map(rc::gen::container<std::vector<Event>>(gen_event()),
                                          [](std::vector<Event> e) { return WatchStarted{e}; })));
}

inline rc::Gen<Result> gen_result() {
  return rc::gen::apply(
      [](std::uint8_t code, Revision r, ResultValue v) {
        return Result{static_cast<Code>(code), r, std::move(v)};
      },
      rc::gen::inRange<std::uint8_t>(0, kCodeMax + 1), gen_revision(), gen_value());
}

inline rc::Gen<Notification> gen_notification() {
  using Body = std::variant<Completion, WatchFired, SessionEnded>;
  auto body = rc::gen::oneOf(
      rc::gen::map(rc::gen::apply(
                       [](std::uint64_t r, Result res) {
                         return Completion{r, res};
                       },
                       gen_u64(), gen_result()),
                   [](Completion c) { return Body{std::move(c)}; }),
      rc::gen::map(rc::gen::apply(
                       [](std::uint64_t id, Revision prev, Event e) {
                         return WatchFired{id, prev, e};
                       },
                       gen_u64(), gen_revision(), gen_event()),
                   [](WatchFired f) { return Body{std::move(f)}; }),
      rc::gen::map(gen_event(), [](Event e) { return Body{SessionEnded{std::move(e)}}; }));
  return rc::gen::apply(
      [](SessionId t, Body b) {
        return Notification{t, std::move(b)};
      },
      gen_session(), body);
}

}  // namespace lockstep::service::lock::testing
