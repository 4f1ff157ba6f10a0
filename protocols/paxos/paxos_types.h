// Vocabulary of the Multi-Paxos module: ballots, slots, the values a slot can hold, the replica's
// role, and the digest that lets the checker compare values cheaply.
//
// A Ballot is (round, node): the proposal number of "Paxos Made Simple" (PMS) §2.2, owned by the
// proposer that issues it. Rounds are drawn from disjoint sets (PMS §2.5: "different proposers
// choose their numbers from disjoint sets of numbers"): member k of a cluster of n uses only
// rounds r with r mod n == k, so a round alone names its proposer, and the round, reported as the
// consensus "term", strictly increases from one leadership to the next. Round 0 is no ballot.
//
// Slot and Ballot are distinct types so that `match = ballot` does not compile (STYLE.md 3).
// Values that arrive from the network are bounded by the codec (kMaxWireValue) so that
// `slot + count` can never overflow.
#pragma once

#include <compare>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string_view>

#include "core/bytes.h"
#include "core/types.h"

namespace lockstep::paxos {

struct Ballot {
  std::uint64_t round = 0;
  NodeId node;

  constexpr Ballot() = default;
  constexpr Ballot(std::uint64_t r, NodeId n) : round(r), node(n) {}
  // Lexicographic: the round first. With disjoint round sets the node never decides, but it keeps
  // the order total for values built by hand (tests, malformed input).
  constexpr auto operator<=>(const Ballot&) const = default;
  constexpr bool is_zero() const { return round == 0; }
};

struct Slot {
  std::uint64_t value = 0;

  constexpr Slot() = default;
  constexpr explicit Slot(std::uint64_t v) : value(v) {}
  constexpr auto operator<=>(const Slot&) const = default;
  constexpr Slot next() const { return Slot{value + 1}; }
  constexpr Slot prev() const { return Slot{value - 1}; }
  constexpr Slot operator+(std::uint64_t n) const { return Slot{value + n}; }
};

inline std::ostream& operator<<(std::ostream& os, Ballot b) {
  return os << "b" << b.round << "." << b.node.value;
}
inline std::ostream& operator<<(std::ostream& os, Slot s) { return os << "s" << s.value; }

// What a slot holds. Only commands reach the state machine; a no-op fills a slot that a new
// leader found empty below the highest slot any acceptor reported (PMS §3).
enum class ValueKind : std::uint8_t {
  none = 0,  // an empty slot in an acceptor's log (never on the wire)
  command = 1,
  noop = 2,
};

// One slot of an acceptor's log: the value it accepted and the ballot it accepted it in (PMS §2.2:
// an acceptor remembers "the highest-numbered proposal it has ever accepted"). An empty slot has
// kind none and ballot zero.
struct Entry {
  Ballot ballot;
  ValueKind kind = ValueKind::none;
  Bytes data;
  std::uint64_t digest = 0;  // value_digest(kind, data); recomputed, never on the wire or disk
};

// The replica's role. A candidate is running phase 1 for its own ballot; a leader has finished it
// and runs phase 2 (PMS §3, the "distinguished proposer").
enum class PaxosRole : std::uint8_t { follower, candidate, leader };

std::string_view to_string(PaxosRole role);
inline std::ostream& operator<<(std::ostream& os, PaxosRole r) { return os << to_string(r); }

// 64-bit hash of a byte string (a multiply-rotate mix over 8-byte words; stable across platforms
// and library versions, unlike std::hash).
inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  return x;
}

inline std::uint64_t hash_bytes(ByteView data, std::uint64_t seed) {
  std::uint64_t h = seed ^ (data.size() * 0x9e3779b97f4a7c15ULL);
  std::size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, data.data() + i, 8);
    h = mix64(h ^ word) + 0x9e3779b97f4a7c15ULL;
  }
  std::uint64_t tail = 0;
  for (std::size_t k = 0; i < data.size(); ++i, ++k) {
    tail |= static_cast<std::uint64_t>(std::to_integer<std::uint8_t>(data[i])) << (8 * k);
  }
  return mix64(h ^ tail);
}

// Equal digests mean equal values (up to hash collisions). Never 0, so 0 can mean "none".
inline std::uint64_t value_digest(ValueKind kind, ByteView data) {
  const std::uint64_t h = hash_bytes(data, 0x7061786f73ULL ^ static_cast<std::uint64_t>(kind));
  return h == 0 ? 1 : h;
}

}  // namespace lockstep::paxos
