// Vocabulary of the Raft module: strong types for terms and log indexes, log entries, the
// replica's internal role, and the digest that chains log entries together.
//
// Term and LogIndex are distinct types so that `match_index = term` does not compile (STYLE.md 3).
// Both are plain 64-bit counters; values that arrive from the network are bounded by the codec
// (kMaxWireValue) so that `index + count` can never overflow.
#pragma once

#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/types.h"

namespace lockstep::raft {

struct Term {
  std::uint64_t value = 0;

  constexpr Term() = default;
  constexpr explicit Term(std::uint64_t v) : value(v) {}
  constexpr auto operator<=>(const Term&) const = default;
  constexpr Term next() const { return Term{value + 1}; }
};

struct LogIndex {
  std::uint64_t value = 0;

  constexpr LogIndex() = default;
  constexpr explicit LogIndex(std::uint64_t v) : value(v) {}
  constexpr auto operator<=>(const LogIndex&) const = default;
  constexpr LogIndex next() const { return LogIndex{value + 1}; }
  constexpr LogIndex prev() const { return LogIndex{value - 1}; }
  constexpr LogIndex operator+(std::uint64_t n) const { return LogIndex{value + n}; }
};

inline std::ostream& operator<<(std::ostream& os, Term t) { return os << "t" << t.value; }
inline std::ostream& operator<<(std::ostream& os, LogIndex i) { return os << "i" << i.value; }

// What a log entry carries. Only `command` entries are handed up to the state machine; the index
// of the others still advances (consensus::CommittedCommand allows gaps).
enum class EntryKind : std::uint8_t {
  command = 1,  // opaque bytes from propose()
  noop = 2,     // appended by every new leader (§5.4.2, §8): lets it commit earlier-term entries
  config = 3,   // the cluster's voting members (thesis §4.1); data = encoded member list
};

struct Entry {
  Term term;
  EntryKind kind = EntryKind::command;
  Bytes data;
  // Chained digest of the log prefix ending here (see chain_digest). Not sent on the wire and not
  // persisted: every replica recomputes it, which is what lets the checker compare logs cheaply.
  std::uint64_t digest = 0;
};

// An entry read in place from a RaftLog: `data` views the log's storage, valid until the log
// next changes.
struct EntryView {
  Term term;
  EntryKind kind = EntryKind::command;
  ByteView data;
  std::uint64_t digest = 0;
};

// The replica's role. `precandidate` is the PreVote phase (thesis §9.6): it has not incremented
// its term and reports itself as a follower through consensus::Status.
enum class RaftRole : std::uint8_t { follower, precandidate, candidate, leader };

std::string_view to_string(RaftRole role);
inline std::ostream& operator<<(std::ostream& os, RaftRole r) { return os << to_string(r); }

// 64-bit hash of a byte string (a multiply-rotate mix over 8-byte words; stable across
// platforms and library versions, unlike std::hash).
constexpr std::uint64_t kDigestSeed = 0x6c6f636b73746570ULL;  // "lockstep"

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
  const std::size_t left = data.size() - i;
  if (std::endian::native == std::endian::little && left > 0 && data.size() >= 8) {
    // The last 8 bytes in one load (they overlap the last full word), shifted down to the `left`
    // bytes not yet hashed: the same value as assembling them one by one.
    std::memcpy(&tail, data.data() + data.size() - 8, 8);
    tail >>= 8 * (8 - left);
  } else {
    for (std::size_t k = 0; i < data.size(); ++i, ++k) {
      tail |= static_cast<std::uint64_t>(std::to_integer<std::uint8_t>(data[i])) << (8 * k);
    }
  }
  return mix64(h ^ tail);
}

// digest(i) = H(digest(i-1), term(i), kind(i), data(i)); digest(0) = kDigestSeed. Two logs with
// equal digests at index i agree on every entry through i (up to hash collisions), so the Log
// Matching property can be checked by comparing one number per index.
inline std::uint64_t chain_digest(std::uint64_t prev, Term term, EntryKind kind, ByteView data) {
  const std::uint64_t h = hash_bytes(data, prev ^ static_cast<std::uint64_t>(kind));
  return mix64(h ^ mix64(term.value + 0x51ed270b27d3a5f1ULL) ^ (prev << 1));
}

}  // namespace lockstep::raft
