// Assertions stay on in every build and say what failed: the expression and both operands.
#include "core/assert.h"

#include <gtest/gtest.h>

#include <string>

#include "core/types.h"

namespace lockstep {
namespace {

// Passed through a function so that the compiler cannot fold the comparisons away.
[[gnu::noinline]] void assert_less(std::int64_t a, std::int64_t b) { LS_ASSERT_LT(a, b); }
[[gnu::noinline]] void assert_equal_nanos(Nanos a, Nanos b) { LS_ASSERT_EQ(a, b); }
[[gnu::noinline]] void assert_equal_strings(const std::string& a, const std::string& b) {
  LS_ASSERT_EQ(a, b);
}

TEST(Assert, PassingComparisonsDoNothing) {
  assert_less(1, 2);
  assert_equal_nanos(Nanos{5}, Nanos{5});
  assert_equal_strings("x", "x");
}

// Small operands travel by value to the failure branch, large ones by reference: both print.
TEST(AssertDeathTest, FailedComparisonNamesTheExpressionAndBothOperands) {
  EXPECT_DEATH(assert_less(7, 3), "a < b.*left = 7, right = 3");
  EXPECT_DEATH(assert_equal_strings("lock/a", "lock/b"), "a == b.*left = lock/a, right = lock/b");
}

TEST(AssertDeathTest, FailedPlainAssertionNamesTheCondition) {
  EXPECT_DEATH(LS_ASSERT(1 + 1 == 3), "1 \\+ 1 == 3");
}

}  // namespace
}  // namespace lockstep
