#include "sim/clock.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <vector>

namespace lockstep::sim {
namespace clock_test {
namespace {

TEST(Clock, StartsAtItsOffsetAndRunsAtTrueRateWithoutDrift) {
  const NodeClock clock(milliseconds(-7), 0.0);
  EXPECT_EQ(clock.monotonic(Nanos::zero()), Nanos::zero());
  EXPECT_EQ(clock.wall(Nanos::zero()), milliseconds(-7));
  EXPECT_EQ(clock.monotonic(seconds(3)), seconds(3));
  EXPECT_EQ(clock.wall(seconds(3)), seconds(3) - milliseconds(7));
}

TEST(Clock, DriftOfHundredPpmGainsOneMillisecondInTenSeconds) {
  const NodeClock fast(Nanos::zero(), 100.0);
  const NodeClock slow(Nanos::zero(), -100.0);
  EXPECT_EQ(fast.monotonic(seconds(10)), seconds(10) + milliseconds(1));
  EXPECT_EQ(slow.monotonic(seconds(10)), seconds(10) - milliseconds(1));
  EXPECT_EQ(fast.wall(seconds(10)), seconds(10) + milliseconds(1));
}

TEST(Clock, ReadingsRoundDownToTheNanosecond) {
  const NodeClock slow(Nanos::zero(), -100.0);  // 0.9999 ns per ns
  EXPECT_EQ(slow.monotonic(nanoseconds(1)), Nanos::zero());
  EXPECT_EQ(slow.monotonic(nanoseconds(10'000)), nanoseconds(9'999));
  EXPECT_EQ(slow.monotonic(nanoseconds(10'001)), nanoseconds(9'999));
}

// With drift a reading is floor(elapsed * rate / 1e12), computed in 128 bits. The division takes a
// 64-bit shortcut while the anchor is under ~75 s old: both ways must give the exact floor, up to
// runs far longer than that.
RC_GTEST_PROP(Clock, DriftingReadingIsTheExactFloorAtAnyAge, ()) {
  const auto drift_ppb = *rc::gen::inRange<std::int64_t>(-500'000'000, 500'001);
  // Up to 2,000 s, spread over magnitudes so that both ways of dividing are taken.
  const auto true_ns = *rc::gen::inRange<std::int64_t>(0, 2'000'000'000'000) >>
                       *rc::gen::inRange(0, 30);
  const NodeClock clock(Nanos::zero(), static_cast<double>(drift_ppb) / 1000.0);
  __extension__ using int128 = __int128;
  const int128 rate = 1'000'000'000'000 + drift_ppb * 1000;  // parts per trillion
  const auto expected = static_cast<std::int64_t>(int128{true_ns} * rate / 1'000'000'000'000);
  RC_ASSERT(clock.monotonic(Nanos{true_ns}) == Nanos{expected});
}

TEST(Clock, StartsAtItsTrueStart) {
  const NodeClock clock(seconds(1), 0.0, seconds(5));
  EXPECT_EQ(clock.monotonic(seconds(5)), Nanos::zero());
  EXPECT_EQ(clock.wall(seconds(6)), seconds(2));
}

TEST(Clock, JumpsMoveWallButNotMonotonic) {
  NodeClock clock(Nanos::zero(), 0.0);
  clock.jump(seconds(30));
  EXPECT_EQ(clock.wall(seconds(1)), seconds(31));
  EXPECT_EQ(clock.monotonic(seconds(1)), seconds(1));
  clock.jump(-seconds(45));
  EXPECT_EQ(clock.wall(seconds(2)), seconds(-13));
  EXPECT_EQ(clock.monotonic(seconds(2)), seconds(2));
  EXPECT_EQ(clock.offset(), seconds(-15));
  // A timer on the monotonic clock is not moved by the jumps.
  EXPECT_EQ(clock.true_time_for_monotonic(seconds(2), seconds(5)), seconds(5));
}

TEST(Clock, PauseFreezesBothReadingsAndResumeContinuesFromThem) {
  NodeClock clock(milliseconds(100), 100.0);
  clock.pause(seconds(10));
  const Nanos frozen = seconds(10) + milliseconds(1);
  EXPECT_TRUE(clock.paused());
  EXPECT_EQ(clock.monotonic(seconds(10)), frozen);
  EXPECT_EQ(clock.monotonic(seconds(25)), frozen);
  EXPECT_EQ(clock.wall(seconds(25)), frozen + milliseconds(100));
  EXPECT_EQ(clock.true_time_for_monotonic(seconds(25), frozen + nanoseconds(1)), Nanos::max());
  EXPECT_EQ(clock.true_time_for_monotonic(seconds(25), frozen), seconds(25));

  clock.resume(seconds(30));
  EXPECT_FALSE(clock.paused());
  EXPECT_EQ(clock.monotonic(seconds(30)), frozen);
  // The same rate as before the pause: +100ppm over the next 10 true seconds.
  EXPECT_EQ(clock.monotonic(seconds(40)), frozen + seconds(10) + milliseconds(1));
}

TEST(Clock, JumpWhilePausedMovesTheFrozenWallReading) {
  NodeClock clock(Nanos::zero(), 0.0);
  clock.pause(seconds(1));
  clock.jump(seconds(-2));
  EXPECT_EQ(clock.wall(seconds(5)), seconds(-1));
  EXPECT_EQ(clock.monotonic(seconds(5)), seconds(1));
}

TEST(Clock, DriftChangeAppliesFromThatTrueTimeOn) {
  NodeClock clock(Nanos::zero(), 100.0);
  clock.set_drift(seconds(10), -100.0);
  EXPECT_EQ(clock.monotonic(seconds(10)), seconds(10) + milliseconds(1));
  EXPECT_EQ(clock.monotonic(seconds(20)), seconds(20));
  EXPECT_DOUBLE_EQ(clock.drift_ppm(), -100.0);
  EXPECT_EQ(clock.drift_ppb(), -100'000);
}

TEST(Clock, ReanchoringLosesNoFractionOfANanosecond) {
  // 0.3 ppm adds 3e-7 ns per ns: the fraction must be carried across every re-anchor.
  const NodeClock steady(Nanos::zero(), 0.3);
  NodeClock touched(Nanos::zero(), 0.3);
  for (std::int64_t t = 1; t <= 1'000; ++t) {
    touched.set_drift(nanoseconds(t * 9'973), 0.3);
    ASSERT_EQ(touched.monotonic(nanoseconds(t * 9'973)), steady.monotonic(nanoseconds(t * 9'973)));
  }
  EXPECT_EQ(touched.monotonic(seconds(100)), steady.monotonic(seconds(100)));
  EXPECT_EQ(steady.monotonic(seconds(100)), seconds(100) + microseconds(30));
}

TEST(Clock, TimerTargetIsTheEarliestTrueTimeReachingIt) {
  const NodeClock fast(Nanos::zero(), 100.0);
  // monotonic reaches 10s + 1ms at exactly true 10s.
  EXPECT_EQ(fast.true_time_for_monotonic(Nanos::zero(), seconds(10) + milliseconds(1)),
            seconds(10));
  const NodeClock slow(Nanos::zero(), -500'000.0);  // half speed
  EXPECT_EQ(slow.true_time_for_monotonic(Nanos::zero(), nanoseconds(3)), nanoseconds(6));
  EXPECT_EQ(slow.monotonic(nanoseconds(5)), nanoseconds(2));
  EXPECT_EQ(slow.true_time_for_monotonic(seconds(1), Nanos::max()), Nanos::max());
}

// One step of a random clock history: advance true time, then maybe change the clock.
struct ClockStep {
  std::int64_t advance_ns;
  int action;  // 0 nothing, 1 set drift, 2 jump, 3 pause/resume toggle
  std::int64_t drift_ppb;
  std::int64_t jump_ns;
};

rc::Gen<ClockStep> gen_step() {
  return rc::gen::build<ClockStep>(
      rc::gen::set(&ClockStep::advance_ns, rc::gen::inRange<std::int64_t>(0, 5'000'000'000)),
      rc::gen::set(&ClockStep::action, rc::gen::inRange(0, 4)),
      rc::gen::set(&ClockStep::drift_ppb,
                   rc::gen::inRange<std::int64_t>(-500'000'000, 500'000'001)),
      rc::gen::set(&ClockStep::jump_ns,
                   rc::gen::inRange<std::int64_t>(-1'000'000'000, 1'000'000'000)));
}

// Checks the inverse law at `now` for a target `ahead_ns` past the current reading.
void check_inverse_law(const NodeClock& clock, Nanos now, std::int64_t ahead_ns) {
  const Nanos target = clock.monotonic(now) + nanoseconds(ahead_ns);
  const Nanos at = clock.true_time_for_monotonic(now, target);
  if (clock.paused()) {
    RC_ASSERT(at == (ahead_ns <= 0 ? now : Nanos::max()));
    return;
  }
  RC_ASSERT(at >= now);
  RC_ASSERT(clock.monotonic(at) >= target);
  if (at > now) RC_ASSERT(clock.monotonic(at - nanoseconds(1)) < target);
}

RC_GTEST_PROP(Clock, InverseIsExactOverRandomHistories, ()) {
  const auto initial_ppb = *rc::gen::inRange<std::int64_t>(-500'000'000, 500'000'001);
  NodeClock clock(nanoseconds(*rc::gen::inRange<std::int64_t>(-1'000'000, 1'000'000)),
                  static_cast<double>(initial_ppb) / 1e3);
  const auto steps = *rc::gen::container<std::vector<ClockStep>>(gen_step());
  Nanos now = Nanos::zero();
  Nanos last_mono = clock.monotonic(now);
  for (const ClockStep& step : steps) {
    now += nanoseconds(step.advance_ns);
    const Nanos mono = clock.monotonic(now);
    RC_ASSERT(mono >= last_mono);  // never goes backwards
    if (!clock.paused()) RC_ASSERT(mono > last_mono || step.advance_ns < 2);
    last_mono = mono;
    if (step.action == 1) clock.set_drift(now, static_cast<double>(step.drift_ppb) / 1e3);
    if (step.action == 2) clock.jump(nanoseconds(step.jump_ns));
    if (step.action == 3) clock.paused() ? clock.resume(now) : clock.pause(now);
    RC_ASSERT(clock.monotonic(now) == mono);  // no change moves the monotonic reading
    RC_ASSERT(clock.wall(now) == mono + clock.offset());
    check_inverse_law(clock, now, *rc::gen::inRange<std::int64_t>(-10, 10'000'000'000));
    check_inverse_law(clock, now, *rc::gen::inRange<std::int64_t>(0, 3));
  }
}

}  // namespace
}  // namespace clock_test
}  // namespace lockstep::sim
