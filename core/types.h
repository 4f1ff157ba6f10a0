// Strong types shared by every layer: time in nanoseconds and node identities.
// They exist so that a duration cannot be passed where a node id is expected, and so that every
// time value carries its unit in its type (STYLE.md 3).
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <limits>
#include <ostream>

namespace lockstep {

// A duration or a point in time, in nanoseconds. Points in time are measured from the start of
// a run (simulated) or from an arbitrary epoch (real runtime); the type does not distinguish the
// two, the names of variables do (`deadline`, `timeout`).
struct Nanos {
  std::int64_t count = 0;

  constexpr Nanos() = default;
  constexpr explicit Nanos(std::int64_t ns) : count(ns) {}

  static constexpr Nanos zero() { return Nanos{0}; }
  static constexpr Nanos max() { return Nanos{std::numeric_limits<std::int64_t>::max()}; }

  constexpr auto operator<=>(const Nanos&) const = default;

  constexpr Nanos operator+(Nanos o) const { return Nanos{count + o.count}; }
  constexpr Nanos operator-(Nanos o) const { return Nanos{count - o.count}; }
  constexpr Nanos operator-() const { return Nanos{-count}; }
  constexpr Nanos operator*(std::int64_t k) const { return Nanos{count * k}; }
  constexpr Nanos operator/(std::int64_t k) const { return Nanos{count / k}; }
  constexpr Nanos& operator+=(Nanos o) { count += o.count; return *this; }
  constexpr Nanos& operator-=(Nanos o) { count -= o.count; return *this; }

  constexpr double seconds() const { return static_cast<double>(count) / 1e9; }
  constexpr double millis() const { return static_cast<double>(count) / 1e6; }
};

constexpr Nanos nanoseconds(std::int64_t n) { return Nanos{n}; }
constexpr Nanos microseconds(std::int64_t n) { return Nanos{n * 1'000}; }
constexpr Nanos milliseconds(std::int64_t n) { return Nanos{n * 1'000'000}; }
constexpr Nanos seconds(std::int64_t n) { return Nanos{n * 1'000'000'000}; }

std::ostream& operator<<(std::ostream& os, Nanos n);  // "150ms", "1.5s", "0ns"

// Identity of a simulated or real process (a server replica or a client host), 0-based.
struct NodeId {
  std::uint32_t value = 0;

  constexpr NodeId() = default;
  constexpr explicit NodeId(std::uint32_t v) : value(v) {}
  constexpr auto operator<=>(const NodeId&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, NodeId n) { return os << "n" << n.value; }

// Handle for a timer set through an Env; unique per Env for the life of a run.
struct TimerId {
  std::uint64_t value = 0;
  constexpr auto operator<=>(const TimerId&) const = default;
};

}  // namespace lockstep

template <>
struct std::hash<lockstep::NodeId> {
  std::size_t operator()(lockstep::NodeId n) const noexcept { return n.value; }
};
