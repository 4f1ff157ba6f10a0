// Deterministic pseudo-random numbers: xoshiro256** (Blackman & Vigna), seeded through SplitMix64.
//
// Every random stream in a run is derived from the one master seed and a stable stream name
// ("network", "node", 3), never from another stream's draws. Adding a client therefore does not
// change what the network draws, and a failing seed reproduces no matter which other components
// the scenario has.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/assert.h"

namespace lockstep {

__extension__ using uint128 = unsigned __int128;

constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// FNV-1a: a stable hash of stream names (std::hash is not stable across library versions).
constexpr std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

class Rng {
 public:
  explicit constexpr Rng(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (auto& word : s_) word = splitmix64(sm);
  }

  // The stream `name`/`index` of the run seeded with `master_seed`.
  static constexpr Rng derive(std::uint64_t master_seed, std::string_view name,
                              std::uint64_t index = 0) {
    std::uint64_t mix = master_seed;
    const std::uint64_t a = splitmix64(mix);
    std::uint64_t mix2 = a ^ fnv1a64(name);
    const std::uint64_t b = splitmix64(mix2);
    std::uint64_t mix3 = b ^ (index * 0xd1342543de82ef95ULL + 0x632be59bd9b4e019ULL);
    return Rng(splitmix64(mix3));
  }

  constexpr std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, bound), without modulo bias (Lemire's multiply-shift with rejection). Always
  // inlined, like between(): a draw per message and per timer reset, and the call cost more than
  // the draw.
  [[gnu::always_inline]] std::uint64_t below(std::uint64_t bound) {
    LS_ASSERT_GT(bound, 0u);
    uint128 m = static_cast<uint128>(next()) * bound;
    auto low = static_cast<std::uint64_t>(m);
    if (low < bound) {
      const std::uint64_t threshold = -bound % bound;
      while (low < threshold) {
        m = static_cast<uint128>(next()) * bound;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  // Uniform in [lo, hi] inclusive.
  [[gnu::always_inline]] std::int64_t between(std::int64_t lo, std::int64_t hi) {
    LS_ASSERT_LE(lo, hi);
    const auto span = static_cast<std::uint64_t>(hi - lo);
    if (span == ~0ULL) return static_cast<std::int64_t>(next());
    return lo + static_cast<std::int64_t>(below(span + 1));
  }

  // Uniform in [0, 1) with 53 bits of precision.
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // True with probability p (p <= 0 never, p >= 1 always, no draw wasted on either).
  bool chance(double p) {
    if (p <= 0.0) return false;
    if (p >= 1.0) return true;
    return unit() < p;
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
};

}  // namespace lockstep
