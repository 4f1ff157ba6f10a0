// The simulator's agenda: events ordered by (time, sequence number). The sequence number is
// assigned at push, so two events at the same instant run in the order they were scheduled, and
// the order never depends on addresses or container iteration order.
//
// Events are small fixed-size records (no std::function, no allocation per event): `kind` says
// which handler runs, `target` is usually a node, `arg` indexes whatever the handler needs.
#pragma once

#include <cstdint>
#include <vector>

#include "core/assert.h"
#include "core/rng.h"
#include "core/types.h"

namespace lockstep::sim {

struct Event {
  Nanos at;
  std::uint64_t seq = 0;
  std::uint32_t kind = 0;
  std::uint32_t target = 0;
  std::uint64_t arg = 0;
};

// (time, seq) as one 128-bit key: one wide comparison instead of two branches. Times are never
// negative (the queue asserts it), so the unsigned view orders them correctly.
inline uint128 event_key(Nanos at, std::uint64_t seq) {
  return (static_cast<uint128>(static_cast<std::uint64_t>(at.count)) << 64) | seq;
}

class EventQueue {
 public:
  void push(Nanos at, std::uint32_t kind, std::uint32_t target, std::uint64_t arg) {
    LS_ASSERT_GE(at.count, 0);
    heap_.push_back(Event{at, next_seq_++, kind, target, arg});
    sift_up(heap_.size() - 1);
  }

  // Takes the next sequence number for something the caller queues on its own (the world's
  // departures): ordered by event_key(at, seq), it keeps its place among these events.
  std::uint64_t take_seq() { return next_seq_++; }

  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  const Event& top() const {
    LS_ASSERT(!heap_.empty());
    return heap_.front();
  }

  Event pop() {
    LS_ASSERT(!heap_.empty());
    Event out = heap_.front();
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(0);
    return out;
  }

 private:
  // A 4-ary heap: shallower than a binary heap and its children share a cache line or two.
  static constexpr std::size_t kArity = 4;

  static bool before(const Event& a, const Event& b) {
    return event_key(a.at, a.seq) < event_key(b.at, b.seq);
  }

  void sift_up(std::size_t i) {
    Event moving = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / kArity;
      if (!before(moving, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = moving;
  }

  void sift_down(std::size_t i) {
    Event moving = heap_[i];
    const std::size_t n = heap_.size();
    for (;;) {
      const std::size_t first = i * kArity + 1;
      if (first >= n) break;
      std::size_t best = first;
      const std::size_t last = first + kArity < n ? first + kArity : n;
      for (std::size_t c = first + 1; c < last; ++c) {
        if (before(heap_[c], heap_[best])) best = c;
      }
      if (!before(heap_[best], moving)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = moving;
  }

  std::vector<Event> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace lockstep::sim
