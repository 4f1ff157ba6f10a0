// A node's clock, judged against true (simulated) time.
//
// A node reads two clocks, as a real machine does:
//   - monotonic: advances at rate 1 + drift_ppm / 1e6 per true nanosecond while the node runs,
//     stands still while the node is paused (a GC or VM freeze), and never jumps. Node timers
//     (Env::set_timer) are measured on it.
//   - wall = monotonic + offset, where the offset starts at the node's initial offset and moves by
//     every clock jump (an NTP step, an operator setting the date), forwards or backwards.
//     Env::now() returns it; leases and anything else a real node reads from its clock use it.
// Checkers never use either: they judge against true time.
//
// The monotonic reading is piecewise linear in true time. The clock keeps an anchor — a true time
// and the exact monotonic reading there — and re-anchors at every change of drift, pause and
// resume, so a reading only ever extrapolates one straight segment.
//
// Arithmetic is exact integer arithmetic, so readings are identical on every platform:
//   - drift is held as an integer rate in parts per trillion (ppt): drift_ppm is rounded to the
//     nearest 1e-6 ppm once, when it is set, and drift_ppm() reports the rounded value;
//   - the anchor's monotonic reading carries a fractional part, in units of 1e-12 ns, so that
//     re-anchoring loses nothing: a clock whose drift is "changed" to the same value reads
//     exactly as if nothing had happened;
//   - a reading rounds down (floor) to the nanosecond.
// The inverse, true_time_for_monotonic, is exact against that rounding: for a running clock it
// returns the earliest true time whose monotonic reading reaches the target, so
// monotonic(t) >= target and monotonic(t - 1ns) < target (when t is past the anchor).
//
// Calls must come in non-decreasing true time: a reading or a change at a true time before the
// latest change is an assertion (the simulator's time only moves forwards).
#pragma once

#include <cstdint>
#include <limits>

#include "core/types.h"

namespace lockstep::sim {

class NodeClock {
 public:
  // |drift| is bounded so that the rate stays in [0.5, 1.5]: the monotonic clock always moves
  // forwards while the node runs. Scenario validation rejects larger values with a clear error.
  static constexpr double drift_ppm_limit = 500'000.0;

  // A running clock that reads monotonic 0 and wall `initial_offset` at true time `true_start`.
  NodeClock(Nanos initial_offset, double drift_ppm, Nanos true_start = Nanos::zero());

  // The node's wall-clock reading (what Env::now() returns) at true time `true_now`.
  Nanos wall(Nanos true_now) const;
  // The node's monotonic reading at true time `true_now`. Inline when the clock runs without
  // drift, the common case: every message a node handles reads it.
  Nanos monotonic(Nanos true_now) const {
    if (rate_ppt_ == kScale && !paused_ && true_now >= anchor_true_) {
      // (anchor_frac_ + elapsed * kScale) / kScale is exactly elapsed, since
      // 0 <= anchor_frac_ < kScale.
      const std::int64_t elapsed = true_now.count - anchor_true_.count;
      if (anchor_mono_.count <= std::numeric_limits<std::int64_t>::max() - elapsed) {
        return Nanos{anchor_mono_.count + elapsed};
      }
    }
    return monotonic_general(true_now);
  }

  // The earliest true time t >= true_now with monotonic(t) >= mono_target: when a timer set on the
  // monotonic clock fires. true_now itself if the target is already reached; Nanos::max() while
  // the clock is paused (it fires only after resume; ask again then) or when t would not fit.
  // Inline for a running clock without drift: every timer set asks.
  Nanos true_time_for_monotonic(Nanos true_now, Nanos mono_target) const {
    if (rate_ppt_ == kScale && !paused_ && true_now >= anchor_true_ &&
        mono_target.count > anchor_mono_.count &&
        anchor_true_.count <= std::numeric_limits<std::int64_t>::max() -
                                  (mono_target.count - anchor_mono_.count)) {
      // The reading is anchor_mono_ + elapsed (see monotonic()), so the target is reached
      // `needed` after the anchor, or already now.
      const std::int64_t at = anchor_true_.count + (mono_target.count - anchor_mono_.count);
      return at > true_now.count ? Nanos{at} : true_now;
    }
    return true_time_for_monotonic_general(true_now, mono_target);
  }

  // Changes the rate from `true_now` on; readings before `true_now` are unchanged.
  void set_drift(Nanos true_now, double drift_ppm);
  // Steps the wall clock by `delta` (either sign); the monotonic clock is untouched.
  void jump(Nanos delta);
  // Freezes both readings at their value at `true_now` until resume(). Pausing a paused clock or
  // resuming a running one is an assertion: the fault injector tracks which nodes are paused.
  void pause(Nanos true_now);
  // Continues from the frozen readings: no time passes on the node for the paused interval.
  void resume(Nanos true_now);

  bool paused() const { return paused_; }
  double drift_ppm() const;
  // The drift as held, in parts per billion, rounded to nearest (for the trace).
  std::int64_t drift_ppb() const;
  Nanos offset() const { return offset_; }

 private:
  // 1 ns of true time at zero drift, in the units of rate_ppt_ and anchor_frac_.
  static constexpr std::int64_t kScale = 1'000'000'000'000;  // 1e12

  // monotonic() with drift, while paused, or failing its assertions.
  Nanos monotonic_general(Nanos true_now) const;
  // true_time_for_monotonic() likewise, and at the edges (target reached at the anchor, overflow).
  Nanos true_time_for_monotonic_general(Nanos true_now, Nanos mono_target) const;
  // Moves the anchor to `true_now`, keeping the reading there exact (integer and fraction).
  void reanchor(Nanos true_now);

  std::int64_t rate_ppt_;         // monotonic ns per true ns, times kScale: kScale + drift in ppt
  Nanos anchor_true_;             // true time of the last change
  Nanos anchor_mono_;             // integral monotonic reading at anchor_true_
  std::int64_t anchor_frac_ = 0;  // fractional part of that reading, in [0, kScale)
  Nanos offset_;                  // wall - monotonic
  bool paused_ = false;
};

}  // namespace lockstep::sim
