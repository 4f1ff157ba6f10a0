// How a run's property verdicts add up to its outcome: a pass has to be shown (an unknown
// verdict or a run cut short by the event limit is not one), and an expected violation is judged
// by its own property.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "harness/run.h"

namespace lockstep::harness {
namespace run_outcome_test {
namespace {

std::vector<PropertyVerdict> verdicts(Verdict linearizability, Verdict mutual_exclusion) {
  return {PropertyVerdict{Property::linearizability, linearizability, ""},
          PropertyVerdict{Property::mutual_exclusion, mutual_exclusion, ""},
          PropertyVerdict{Property::watch_delivery, Verdict::not_applicable, ""}};
}

TEST(RunOutcome, AllPassOrNotApplicableIsAPass) {
  const PropertyOutcome o =
      judge_properties(verdicts(Verdict::pass, Verdict::pass), std::nullopt, true);
  EXPECT_EQ(o.observed, "pass");
  EXPECT_TRUE(o.as_expected);
}

TEST(RunOutcome, UnknownVerdictLeavesAnExpectedPassUndecided) {
  const PropertyOutcome o =
      judge_properties(verdicts(Verdict::unknown, Verdict::pass), std::nullopt, true);
  EXPECT_EQ(o.observed, "undecided: linearizability unknown");
  EXPECT_FALSE(o.as_expected);
}

TEST(RunOutcome, EventLimitLeavesAnExpectedPassIncomplete) {
  const PropertyOutcome o =
      judge_properties(verdicts(Verdict::pass, Verdict::pass), std::nullopt, false);
  EXPECT_EQ(o.observed, "incomplete (event limit)");
  EXPECT_FALSE(o.as_expected);
}

TEST(RunOutcome, FailuresAreListedInPropertyOrder) {
  const PropertyOutcome o =
      judge_properties(verdicts(Verdict::fail, Verdict::fail), std::nullopt, true);
  EXPECT_EQ(o.observed, "violation of linearizability, mutual_exclusion");
  EXPECT_FALSE(o.as_expected);
}

TEST(RunOutcome, ExpectedViolationIsJudgedByItsOwnProperty) {
  EXPECT_TRUE(judge_properties(verdicts(Verdict::unknown, Verdict::fail),
                               Property::mutual_exclusion, true)
                  .as_expected);
  EXPECT_TRUE(judge_properties(verdicts(Verdict::pass, Verdict::fail), Property::mutual_exclusion,
                               false)
                  .as_expected);
  const PropertyOutcome wrong = judge_properties(verdicts(Verdict::fail, Verdict::pass),
                                                 Property::mutual_exclusion, true);
  EXPECT_EQ(wrong.observed, "violation of linearizability");
  EXPECT_FALSE(wrong.as_expected);
}

}  // namespace
}  // namespace run_outcome_test
}  // namespace lockstep::harness
