// A map from 64-bit keys to 32-bit values with open addressing (linear probing), for lookups in
// the checker's inner loop, where std::unordered_map's node per entry costs a cache miss.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "checkers/config_set.h"
#include "core/assert.h"

namespace lockstep::checkers {

class FlatMap64 {
 public:
  static constexpr std::uint32_t kMissing = 0xffffffffu;

  FlatMap64() : slots_(kInitialSlots) {}

  std::size_t size() const { return size_; }

  std::uint32_t find(std::uint64_t key) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = mix64(key) & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.value_plus_one == 0) return kMissing;
      if (s.key == key) return s.value_plus_one - 1;
    }
  }

  // `key` must not be present.
  void insert(std::uint64_t key, std::uint32_t value) {
    LS_ASSERT_NE(value, kMissing);
    place(Slot{key, value + 1});
    ++size_;
    if (size_ * 2 > slots_.size()) {
      std::vector<Slot> old = std::move(slots_);
      slots_.assign(old.size() * 2, Slot{});
      for (const Slot& s : old) {
        if (s.value_plus_one != 0) place(s);
      }
    }
  }

 private:
  static constexpr std::size_t kInitialSlots = 64;
  struct Slot {
    std::uint64_t key = 0;
    std::uint32_t value_plus_one = 0;  // 0 marks an empty slot
  };

  void place(const Slot& slot) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = mix64(slot.key) & mask;
    while (slots_[i].value_plus_one != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace lockstep::checkers
