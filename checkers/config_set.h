// The memo table of the linearizability search: a set of configurations, each the bitset of the
// calls placed so far plus the model state, with open addressing (linear probing) over a
// power-of-two table of (hash, entry) slots and the entries packed in one array. Inserting never
// allocates except when the table or the entry array doubles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/assert.h"

namespace lockstep::checkers {

// A 64-bit finaliser (Stafford's mix 13, as in SplitMix64): every input bit affects every output
// bit, so XORs of its outputs make good Zobrist keys and table indices.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

template <typename State>
class ConfigSet {
  static_assert(std::is_trivially_copyable_v<State>, "a model state must be trivially copyable");

 public:
  static constexpr std::size_t kStateWords = (sizeof(State) + 7) / 8;

  explicit ConfigSet(std::size_t bitset_words)
      : bitset_words_(bitset_words), stride_(bitset_words + kStateWords) {
    slots_.resize(kInitialSlots);
  }

  std::size_t size() const { return size_; }

  static std::uint64_t state_hash(const State& state) {
    std::uint64_t words[kStateWords] = {};
    std::memcpy(words, &state, sizeof(State));
    std::uint64_t h = 0;
    for (std::uint64_t w : words) h = mix64(h ^ w);
    return h;
  }

  // Adds (bits, state) unless it is present; true when it was added. `hash` must be a function
  // of (bits, state) alone.
  bool insert(const std::uint64_t* bits, const State& state, std::uint64_t hash) {
    std::uint64_t key[kStateWords] = {};
    std::memcpy(key, &state, sizeof(State));
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = static_cast<std::size_t>(hash) & mask;
    for (;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (slot.entry == 0) break;
      if (slot.hash != hash) continue;
      const std::uint64_t* stored = &entries_[(slot.entry - 1) * stride_];
      if (std::memcmp(stored, bits, bitset_words_ * 8) == 0 &&
          std::memcmp(stored + bitset_words_, key, kStateWords * 8) == 0) {
        return false;
      }
    }
    LS_ASSERT_LT(size_, std::size_t{0xffffffffu});
    entries_.insert(entries_.end(), bits, bits + bitset_words_);
    entries_.insert(entries_.end(), key, key + kStateWords);
    ++size_;
    slots_[i] = Slot{hash, static_cast<std::uint32_t>(size_)};
    if (size_ * 2 > slots_.size()) grow();
    return true;
  }

 private:
  static constexpr std::size_t kInitialSlots = 1024;
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t entry = 0;  // 1-based index into entries_; 0 is empty
  };

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    const std::size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.entry == 0) continue;
      std::size_t i = static_cast<std::size_t>(s.hash) & mask;
      while (slots_[i].entry != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::size_t bitset_words_;
  std::size_t stride_;
  std::size_t size_ = 0;
  std::vector<Slot> slots_;
  std::vector<std::uint64_t> entries_;
};

}  // namespace lockstep::checkers
