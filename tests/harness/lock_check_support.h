// Builders for hand-made LockHistory values and matchers for check verdicts, shared by the
// lock-check tests (lock_checks_test.cc, lock_checks_delivery_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "harness/lock_checks.h"

namespace lockstep::harness::lock_check_support {

namespace lk = service::lock;
using lk::Cause;
using lk::Code;
using lk::EventKind;

constexpr const char* kLock = "/ls/local/locks/a";
constexpr const char* kOther = "/ls/local/locks/b";
constexpr const char* kNode = "/ls/local/n";

// Sessions 11, 12, 13, 14 belong to clients 0, 1, 2, 3.
constexpr SessionId kS0{11};
constexpr SessionId kS1{12};
constexpr SessionId kS2{13};
constexpr SessionId kS3{14};

inline LockHistory with_clients() {
  LockHistory h;
  h.client_of = {{kS0, 0}, {kS1, 1}, {kS2, 2}, {kS3, 3}};
  return h;
}

// The check's verdict is fail and its detail contains every one of `names`.
inline ::testing::AssertionResult fails_naming(const LockCheck& check,
                                               std::initializer_list<std::string_view> names) {
  if (check.verdict != Verdict::fail) {
    return ::testing::AssertionFailure() << "verdict " << to_string(check.verdict) << ": "
                                         << check.detail;
  }
  for (std::string_view n : names) {
    if (check.detail.find(n) == std::string::npos) {
      return ::testing::AssertionFailure() << "no \"" << n << "\" in: " << check.detail;
    }
  }
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult passes(const LockCheck& check) {
  if (check.verdict == Verdict::pass) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "verdict " << to_string(check.verdict) << ": "
                                       << check.detail;
}

inline AppliedRecord applied(std::uint64_t index, Nanos at, SessionId session, std::uint64_t request,
                      lk::Command command, Code code = Code::ok,
                      std::vector<lk::Event> events = {}) {
  AppliedRecord a;
  a.index = index;
  a.at = at;
  a.session = session;
  a.request = request;
  a.command = std::move(command);
  a.code = code;
  a.events = std::move(events);
  return a;
}

inline AppliedRecord from_record(AppliedRecord a) {
  a.from_record = true;
  return a;
}

inline AppliedRecord opening(std::uint64_t index, Nanos at, SessionId opened) {
  AppliedRecord a = applied(index, at, SessionId{lk::kOpenTokenBit | opened.value}, 1,
                            lk::OpenSession{seconds(2)});
  a.opened = opened;
  return a;
}

inline AppliedRecord expiry(std::uint64_t index, Nanos at, SessionId session,
                     std::vector<lk::Event> events = {}) {
  return applied(index, at, SessionId{0}, 0, lk::ExpireSession{session, 0, 1}, Code::ok,
                 std::move(events));
}

inline lk::Event event(std::uint64_t revision, EventKind kind, std::string path,
                SessionId session = SessionId{}, Cause cause = Cause::none) {
  lk::Event e;
  e.revision = lk::Revision{revision};
  e.kind = kind;
  e.path = std::move(path);
  e.session = session;
  e.cause = cause;
  if (kind == EventKind::lock_acquired || kind == EventKind::lock_released) {
    e.generation = revision;
  }
  return e;
}

inline lk::Event granted(std::uint64_t generation, std::string path, SessionId session) {
  return event(generation, EventKind::lock_acquired, std::move(path), session);
}

inline ResourceRecord access(Nanos at, std::uint32_t client, SessionId session, service::ResourceOp op,
                      std::string path, std::uint64_t generation, bool accepted) {
  ResourceRecord r;
  r.at = at;
  r.client = client;
  r.access.client = NodeId{100 + client};
  r.access.request.op = op;
  r.access.request.session = session.value;
  r.access.request.key = "k";
  r.access.request.sequencer = lk::Sequencer{std::move(path), lk::LockMode::exclusive, generation};
  r.access.accepted = accepted;
  return r;
}

inline ResourceRecord write(Nanos at, std::uint32_t client, SessionId session, std::string path,
                     std::uint64_t generation, bool accepted = true) {
  return access(at, client, session, service::ResourceOp::write, std::move(path), generation,
                accepted);
}

inline ResourceRecord read(Nanos at, std::uint32_t client, SessionId session, std::string path,
                    std::uint64_t generation) {
  return access(at, client, session, service::ResourceOp::read, std::move(path), generation,
                true);
}

// TTL 2 s, grace 5 s, lock-delay 1 s, perfect clocks.
inline LockCheckContext context() {
  LockCheckContext c;
  c.service.session_ttl = seconds(2);
  c.service.session_grace = seconds(5);
  c.service.lock_delay = seconds(1);
  return c;
}

}  // namespace lockstep::harness::lock_check_support
