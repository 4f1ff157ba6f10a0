// What the protocols' cluster checkers (raft_checker.cc, paxos_checker.cc, zab_checker.cc) share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <vector>

#include "protocols/consensus.h"

namespace lockstep::consensus {

// A violation of `property` whose detail is `parts` streamed one after another.
template <typename... Parts>
Violation violation(const char* property, const Parts&... parts) {
  std::ostringstream detail;
  (detail << ... << parts);
  return Violation{property, detail.str()};
}

// A checker's memory of recent log positions: slots[k] describes position base + k. Returns the
// slot of `position`, adding slots up to it; nullptr for a position already forgotten (below
// base). A jump of a whole window or more (a snapshot far ahead) forgets everything; past two
// windows the older part is forgotten in one go, so each position costs amortised O(1) and
// lookups stay a vector's.
template <typename Slot>
Slot* window_slot(std::vector<Slot>& slots, std::uint64_t& base, std::uint64_t position,
                  std::uint64_t window) {
  if (position < base) return nullptr;
  if (position >= base + slots.size() + window) {
    slots.clear();
    base = position;
  }
  while (base + slots.size() <= position) slots.emplace_back();
  if (slots.size() > 2 * window) {
    const std::size_t drop = slots.size() - window;
    slots.erase(slots.begin(), slots.begin() + static_cast<std::ptrdiff_t>(drop));
    base += drop;
  }
  return &slots[position - base];
}

}  // namespace lockstep::consensus
