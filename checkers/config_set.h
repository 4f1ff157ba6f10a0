// The memo table of the linearizability search: a set of configurations, each the bitset of the
// calls placed so far plus the model state, with open addressing (linear probing) over a
// power-of-two table of (hash, entry) slots and the entries packed in one array. Inserting never
// allocates except when the table or the entry array doubles.
//
// The bitset has two parts. Calls with a known outcome ("definite") are part of the key; calls
// with an unknown outcome ("open") are not: a configuration is dominated by a remembered one with
// the same definite calls and state and a subset of its open calls placed — the remembered one can
// finish every order this one can (open calls never have to be placed), so searching this one
// again cannot succeed where that one failed.
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

  ConfigSet(std::size_t definite_words, std::size_t open_words)
      : definite_words_(definite_words),
        open_words_(open_words),
        key_stride_(definite_words + kStateWords) {
    slots_.resize(kInitialSlots);
  }

  // Configurations added (including those later found dominated by a newer one).
  std::size_t size() const { return size_; }

  static std::uint64_t state_hash(const State& state) {
    std::uint64_t words[kStateWords] = {};
    std::memcpy(words, &state, sizeof(State));
    std::uint64_t h = 0;
    for (std::uint64_t w : words) h = mix64(h ^ w);
    return h;
  }

  // Adds (bits, state) unless it or a configuration dominating it is present; true when it was
  // added. `bits` holds the definite words, then the open words; `hash` must be a function of the
  // definite words and the state alone.
  bool insert(const std::uint64_t* bits, const State& state, std::uint64_t hash) {
    std::uint64_t state_words[kStateWords] = {};
    std::memcpy(state_words, &state, sizeof(State));
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = static_cast<std::size_t>(hash) & mask;
    for (;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (slot.key == 0) break;
      if (slot.hash != hash) continue;
      const std::uint64_t* stored = &keys_[(slot.key - 1) * key_stride_];
      if (equal(stored, bits, definite_words_) &&
          equal(stored + definite_words_, state_words, kStateWords)) {
        return add_open(slot.key - 1, bits + definite_words_);
      }
    }
    LS_ASSERT_LT(keys_.size() / key_stride_, std::size_t{0xfffffffeu});
    keys_.insert(keys_.end(), bits, bits + definite_words_);
    keys_.insert(keys_.end(), state_words, state_words + kStateWords);
    chain_.push_back(kNone);
    const auto key = static_cast<std::uint32_t>(chain_.size() - 1);
    slots_[i] = Slot{hash, key + 1};
    if (chain_.size() * 2 > slots_.size()) grow();
    return add_open(key, bits + definite_words_);
  }

 private:
  static constexpr std::size_t kInitialSlots = 1024;
  static constexpr std::uint32_t kNone = 0xffffffffu;
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t key = 0;  // 1-based index of the key (definite bits, state); 0 is empty
  };

  static bool equal(const std::uint64_t* a, const std::uint64_t* b, std::size_t words) {
    for (std::size_t w = 0; w < words; ++w) {
      if (a[w] != b[w]) return false;
    }
    return true;
  }

  // Adds the open set `open` to the key's chain unless a subset of it is there; drops the
  // supersets it dominates, so a chain is an antichain.
  bool add_open(std::uint32_t key, const std::uint64_t* open) {
    std::uint32_t* link = &chain_[key];
    if (*link != kNone && open_words_ == 0) return false;
    if (open_words_ == 1) {  // up to 64 open calls: the common case, one word per set
      const std::uint64_t current = open[0];
      while (*link != kNone) {
        const std::uint64_t stored = opens_[*link];
        if ((stored & ~current) == 0) return false;
        link = (current & ~stored) == 0 ? (*link = open_next_[*link], link) : &open_next_[*link];
      }
      open_next_.push_back(chain_[key]);
      chain_[key] = static_cast<std::uint32_t>(open_next_.size() - 1);
      opens_.push_back(current);
      ++size_;
      return true;
    }
    while (*link != kNone) {
      const std::uint64_t* stored = &opens_[*link * open_words_];
      bool subset = true;
      bool superset = true;
      for (std::size_t w = 0; w < open_words_; ++w) {
        subset = subset && (stored[w] & ~open[w]) == 0;
        superset = superset && (open[w] & ~stored[w]) == 0;
      }
      if (subset) return false;
      if (superset) {
        *link = open_next_[*link];
      } else {
        link = &open_next_[*link];
      }
    }
    open_next_.push_back(chain_[key]);
    chain_[key] = static_cast<std::uint32_t>(open_next_.size() - 1);
    opens_.insert(opens_.end(), open, open + open_words_);
    ++size_;
    return true;
  }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    const std::size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.key == 0) continue;
      std::size_t i = static_cast<std::size_t>(s.hash) & mask;
      while (slots_[i].key != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::size_t definite_words_;
  std::size_t open_words_;
  std::size_t key_stride_;
  std::size_t size_ = 0;
  std::vector<Slot> slots_;
  std::vector<std::uint64_t> keys_;       // per key: definite words, state words
  std::vector<std::uint32_t> chain_;      // per key: first open set, or kNone
  std::vector<std::uint64_t> opens_;      // per open set: open words
  std::vector<std::uint32_t> open_next_;  // per open set: the next in its key's chain
};

}  // namespace lockstep::checkers
