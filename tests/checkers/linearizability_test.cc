// The linearizability checker on small hand-written histories: real-time order (Herlihy & Wing
// 1990, section 2), unknown and failed outcomes, P-compositionality per key (section 3.3), the
// kv model's appends, the budget, and what the explanation of a violation names.
#include "checkers/linearizability.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "checkers/history_formats.h"

namespace lockstep::checkers {
namespace linearizability_test {
namespace {

Value v(std::int64_t i) { return Value{i}; }
Value s(const char* text) { return Value{std::string(text)}; }
const Value nil{};

struct Call {
  std::string f;
  std::vector<Value> args;
  Value result;
  std::int64_t call = 0;
  std::int64_t ret = 0;
  Outcome outcome = Outcome::ok;
  std::string key;
};

History history(const std::vector<Call>& calls) {
  History h;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const Call& c = calls[i];
    Operation op;
    op.process = static_cast<std::uint32_t>(i);
    op.f = c.f;
    op.args = c.args;
    op.result = c.result;
    op.call = Nanos{c.call};
    op.ret = Nanos{c.ret};
    op.outcome = c.outcome;
    op.key = c.key;
    op.origin = fmt::format("/operations/{}", i);
    h.operations.push_back(op);
  }
  return h;
}

Verdict check(const std::vector<Call>& calls, ModelKind model = ModelKind::register_) {
  return check_linearizability(history(calls), model).verdict;
}

constexpr Verdict kYes = Verdict::linearizable;
constexpr Verdict kNo = Verdict::not_linearizable;

TEST(Lincheck, EmptyHistoryIsLinearizable) {
  const CheckResult r = check_linearizability(History{}, ModelKind::register_);
  EXPECT_EQ(r.verdict, kYes);
  EXPECT_EQ(r.keys, 0u);
}

TEST(Lincheck, ReadAfterACompletedWriteMustSeeIt) {
  EXPECT_EQ(check({{"write", {v(1)}, nil, 0, 1}, {"read", {}, v(1), 2, 3}}), kYes);
  EXPECT_EQ(check({{"write", {v(1)}, nil, 0, 1}, {"read", {}, nil, 2, 3}}), kNo);
  EXPECT_EQ(check({{"read", {}, nil, 0, 1}}), kYes);  // initially nil
}

TEST(Lincheck, ReadsConcurrentWithAWriteSeeOldThenNewButNeverNewThenOld) {
  EXPECT_EQ(check({{"write", {v(1)}, nil, 0, 10}, {"read", {}, nil, 1, 2}, {"read", {}, v(1), 3, 4}}),
            kYes);
  EXPECT_EQ(check({{"write", {v(1)}, nil, 0, 10}, {"read", {}, v(1), 1, 2}, {"read", {}, nil, 3, 4}}),
            kNo);
}

TEST(Lincheck, IntervalsThatTouchAreConcurrent) {
  // The read is called at the instant the write returns: either order is allowed.
  EXPECT_EQ(check({{"write", {v(1)}, nil, 0, 5}, {"read", {}, nil, 5, 6}}), kYes);
  EXPECT_EQ(check({{"write", {v(1)}, nil, 0, 5}, {"read", {}, nil, 6, 7}}), kNo);
}

TEST(Lincheck, UnknownOutcomeMayTakeEffectAnyTimeAfterItsCallOrNever) {
  const Outcome unknown = Outcome::unknown;
  // Seen long after the client gave up at 1.
  EXPECT_EQ(check({{"write", {v(1)}, nil, 0, 1, unknown}, {"read", {}, nil, 2, 3}, {"read", {}, v(1), 10, 11}}),
            kYes);
  // Never seen.
  EXPECT_EQ(check({{"write", {v(1)}, nil, 0, 1, unknown}, {"read", {}, nil, 100, 101}}), kYes);
  // Seen, then unseen: it took effect once or not at all.
  EXPECT_EQ(check({{"write", {v(1)}, nil, 0, 1, unknown}, {"read", {}, v(1), 2, 3}, {"read", {}, nil, 4, 5}}),
            kNo);
  // Never before its call.
  EXPECT_EQ(check({{"read", {}, v(1), 0, 1}, {"write", {v(1)}, nil, 2, 3, unknown}}), kNo);
}

TEST(Lincheck, FailedCasIsTheObservationThatTheValueDiffered) {
  const Outcome failed = Outcome::failed;
  EXPECT_EQ(check({{"write", {v(1)}, nil, 0, 1}, {"cas", {v(1), v(2)}, nil, 2, 3, failed}}), kNo);
  EXPECT_EQ(check({{"write", {v(1)}, nil, 0, 1}, {"cas", {v(3), v(2)}, nil, 2, 3, failed}}), kYes);
  // A concurrent write of 3 lets it have seen 3.
  EXPECT_EQ(check({{"write", {v(1)}, nil, 0, 1},
                   {"write", {v(3)}, nil, 2, 3},
                   {"cas", {v(1), v(2)}, nil, 2, 4, failed}}),
            kYes);
  // It changed nothing.
  EXPECT_EQ(check({{"cas", {nil, v(2)}, nil, 0, 1, failed}, {"read", {}, v(2), 2, 3}}), kNo);
}

TEST(Lincheck, OkCasNeedsItsExpectedValueAndSetsTheNewOne) {
  EXPECT_EQ(check({{"write", {v(1)}, nil, 0, 1}, {"cas", {v(1), v(2)}, nil, 2, 3}, {"read", {}, v(2), 4, 5}}),
            kYes);
  EXPECT_EQ(check({{"write", {v(1)}, nil, 0, 1}, {"cas", {v(3), v(2)}, nil, 2, 3}}), kNo);
}

TEST(Lincheck, FailedWriteHasNoEffect) {
  const Outcome failed = Outcome::failed;
  EXPECT_EQ(check({{"write", {v(1)}, nil, 0, 1, failed}, {"read", {}, nil, 2, 3}}), kYes);
  EXPECT_EQ(check({{"write", {v(1)}, nil, 0, 1, failed}, {"read", {}, v(1), 2, 3}}), kNo);
}

TEST(Lincheck, KeysAreIndependentObjects) {
  // As one register this would be a new-old inversion; as two it is fine.
  const std::vector<Call> calls = {{"write", {v(1)}, nil, 0, 1, Outcome::ok, "x"},
                                   {"read", {}, v(1), 2, 3, Outcome::ok, "x"},
                                   {"read", {}, nil, 4, 5, Outcome::ok, "y"}};
  const CheckResult r = check_linearizability(history(calls), ModelKind::register_);
  EXPECT_EQ(r.verdict, kYes);
  EXPECT_EQ(r.keys, 2u);
  const std::vector<Call> bad = {{"write", {v(1)}, nil, 0, 1, Outcome::ok, "x"},
                                 {"read", {}, nil, 2, 3, Outcome::ok, "y"},
                                 {"write", {v(1)}, nil, 0, 1, Outcome::ok, "y"},
                                 {"read", {}, nil, 2, 3, Outcome::ok, "y"}};
  const CheckResult rb = check_linearizability(history(bad), ModelKind::register_);
  EXPECT_EQ(rb.verdict, kNo);
  ASSERT_TRUE(rb.failed_key.has_value());
  EXPECT_EQ(*rb.failed_key, "y");
}

TEST(Lincheck, KvAppendsConcatenateInTheOrderGetsSaw) {
  const ModelKind kv = ModelKind::kv;
  const std::vector<Call> both = {{"append", {s("a")}, nil, 0, 10}, {"append", {s("b")}, nil, 0, 10}};
  auto with = [&](std::vector<Call> gets) {
    std::vector<Call> calls = both;
    calls.insert(calls.end(), gets.begin(), gets.end());
    return calls;
  };
  EXPECT_EQ(check(with({{"get", {}, s("ba"), 11, 12}}), kv), kYes);
  EXPECT_EQ(check(with({{"get", {}, s("ab"), 11, 12}}), kv), kYes);
  EXPECT_EQ(check(with({{"get", {}, s("b"), 1, 2}, {"get", {}, s("ab"), 11, 12}}), kv), kNo);
  EXPECT_EQ(check(with({{"get", {}, s("aa"), 11, 12}}), kv), kNo);
  // A missing key reads as "" (or nil), and a put replaces the whole string.
  EXPECT_EQ(check({{"get", {}, nil, 0, 1}, {"get", {}, s(""), 2, 3}}, kv), kYes);
  EXPECT_EQ(check({{"append", {s("a")}, nil, 0, 1}, {"put", {s("x")}, nil, 2, 3}, {"get", {}, s("x"), 4, 5}}, kv),
            kYes);
  // A string reached by appends equals the same string put directly.
  EXPECT_EQ(check({{"put", {s("ab")}, nil, 0, 1},
                   {"cas", {s("ab"), s("c")}, nil, 2, 3},
                   {"append", {s("a")}, nil, 4, 5},
                   {"append", {s("b")}, nil, 6, 7},
                   {"cas", {s("cab"), s("d")}, nil, 8, 9},
                   {"get", {}, s("d"), 10, 11}},
                  kv),
            kYes);
}

TEST(Lincheck, ReadOfAValueNothingCanWriteEndsTheSearchAtOnce) {
  // 60 concurrent writes and cas calls have 60! orders; none writes 9, so the read of 9 can never
  // fit, whatever the order. The register model says so and the search stops at once.
  std::vector<Call> calls;
  for (std::int64_t i = 0; i < 60; ++i) {
    calls.push_back(i % 2 == 0 ? Call{"write", {v(i % 5)}, nil, 0, 1000}
                               : Call{"cas", {v(i % 3), v(i % 5)}, nil, 0, 1000});
  }
  calls.push_back({"read", {}, v(9), 0, 1000});
  CheckOptions options;
  options.explain = false;
  const CheckResult r = check_linearizability(history(calls), ModelKind::register_, options);
  EXPECT_EQ(r.verdict, kNo);
  EXPECT_LT(r.search_steps, 100u);
}

TEST(Lincheck, ViolationNamesTheCallThatCannotBePlacedAndWhatItNeeded) {
  // The first stale read (index 3) ends the shortest illegal prefix; the later one is not named.
  const History h = history({{"write", {v(1)}, nil, 0, 10},
                             {"write", {v(2)}, nil, 0, 10},
                             {"write", {v(5)}, nil, 1, 30},
                             {"read", {}, v(3), 11, 12},
                             {"read", {}, v(4), 20, 21}});
  const CheckResult r = check_linearizability(h, ModelKind::register_);
  ASSERT_EQ(r.verdict, kNo);
  ASSERT_TRUE(r.violation.has_value()) << r.stopped;
  const Violation& violation = *r.violation;
  EXPECT_EQ(violation.operation, 3u);
  EXPECT_EQ(violation.needed, "the register to be 3");
  // After both writes returned, the register holds 1 or 2, or 5 if the concurrent write came last.
  EXPECT_EQ(violation.states, (std::vector<std::string>{"1", "2", "5"}));
  EXPECT_EQ(violation.prefix_calls, 4u);
  EXPECT_EQ(violation.prefix_completed, 3u);
  EXPECT_EQ(violation.context, (std::vector<std::size_t>{0, 1, 2, 3}));
}

TEST(Lincheck, ViolationContextShowsTheLastCallsBeforeIt) {
  std::vector<Call> calls;
  for (std::int64_t i = 0; i < 10; ++i) calls.push_back({"write", {v(i)}, nil, 2 * i, 2 * i + 1});
  calls.push_back({"read", {}, v(3), 100, 101});
  const CheckResult r = check_linearizability(history(calls), ModelKind::register_);
  ASSERT_TRUE(r.violation.has_value());
  EXPECT_EQ(r.violation->states, (std::vector<std::string>{"9"}));
  EXPECT_EQ(r.violation->context, (std::vector<std::size_t>{6, 7, 8, 9, 10}));
}

TEST(Lincheck, ExplanationCanBeSkipped) {
  CheckOptions options;
  options.explain = false;
  const CheckResult r = check_linearizability(
      history({{"write", {v(1)}, nil, 0, 1}, {"read", {}, nil, 2, 3}}), ModelKind::register_, options);
  EXPECT_EQ(r.verdict, kNo);
  EXPECT_FALSE(r.violation.has_value());
  EXPECT_EQ(r.failed_key, "");
}

History etcd_002() {
  std::ifstream in(std::string(LOCKSTEP_SOURCE_DIR) + "/tests/data/linearizability/jepsen/etcd_002.log");
  std::ostringstream text;
  text << in.rdbuf();
  HistoryResult parsed = parse_jepsen_etcd(text.str());
  EXPECT_TRUE(std::holds_alternative<LoadedHistory>(parsed));
  return std::get<LoadedHistory>(parsed).history;
}

TEST(Lincheck, ExhaustedStepBudgetGivesUnknownNeverAHang) {
  CheckOptions options;
  options.search_steps_max = 1000;
  const CheckResult r = check_linearizability(etcd_002(), ModelKind::register_, options);
  EXPECT_EQ(r.verdict, Verdict::unknown);
  EXPECT_NE(r.stopped.find("the budget of 1000 search steps ran out on key \"\""), std::string::npos)
      << r.stopped;
}

TEST(Lincheck, StateLimitAndStopRequestGiveUnknown) {
  CheckOptions states;
  states.search_states_max = 100;
  const CheckResult by_states = check_linearizability(etcd_002(), ModelKind::register_, states);
  EXPECT_EQ(by_states.verdict, Verdict::unknown);
  EXPECT_NE(by_states.stopped.find("the limit of 100 memoised states"), std::string::npos);

  CheckOptions stop;
  int polls = 0;
  stop.stop_requested = [&polls] { return ++polls >= 2; };
  const CheckResult by_stop = check_linearizability(etcd_002(), ModelKind::register_, stop);
  EXPECT_EQ(by_stop.verdict, Verdict::unknown);
  EXPECT_NE(by_stop.stopped.find("the time limit"), std::string::npos);
  EXPECT_EQ(polls, 2);
}

TEST(Lincheck, KeysAfterOneThatHitTheStateLimitAreStillChecked) {
  // "hard" (77 calls) is searched first, as the smaller key, and hits the state limit; the
  // violation in "bad" (81 calls) is still found.
  History h = etcd_002();
  for (Operation& op : h.operations) op.key = "hard";
  std::vector<Call> bad;
  for (std::int64_t i = 0; i < 80; ++i) bad.push_back({"write", {v(i)}, nil, 2 * i, 2 * i + 1, Outcome::ok, "bad"});
  bad.push_back({"read", {}, v(3), 200, 201, Outcome::ok, "bad"});
  const History b = history(bad);
  h.operations.insert(h.operations.end(), b.operations.begin(), b.operations.end());
  CheckOptions options;
  options.search_states_max = 100;
  const CheckResult r = check_linearizability(h, ModelKind::register_, options);
  EXPECT_EQ(r.verdict, kNo);
  EXPECT_EQ(r.failed_key, "bad");
  EXPECT_EQ(r.keys_searched, 2u);
}

}  // namespace
}  // namespace linearizability_test
}  // namespace lockstep::checkers
