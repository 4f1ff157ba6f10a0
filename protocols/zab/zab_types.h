// Vocabulary of the Zab module: epochs, zxids, history positions, transactions, the server states
// of Fast Leader Election and the phases of Zab, and the digest that chains a history together.
//
// A zxid is (epoch, counter): the leader of epoch e numbers its proposals (e, 1), (e, 2), ...
// (Junqueira, Reed, Serafini, DSN 2011, §III). Zxids order transactions, and a history is strictly
// increasing in zxid. A Position is a transaction's place in the history (1-based; 0 is the empty
// prefix): it is what the consensus interface calls an index, and what CommittedCommand carries.
//
// Epoch, Position and Zxid are distinct types so that `position = epoch` does not compile
// (STYLE.md 3). Values from the network are bounded by the codec (kMaxWireValue) so that
// `position + count` can never overflow.
#pragma once

#include <compare>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string_view>

#include "core/bytes.h"
#include "core/types.h"

namespace lockstep::zab {

struct Epoch {
  std::uint64_t value = 0;

  constexpr Epoch() = default;
  constexpr explicit Epoch(std::uint64_t v) : value(v) {}
  constexpr auto operator<=>(const Epoch&) const = default;
  constexpr Epoch next() const { return Epoch{value + 1}; }
};

struct Position {
  std::uint64_t value = 0;

  constexpr Position() = default;
  constexpr explicit Position(std::uint64_t v) : value(v) {}
  constexpr auto operator<=>(const Position&) const = default;
  constexpr Position next() const { return Position{value + 1}; }
  constexpr Position prev() const { return Position{value - 1}; }
  constexpr Position operator+(std::uint64_t n) const { return Position{value + n}; }
};

// (epoch, counter), ordered lexicographically. (0, 0) precedes every transaction.
struct Zxid {
  Epoch epoch;
  std::uint64_t counter = 0;

  constexpr auto operator<=>(const Zxid&) const = default;
  constexpr bool zero() const { return epoch.value == 0 && counter == 0; }
};

inline std::ostream& operator<<(std::ostream& os, Epoch e) { return os << "e" << e.value; }
inline std::ostream& operator<<(std::ostream& os, Position p) { return os << "p" << p.value; }
inline std::ostream& operator<<(std::ostream& os, Zxid z) {
  return os << "(" << z.epoch.value << "," << z.counter << ")";
}

// A transaction of the history: opaque bytes from propose(), under its zxid.
struct Txn {
  Zxid zxid;
  Bytes data;
  // Chained digest of the history prefix ending here (chain_digest). Not on the wire and not
  // persisted: every replica recomputes it, which lets the checker compare histories by one number.
  std::uint64_t digest = 0;
};

// Fast Leader Election's server states (ZooKeeper's QuorumPeer.ServerState, without observers).
enum class ServerState : std::uint8_t { looking = 0, following = 1, leading = 2 };

// The phases of Zab (§III-B): election (FLE, Phase 0), discovery (Phase 1), synchronization
// (Phase 2), broadcast (Phase 3).
enum class Phase : std::uint8_t { election, discovery, synchronization, broadcast };

std::string_view to_string(ServerState state);
std::string_view to_string(Phase phase);
inline std::ostream& operator<<(std::ostream& os, ServerState s) { return os << to_string(s); }
inline std::ostream& operator<<(std::ostream& os, Phase p) { return os << to_string(p); }

// 64-bit hash of a byte string (a multiply-rotate mix over 8-byte words; stable across platforms
// and library versions, unlike std::hash).
constexpr std::uint64_t kDigestSeed = 0x7a61622d68697374ULL;  // "zab-hist"

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

// digest(p) = H(digest(p-1), zxid(p), data(p)); digest(0) = kDigestSeed. Equal digests at a
// position mean equal history prefixes through it (up to hash collisions).
inline std::uint64_t chain_digest(std::uint64_t prev, Zxid zxid, ByteView data) {
  const std::uint64_t h = hash_bytes(data, prev ^ mix64(zxid.counter + 0x2545f4914f6cdd1dULL));
  return mix64(h ^ mix64(zxid.epoch.value + 0x51ed270b27d3a5f1ULL) ^ (prev << 1));
}

}  // namespace lockstep::zab
