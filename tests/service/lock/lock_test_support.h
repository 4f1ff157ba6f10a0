// A LockStateMachine with the bookkeeping a test would otherwise repeat: log indexes, request
// numbers per session, open tokens, the lease index of each session (from its LeaseTimers), and
// an invariant check after every command.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "service/lock/lock_state_machine.h"

namespace lockstep::service::lock::testing {

inline LockConfig test_config() {
  LockConfig c;
  c.cell = "local";
  c.content_bytes_max = 16;
  c.session_ttl_min = milliseconds(100);
  c.session_ttl_max = seconds(60);
  c.session_grace = seconds(45);
  c.lock_delay = seconds(10);
  return c;
}

inline Bytes b(std::string_view s) { return to_bytes(s); }
inline std::string p(std::string_view rest) { return "/ls/local" + std::string(rest); }

struct CompletionSeen {
  SessionId target;
  std::uint64_t request = 0;
  Code code = Code::ok;
  friend bool operator==(const CompletionSeen&, const CompletionSeen&) = default;
};

class Harness {
 public:
  explicit Harness(LockConfig config = test_config()) : sm(std::move(config)) {}

  // Applies `command` as `session`'s next request (or as the given request number).
  const ApplyOutcome& run(SessionId session, Command command) {
    return apply(session, ++next_request[session], std::move(command));
  }
  const ApplyOutcome& apply(SessionId session, std::uint64_t request, Command command,
                            std::uint64_t acked_through = 0) {
    last = sm.apply(++index, Caller{session, request, acked_through}, command);
    note_timers(last);
    const auto violations = sm.invariant_violations();
    EXPECT_TRUE(violations.empty()) << violations.front() << " after " << command_name(command);
    return last;
  }
  Code code(SessionId session, Command command) {
    return run(session, std::move(command)).result.code;
  }

  SessionId open(Nanos ttl = seconds(10)) {
    const Result r = apply(SessionId{next_token++}, 1, OpenSession{ttl}).result;
    EXPECT_EQ(r.code, Code::ok);
    return std::get<SessionInfo>(r.value).session;
  }
  const ApplyOutcome& leader(Command command) { return apply(SessionId{0}, 0, std::move(command)); }
  void begin_leadership(std::uint64_t new_term) {
    term = new_term;
    EXPECT_EQ(leader(BeginLeadership{term}).result.code, Code::ok);
  }
  // The leader's lease timer for `session` fires.
  const ApplyOutcome& expire(SessionId session) {
    return leader(ExpireSession{session, lease_index[session], term});
  }
  // The leader's lock-delay timer for `path` fires.
  const ApplyOutcome& end_delay(const std::string& path) {
    return leader(EndLockDelay{path, delay_started[path], term});
  }

  Sequencer acquire_ok(SessionId s, const std::string& path, LockMode mode = LockMode::exclusive) {
    const Result r = run(s, Acquire{path, mode, true}).result;
    EXPECT_EQ(r.code, Code::ok) << to_string(r.code);
    return r.code == Code::ok ? std::get<Granted>(r.value).sequencer : Sequencer{};
  }
  void create_ok(SessionId s, const std::string& path, std::string_view content = "") {
    EXPECT_EQ(code(s, Create{path, b(content)}), Code::ok) << path;
  }

  std::vector<CompletionSeen> completions() const {
    std::vector<CompletionSeen> out;
    for (const Notification& n : last.notifications) {
      if (const auto* c = std::get_if<Completion>(&n.body)) {
        out.push_back({n.target, c->request, c->result.code});
      }
    }
    return out;
  }
  // The events `target`'s watch `watch_id` received in the last apply.
  std::vector<WatchFired> fired(SessionId target) const {
    std::vector<WatchFired> out;
    for (const Notification& n : last.notifications) {
      if (const auto* f = std::get_if<WatchFired>(&n.body); f && n.target == target) {
        out.push_back(*f);
      }
    }
    return out;
  }
  std::vector<LockDelayTimer> delay_timers() const {
    std::vector<LockDelayTimer> out;
    for (const LeaderTimer& t : last.timers) {
      if (const auto* d = std::get_if<LockDelayTimer>(&t)) out.push_back(*d);
    }
    return out;
  }

  LockStateMachine sm;
  ApplyOutcome last;
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::uint64_t next_token = kOpenTokenBit | 1;
  std::map<SessionId, std::uint64_t> next_request;
  std::map<SessionId, std::uint64_t> lease_index;
  std::map<std::string, Revision> delay_started;

 private:
  void note_timers(const ApplyOutcome& outcome) {
    for (const LeaderTimer& t : outcome.timers) {
      if (const auto* l = std::get_if<LeaseTimer>(&t)) lease_index[l->session] = l->keepalive_index;
      if (const auto* d = std::get_if<LockDelayTimer>(&t)) delay_started[d->path] = d->started;
    }
  }
};

inline Sequencer sequencer_of(const Result& r) { return std::get<Granted>(r.value).sequencer; }

}  // namespace lockstep::service::lock::testing
