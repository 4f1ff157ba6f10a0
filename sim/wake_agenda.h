// The next timer wake-up of each node: at most one per node, ordered like the events by
// (time, sequence number), in a small min-heap that knows where each node's entry sits so it can
// be moved or removed in O(log nodes).
//
// Why not events: a wake-up is replaced whenever the node sets an earlier timer, and as an event
// the replaced one lingered in the queue until its time. A client's request timeout (1s) is
// replaced ~8ms later by its think-time timer, so such dead wake-ups were most of the event queue
// and made every push and pop pay for its depth.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "core/assert.h"
#include "core/types.h"
#include "sim/event_queue.h"

namespace lockstep::sim {

class WakeAgenda {
 public:
  struct Entry {
    Nanos at;
    std::uint64_t seq = 0;
    std::uint32_t node = 0;
  };

  bool empty() const { return heap_.empty(); }
  const Entry& top() const {
    LS_ASSERT(!heap_.empty());
    return heap_.front();
  }
  bool contains(std::uint32_t node) const { return node < pos_.size() && pos_[node] != kAbsent; }

  // Sets `node`'s wake-up, replacing the one it had.
  void set(std::uint32_t node, Nanos at, std::uint64_t seq) {
    if (node >= pos_.size()) pos_.resize(node + 1, kAbsent);
    const Entry entry{at, seq, node};
    if (pos_[node] == kAbsent) {
      heap_.push_back(entry);
      pos_[node] = static_cast<std::uint32_t>(heap_.size() - 1);
      sift_up(heap_.size() - 1);
      return;
    }
    const std::size_t i = pos_[node];
    const bool earlier = before(entry, heap_[i]);
    heap_[i] = entry;
    if (earlier) {
      sift_up(i);
    } else {
      sift_down(i);
    }
  }

  void erase(std::uint32_t node) {
    if (!contains(node)) return;
    remove_at(pos_[node]);
  }

  Entry pop() {
    const Entry out = top();
    remove_at(0);
    return out;
  }

 private:
  static constexpr std::uint32_t kAbsent = std::numeric_limits<std::uint32_t>::max();

  static bool before(const Entry& a, const Entry& b) {
    return event_key(a.at, a.seq) < event_key(b.at, b.seq);
  }

  void place(std::size_t i, const Entry& e) {
    heap_[i] = e;
    pos_[e.node] = static_cast<std::uint32_t>(i);
  }

  void remove_at(std::size_t i) {
    pos_[heap_[i].node] = kAbsent;
    const Entry last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    const bool earlier = before(last, heap_[i]);
    place(i, last);
    if (earlier) {
      sift_up(i);
    } else {
      sift_down(i);
    }
  }

  void sift_up(std::size_t i) {
    const Entry moving = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (!before(moving, heap_[parent])) break;
      place(i, heap_[parent]);
      i = parent;
    }
    place(i, moving);
  }

  void sift_down(std::size_t i) {
    const Entry moving = heap_[i];
    const std::size_t n = heap_.size();
    for (;;) {
      std::size_t best = 2 * i + 1;
      if (best >= n) break;
      if (best + 1 < n && before(heap_[best + 1], heap_[best])) ++best;
      if (!before(heap_[best], moving)) break;
      place(i, heap_[best]);
      i = best;
    }
    place(i, moving);
  }

  std::vector<Entry> heap_;
  std::vector<std::uint32_t> pos_;  // by node: its entry's index in heap_, or kAbsent
};

}  // namespace lockstep::sim
