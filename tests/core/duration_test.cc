#include "core/duration.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace lockstep {
namespace duration_test {
namespace {

TEST(Duration, ParsesEveryUnit) {
  EXPECT_EQ(parse_duration("10ns"), nanoseconds(10));
  EXPECT_EQ(parse_duration("250us"), microseconds(250));
  EXPECT_EQ(parse_duration("150ms"), milliseconds(150));
  EXPECT_EQ(parse_duration("2s"), seconds(2));
  EXPECT_EQ(parse_duration("1m"), seconds(60));
  EXPECT_EQ(parse_duration("1h"), seconds(3600));
}

TEST(Duration, ParsesFractionsExactly) {
  EXPECT_EQ(parse_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(parse_duration("0.25ms"), microseconds(250));
  EXPECT_EQ(parse_duration(".5s"), milliseconds(500));
}

TEST(Duration, RejectsWhatIsNotADurationWithUnit) {
  for (const char* bad : {"", "150", "ms", "-1s", "1.5.2s", "1.s", "10 ms", "10sec", "1e3ms",
                          "0.5ns", "99999999999999999999s", "10000000000000s"}) {
    EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
  }
}

TEST(Duration, FormatsShortestWithUnit) {
  EXPECT_EQ(format_duration(milliseconds(150)), "150ms");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(format_duration(nanoseconds(7)), "7ns");
  EXPECT_EQ(format_duration(Nanos::zero()), "0s");
  EXPECT_EQ(format_duration(microseconds(1001)), "1.001ms");
}

RC_GTEST_PROP(Duration, FormatRoundTrips, (std::int64_t raw)) {
  const Nanos d{raw < 0 ? -(raw + 1) : raw};
  RC_ASSERT(parse_duration(format_duration(d)) == std::optional<Nanos>(d));
}

}  // namespace
}  // namespace duration_test
}  // namespace lockstep
