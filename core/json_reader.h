// A strict reader for JSON input written by people: scenario files and the option blocks of
// protocol modules. Every read names the JSON pointer of the value it looks at, so a bad value
// becomes one precise line such as
//
//   /network/latency/kind: expected one of constant, uniform, lognormal, got "normal"
//
// and a field that no read asked for is an error (`finish()`), so a typo never silently turns
// into a default. The reader knows nothing about scenarios; a module parses its own block with
//
//   JsonResult<RaftOptions> parse_raft_options(const nlohmann::json& v, std::string pointer) {
//     return read_json([&] {
//       JsonReader r(v, std::move(pointer));
//       RaftOptions o;
//       o.election_timeout = r.duration("election_timeout", o.election_timeout);
//       r.finish();
//       return o;
//     });
//   }
//
// Inside a parse, a bad value throws JsonReadError; read_json() turns it into a JsonError value,
// so no exception leaves the module (STYLE.md 6). A reader refers to its JSON value and must not
// outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "core/types.h"

namespace lockstep {

// What is wrong with a JSON document, and where.
struct JsonError {
  std::string pointer;  // RFC 6901 pointer of the offending value; "" is the whole document
  std::string message;  // "expected ..., got ..."
  bool syntax = false;  // the text is not JSON: no pointer, the message says line and column

  // "/network/loss: expected a probability in 0..1, got 1.5" (the root is written "/");
  // a syntax error is "line 3, column 5: syntax error while parsing ...".
  std::string to_string() const;
  friend bool operator==(const JsonError&, const JsonError&) = default;
};

// Thrown by JsonReader while parsing; caught by read_json().
class JsonReadError : public std::exception {
 public:
  explicit JsonReadError(JsonError error);
  const JsonError& error() const { return error_; }
  const char* what() const noexcept override { return text_.c_str(); }

 private:
  JsonError error_;
  std::string text_;
};

template <typename T>
using JsonResult = std::variant<T, JsonError>;

// Runs a parse written with JsonReader and returns its value or the first error it met.
template <typename F>
auto read_json(F&& parse) -> JsonResult<std::invoke_result_t<F>> {
  try {
    return std::invoke(std::forward<F>(parse));
  } catch (const JsonReadError& e) {
    return e.error();
  }
}

// Parses JSON text, rejecting an object that names the same field twice (nlohmann keeps the
// last silently). A syntax error comes back with `syntax` set.
JsonResult<nlohmann::json> parse_json_strict(std::string_view text);

// The pointer of `key` inside the object at `parent` ("/a" + "b~c" -> "/a/b~0c").
std::string json_pointer_child(std::string_view parent, std::string_view key);
std::string json_pointer_child(std::string_view parent, std::size_t index);

// How a value is shown after "got": scalars as written (strings quoted and cut at 40 characters),
// "[]" and "{}" when empty, otherwise "an array" / "an object".
std::string describe_json(const nlohmann::json& value);

// "a, b, c": a list of allowed names for a message.
std::string join_names(std::span<const std::string_view> names);

// A JSON integer >= 0 as uint64 (parsed text stores it unsigned, built values signed).
std::optional<std::uint64_t> unsigned_value(const nlohmann::json& value);

class JsonReader {
 public:
  explicit JsonReader(const nlohmann::json& value, std::string pointer = "");

  const nlohmann::json& value() const { return *value_; }
  const std::string& pointer() const { return pointer_; }

  // --- Errors at this value -------------------------------------------------------------------
  // Throws "<pointer>: expected <expectation>, got <this value>".
  [[noreturn]] void fail_expected(std::string_view expectation) const;
  // Throws "<pointer>: <message>" for messages that do not fit the expected/got pattern.
  [[noreturn]] void fail(std::string message) const;

  // --- This value as a typed value ------------------------------------------------------------
  // T is bool, std::string, std::int64_t, std::uint64_t or double (each over its whole range).
  template <typename T>
  T as() const;
  std::int64_t as_integer(std::int64_t min, std::int64_t max) const;
  std::uint64_t as_unsigned(std::uint64_t min, std::uint64_t max) const;
  double as_number(double min, double max) const;
  double as_probability() const;  // in [0, 1]
  // A string "<number><unit>" (see core/duration.h) within [min, max]. A leading '-' is read only
  // when min is negative (clock jumps, offsets); a bare number is always rejected.
  Nanos as_duration(Nanos min = Nanos::zero(), Nanos max = Nanos::max()) const;
  // The index in `allowed` of this string.
  std::size_t as_enum(std::span<const std::string_view> allowed) const;
  std::size_t as_enum(std::initializer_list<std::string_view> allowed) const;
  // The elements of this array, each with its pointer ("/faults/3").
  std::vector<JsonReader> as_array(
      std::size_t size_min = 0,
      std::size_t size_max = std::numeric_limits<std::size_t>::max()) const;
  // Checks that this value is an object; the field reads below check it too.
  void expect_object() const;

  // --- Fields of this object ------------------------------------------------------------------
  // Each field read marks `key` as known to finish(), whether or not it is present.
  std::optional<JsonReader> find(std::string_view key);
  // The field, or "<pointer>/<key>: expected <expectation>, got nothing: the field is required".
  JsonReader require(std::string_view key, std::string_view expectation);

  template <typename T>
  T required(std::string_view key) {
    return require(key, type_expectation<T>()).template as<T>();
  }
  template <typename T>
  T optional(std::string_view key, T default_value) {
    auto field = find(key);
    return field ? field->template as<T>() : std::move(default_value);
  }

  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max,
                       std::int64_t default_value);
  std::int64_t required_integer(std::string_view key, std::int64_t min, std::int64_t max);
  std::uint64_t unsigned_integer(std::string_view key, std::uint64_t min, std::uint64_t max,
                                 std::uint64_t default_value);
  double number(std::string_view key, double min, double max, double default_value);
  double probability(std::string_view key, double default_value);
  Nanos duration(std::string_view key, Nanos default_value, Nanos min = Nanos::zero(),
                 Nanos max = Nanos::max());
  Nanos required_duration(std::string_view key, Nanos min = Nanos::zero(),
                          Nanos max = Nanos::max());
  std::size_t enum_of(std::string_view key, std::span<const std::string_view> allowed,
                      std::size_t default_index);
  std::size_t required_enum(std::string_view key, std::span<const std::string_view> allowed);

  // A required field that must be an object.
  JsonReader object(std::string_view key);
  std::optional<JsonReader> optional_object(std::string_view key);
  // An optional array field; absent reads as empty.
  std::vector<JsonReader> array(std::string_view key, std::size_t size_min = 0,
                                std::size_t size_max = std::numeric_limits<std::size_t>::max());
  // Every field of an object whose keys are data (a map), in key order; all count as known.
  std::vector<std::pair<std::string, JsonReader>> members();

  // Fails on the first field of this object that no read asked for, listing those that were:
  // "/network/los: expected one of the fields latency, loss, ..., got unknown field "los"
  // (did you mean "loss"?)".
  void finish() const;

  // The expectation text of as<T>(), for messages about fields of that type.
  template <typename T>
  static std::string_view type_expectation() {
    if constexpr (std::is_same_v<T, bool>) {
      return "true or false";
    } else if constexpr (std::is_same_v<T, std::string>) {
      return "a string";
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      return "an integer";
    } else if constexpr (std::is_same_v<T, std::uint64_t>) {
      return "a non-negative integer";
    } else {
      static_assert(std::is_same_v<T, double>, "as<T>() reads bool, string, int64, uint64, double");
      return "a number";
    }
  }

  // The expectation texts of the reads above, for callers that check more than the reader does.
  static std::string integer_expectation(std::int64_t min, std::int64_t max);
  static std::string duration_expectation(Nanos min, Nanos max);
  static std::string enum_expectation(std::span<const std::string_view> allowed);

 private:
  const nlohmann::json* value_;
  std::string pointer_;
  std::vector<std::string> known_;  // fields asked for, in the order they were asked
};

template <>
bool JsonReader::as<bool>() const;
template <>
std::string JsonReader::as<std::string>() const;
template <>
std::int64_t JsonReader::as<std::int64_t>() const;
template <>
std::uint64_t JsonReader::as<std::uint64_t>() const;
template <>
double JsonReader::as<double>() const;

// A duration as a scenario file writes it: "1.5s", "-2s", "1h" (whole minutes and hours are
// written as such, which format_duration does not do).
std::string duration_text(Nanos d);

}  // namespace lockstep
