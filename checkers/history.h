// An operation history: what clients called, what they got back, and when — the input of the
// linearizability checker (linearizability.h), independent of any data model.
//
// Each operation is one call by one process on one object (its `key`), with its arguments, its
// result and an outcome:
//   ok       the call returned `result`; it took effect exactly once between call and return;
//   failed   the call definitely did not take effect. It may still be an observation: a failed
//            compare-and-set saw a value other than the one it expected at some point between
//            its call and its return. The model says what a failure observed (models.h);
//   unknown  the client stopped waiting (timeout, crash): the call may have taken effect at any
//            point after it was made, or never. It stays open to the end of the history, and its
//            result, if any, is ignored.
//
// Times are true times (simulated time in a run; the line number for the public Jepsen logs).
// One call precedes another only when it returned strictly before the other was called;
// intervals that touch are concurrent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/types.h"

namespace lockstep::checkers {

// An argument or a result: nil, an integer or a string. Ordered (nil < integers < strings), so
// values can be interned in a map.
using Value = std::variant<std::monostate, std::int64_t, std::string>;

// "nil", "42", "\"x 0 1 y\"" (strings quoted, as the EDN and JSON formats write them).
std::string describe_value(const Value& value);

enum class Outcome : std::uint8_t { ok, failed, unknown };
std::string_view outcome_name(Outcome outcome);  // "ok", "failed", "unknown"

// How times are shown in messages: a simulated run records nanoseconds; the public logs have
// only an order, so their parsers use the line number as the time.
enum class TimeAxis : std::uint8_t { nanos, line };

struct Operation {
  std::uint32_t process = 0;
  std::string key;          // the object called; different keys are independent objects
  std::string f;            // the function: "read", "write", "cas", "get", "put", "append", ...
  std::vector<Value> args;  // its arguments
  Value result;             // what an ok call returned (nil for calls that return nothing)
  Outcome outcome = Outcome::ok;
  Nanos call{};             // when the call was made
  Nanos ret{};              // when it returned; for an unknown outcome, when the client gave up
  std::string origin;       // where it was read from, for messages: "lines 3-7", "/operations/2"
};

struct History {
  std::vector<Operation> operations;  // in order of call time
  TimeAxis time_axis = TimeAxis::nanos;
};

// "read -> 3", "write 3", "cas [1 2]", "get key=\"x\" -> \"ab\"", with the outcome when it is not
// ok ("cas [1 2] (failed)", "write 3 (unknown)"); the key only when asked and not "".
std::string describe_operation(const Operation& op, bool with_key = true);

// A time for messages: "12.5ms" on the nanosecond axis, "line 12" on the line axis.
std::string describe_time(Nanos t, TimeAxis axis);

}  // namespace lockstep::checkers
