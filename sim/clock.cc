#include "sim/clock.h"

#include <cmath>
#include <limits>
#include <string>

#include "core/assert.h"

namespace lockstep::sim {
namespace {

__extension__ using int128 = __int128;
__extension__ using uint128 = unsigned __int128;

constexpr int128 kInt64Max = std::numeric_limits<std::int64_t>::max();

// floor(x / 1e12) for x >= 0. 1e12 = 2^12 * 5^12, and flooring twice is flooring once for
// non-negative values, so when x >> 12 fits in 64 bits the division is a 64-bit one by a constant
// (a multiply and shifts) instead of a call to the 128-bit division routine. It fits while the
// clock's anchor is less than about 75 simulated seconds old; older anchors take the long way.
std::int64_t div_scale(int128 x) {
  static_assert(std::int64_t{1'000'000'000'000} == (std::int64_t{1} << 12) * 244'140'625);
  const auto high = static_cast<uint128>(x) >> 12;
  if (high >> 64 == 0) {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(high) / 244'140'625u);
  }
  return static_cast<std::int64_t>(x / 1'000'000'000'000);
}

// Drift in parts per trillion, rounded to nearest once (std::llround: halves away from zero).
std::int64_t ppm_to_ppt(double drift_ppm) {
  LS_ASSERT_MSG(std::abs(drift_ppm) <= NodeClock::drift_ppm_limit,
                "drift_ppm = " + std::to_string(drift_ppm) + " is outside [-500000, 500000]");
  return std::llround(drift_ppm * 1e6);
}

}  // namespace

NodeClock::NodeClock(Nanos initial_offset, double drift_ppm, Nanos true_start)
    : rate_ppt_(kScale + ppm_to_ppt(drift_ppm)),
      anchor_true_(true_start),
      anchor_mono_(Nanos::zero()),
      offset_(initial_offset) {}

Nanos NodeClock::monotonic_general(Nanos true_now) const {
  LS_ASSERT_GE(true_now, anchor_true_);
  if (paused_) return anchor_mono_;
  if (rate_ppt_ == kScale) {
    // No drift: (anchor_frac_ + elapsed * kScale) / kScale is exactly elapsed, since
    // 0 <= anchor_frac_ < kScale. Skips the 128-bit division on the common path.
    const std::int64_t elapsed = true_now.count - anchor_true_.count;
    LS_ASSERT_MSG(anchor_mono_.count <= kInt64Max - elapsed,
                  "monotonic clock overflows 64-bit nanoseconds");
    return Nanos{anchor_mono_.count + elapsed};
  }
  const int128 elapsed = static_cast<int128>(true_now.count - anchor_true_.count);
  LS_ASSERT(anchor_frac_ >= 0 && rate_ppt_ > 0);  // so the sum below is non-negative
  static_assert(kScale == 1'000'000'000'000, "div_scale divides by this scale");
  const int128 whole = div_scale(anchor_frac_ + elapsed * rate_ppt_);
  const int128 reading = anchor_mono_.count + whole;
  LS_ASSERT_MSG(reading <= kInt64Max, "monotonic clock overflows 64-bit nanoseconds");
  return Nanos{static_cast<std::int64_t>(reading)};
}

Nanos NodeClock::wall(Nanos true_now) const { return monotonic(true_now) + offset_; }

Nanos NodeClock::true_time_for_monotonic_general(Nanos true_now, Nanos mono_target) const {
  LS_ASSERT_GE(true_now, anchor_true_);
  if (monotonic(true_now) >= mono_target) return true_now;
  if (paused_) return Nanos::max();
  // The smallest elapsed e >= 0 with anchor_frac_ + e * rate >= needed * kScale, i.e.
  // floor((anchor_frac_ + e * rate) / kScale) >= needed. needed >= 1 here, so the numerator is
  // positive and the ceiling division below is on non-negative values.
  const int128 needed = static_cast<int128>(mono_target.count) - anchor_mono_.count;
  LS_ASSERT(needed >= 1);
  if (rate_ppt_ == kScale) {
    // No drift: the reading is anchor_mono_ + elapsed (see monotonic()), so elapsed = needed.
    // Skips the 128-bit division below, which every timer set paid.
    const int128 at = static_cast<int128>(anchor_true_.count) + needed;
    return at > kInt64Max ? Nanos::max() : Nanos{static_cast<std::int64_t>(at)};
  }
  const int128 numerator = needed * kScale - anchor_frac_;
  const int128 elapsed = (numerator + rate_ppt_ - 1) / rate_ppt_;
  const int128 at = static_cast<int128>(anchor_true_.count) + elapsed;
  if (at > kInt64Max) return Nanos::max();
  return Nanos{static_cast<std::int64_t>(at)};
}

void NodeClock::reanchor(Nanos true_now) {
  LS_ASSERT_GE(true_now, anchor_true_);
  if (!paused_) {
    const int128 elapsed = static_cast<int128>(true_now.count - anchor_true_.count);
    const int128 total = anchor_frac_ + elapsed * rate_ppt_;
    const int128 reading = anchor_mono_.count + total / kScale;
    LS_ASSERT_MSG(reading <= kInt64Max, "monotonic clock overflows 64-bit nanoseconds");
    anchor_mono_ = Nanos{static_cast<std::int64_t>(reading)};
    anchor_frac_ = static_cast<std::int64_t>(total % kScale);
  }
  anchor_true_ = true_now;
}

void NodeClock::set_drift(Nanos true_now, double drift_ppm) {
  reanchor(true_now);
  rate_ppt_ = kScale + ppm_to_ppt(drift_ppm);
}

void NodeClock::jump(Nanos delta) { offset_ += delta; }

void NodeClock::pause(Nanos true_now) {
  LS_ASSERT(!paused_);
  reanchor(true_now);
  paused_ = true;
}

void NodeClock::resume(Nanos true_now) {
  LS_ASSERT(paused_);
  reanchor(true_now);  // paused: only the true anchor moves, the frozen reading stays
  paused_ = false;
}

double NodeClock::drift_ppm() const { return static_cast<double>(rate_ppt_ - kScale) / 1e6; }

std::int64_t NodeClock::drift_ppb() const {
  const std::int64_t ppt = rate_ppt_ - kScale;
  return ppt >= 0 ? (ppt + 500) / 1000 : -((-ppt + 500) / 1000);
}

}  // namespace lockstep::sim
