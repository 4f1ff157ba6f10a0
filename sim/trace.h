// The record of everything that happened in a run. Every event folds into a rolling 64-bit hash,
// always; the same seed, binary and scenario must give the same hash (CI checks this). Writing the
// events as JSON lines is optional and costs nothing when off.
#pragma once

#include <cstdint>
#include <ostream>
#include <string_view>

#include "core/bytes.h"
#include "core/types.h"

namespace lockstep::sim {

enum class TraceKind : std::uint8_t {
  start,        // node started or restarted (a = incarnation)
  crash,        // node crashed, volatile state gone
  pause,
  resume,
  send,         // a = destination node, b = bytes
  deliver,      // a = source node, b = bytes
  drop,         // a = destination, b = reason (DropReason; its name in JSON); node = the sender
  duplicate,    // a = destination, b = bytes
  timer,        // a = timer id
  clock_jump,   // a = delta ns (two's complement)
  clock_drift,  // a = drift in parts per billion (two's complement)
  partition,    // detail names the shape
  heal,
  clog,         // a = from, b = to
  disk_sync,    // b = bytes made durable
  disk_corrupt, // detail names the file
  fiber_wake,   // a = fiber id
  note,         // node code's own structured note: detail = "kind detail"
  fault,        // a scheduled or nemesis fault was applied; detail describes it
  hold,         // a message waits for its sender's syncs in flight: a = destination,
                // b = when it leaves (ns)
  disk_loss,    // a crash lost unsynced data: a = bytes lost, b = syncs cut short; detail tells
                // of torn tails
  count_,
};

std::string_view to_string(TraceKind kind);

// One recorded event as a tap sees it. `payload` is the message's bytes for send, deliver, drop
// and duplicate, empty otherwise. Valid only during the call.
struct TraceEvent {
  Nanos time;
  std::uint32_t node = 0;
  TraceKind kind = TraceKind::note;
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::string_view detail;
  ByteView payload;
};

// Sees every event as it is recorded (reports collect their timelines through it). A tap must
// not change the world: it only reads.
class TraceTap {
 public:
  virtual void on_event(const TraceEvent& event) = 0;

 protected:
  ~TraceTap() = default;
};

class Trace {
 public:
  // Folds one event into the hash and, when a sink is set, writes it as a JSON line.
  void record(Nanos time, std::uint32_t node, TraceKind kind, std::uint64_t a = 0,
              std::uint64_t b = 0, std::string_view detail = {}, ByteView payload = {}) {
    std::uint64_t h = hash_;
    h = mix(h ^ static_cast<std::uint64_t>(time.count));
    h = mix(h ^ (static_cast<std::uint64_t>(node) << 8 | static_cast<std::uint64_t>(kind)));
    h = mix(h ^ a);
    h = mix(h ^ b);
    if (!detail.empty()) h = mix(h ^ hash_bytes(detail));
    hash_ = h;
    ++events_;
    if (sink_ != nullptr) write_json(time, node, kind, a, b, detail);
    if (tap_ != nullptr) tap_->on_event(TraceEvent{time, node, kind, a, b, detail, payload});
  }

  std::uint64_t hash() const { return hash_; }
  std::uint64_t events() const { return events_; }

  // JSON-lines output; nullptr turns it off. The stream must outlive the trace's use of it.
  void set_sink(std::ostream* sink) { sink_ = sink; }
  // Every event is also handed to `tap` (nullptr: none). The tap must outlive its use here.
  void set_tap(TraceTap* tap) { tap_ = tap; }

 private:
  static constexpr std::uint64_t mix(std::uint64_t x) {
    x *= 0x9e3779b97f4a7c15ULL;
    return x ^ (x >> 29);
  }
  static std::uint64_t hash_bytes(std::string_view s);
  void write_json(Nanos time, std::uint32_t node, TraceKind kind, std::uint64_t a,
                  std::uint64_t b, std::string_view detail);

  std::uint64_t hash_ = 0x6c6f636b73746570ULL;  // "lockstep"
  std::uint64_t events_ = 0;
  std::ostream* sink_ = nullptr;
  TraceTap* tap_ = nullptr;
};

}  // namespace lockstep::sim
