// The lock service's models (checkers/lock_models.h) under the linearizability checker: small
// histories a broken model or a broken service would get wrong. Chubby (Burrows 2006) section
// 2.4 for sequencers; ZooKeeper's versions for the namespace.
#include "checkers/lock_models.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "checkers/history_formats.h"
#include "checkers/linearizability.h"

namespace lockstep::checkers {
namespace lock_models_test {
namespace {

Value v(std::int64_t i) { return Value{i}; }
Value s(const char* text) { return Value{std::string(text)}; }
const Value nil{};

struct Call {
  std::uint32_t process = 0;
  std::string f;
  std::vector<Value> args;
  Value result;
  std::int64_t call = 0;
  std::int64_t ret = 0;
  Outcome outcome = Outcome::ok;
  std::string key = "/ls/local/locks/lock0";
};

History history(const std::vector<Call>& calls) {
  History h;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const Call& c = calls[i];
    h.operations.push_back(Operation{c.process, c.key, c.f, c.args, c.result, c.outcome,
                                     Nanos{c.call}, Nanos{c.ret}, fmt::format("/operations/{}", i)});
  }
  return h;
}

Verdict check(const std::vector<Call>& calls, ModelKind model) {
  const History h = history(calls);
  for (const Operation& op : h.operations) {
    const auto problem = check_operation(model, op);
    EXPECT_FALSE(problem.has_value()) << op.f << ": " << (problem ? problem->expected : "");
  }
  return check_linearizability(h, model).verdict;
}

constexpr Verdict kYes = Verdict::linearizable;
constexpr Verdict kNo = Verdict::not_linearizable;
constexpr ModelKind kLock = ModelKind::lock;
constexpr ModelKind kNode = ModelKind::namespace_;

Call acquire(std::uint32_t owner, std::int64_t generation, std::int64_t call, std::int64_t ret,
             const char* mode = "exclusive") {
  return Call{owner, "acquire", {s(mode), v(owner)}, v(generation), call, ret};
}
Call release(std::uint32_t owner, std::int64_t call, std::int64_t ret,
             Outcome outcome = Outcome::ok, Value result = nil) {
  return Call{owner, "release", {v(owner)}, std::move(result), call, ret, outcome};
}

TEST(LockModel, ExclusiveGrantsInTurnAreLinearizable) {
  EXPECT_EQ(check({acquire(1, 10, 0, 5), release(1, 6, 8), acquire(2, 12, 7, 20), release(2, 21, 22)},
                  kLock),
            kYes);
}

TEST(LockModel, DoubleExclusiveGrantIsNotLinearizable) {
  // Both grants returned before either holder released: two holders at once.
  EXPECT_EQ(check({acquire(1, 10, 0, 5), acquire(2, 12, 1, 6), release(1, 7, 8), release(2, 7, 9)},
                  kLock),
            kNo);
}

TEST(LockModel, SharedGrantsCoexistButNotWithExclusive) {
  EXPECT_EQ(check({acquire(1, 10, 0, 5, "shared"), acquire(2, 12, 1, 6, "shared")}, kLock), kYes);
  EXPECT_EQ(check({acquire(1, 10, 0, 5, "shared"), acquire(2, 12, 1, 6, "exclusive")}, kLock), kNo);
}

TEST(LockModel, GrantWithNonIncreasingGenerationIsNotLinearizable) {
  // The second grant comes after the first in real time but carries an older sequencer: a
  // resource checking sequencers would reject the new holder.
  EXPECT_EQ(check({acquire(1, 10, 0, 5), release(1, 6, 7), acquire(2, 10, 8, 9)}, kLock), kNo);
  EXPECT_EQ(check({acquire(1, 10, 0, 5), release(1, 6, 7), acquire(2, 9, 8, 9)}, kLock), kNo);
  // Concurrent shared grants are ordered by their generations; in real-time order they must
  // grow.
  EXPECT_EQ(check({acquire(1, 12, 0, 5, "shared"), acquire(2, 9, 0, 5, "shared")}, kLock), kYes);
  EXPECT_EQ(check({acquire(1, 12, 0, 2, "shared"), acquire(2, 9, 3, 5, "shared")}, kLock), kNo);
}

TEST(LockModel, LongWaitIsLinearizedAtItsGrant) {
  // Client 2 asked while 1 held the lock and was granted after 1 released: its interval spans
  // the whole hold, and it is placed at the end of it.
  EXPECT_EQ(check({acquire(1, 10, 0, 2), acquire(2, 30, 1, 100), release(1, 50, 60)}, kLock), kYes);
  // But a grant returned before the holder's release was even called is a double grant.
  EXPECT_EQ(check({acquire(1, 10, 0, 2), acquire(2, 30, 1, 40), release(1, 50, 60)}, kLock), kNo);
}

TEST(LockModel, ReleaseByNonHolderIsAnObservation) {
  // An ok release by a session that holds nothing is impossible...
  EXPECT_EQ(check({release(3, 0, 5)}, kLock), kNo);
  // ... a failed one (not_held) fits only while it holds nothing.
  EXPECT_EQ(check({release(3, 0, 5, Outcome::failed, s("not_held"))}, kLock), kYes);
  EXPECT_EQ(check({acquire(3, 10, 0, 2), release(3, 3, 5, Outcome::failed, s("not_held"))}, kLock),
            kNo);
}

TEST(LockModel, ExpiryReleasesWithoutAClientCall) {
  const Call expire{99, "expire", {v(1)}, nil, 10, 10};
  // Without the expiry the second grant would be a double grant.
  EXPECT_EQ(check({acquire(1, 10, 0, 5), acquire(2, 20, 6, 30)}, kLock), kNo);
  EXPECT_EQ(check({acquire(1, 10, 0, 5), expire, acquire(2, 20, 6, 30)}, kLock), kYes);
  // An expiry after the second grant returned does not excuse it.
  Call late = expire;
  late.call = late.ret = 40;
  EXPECT_EQ(check({acquire(1, 10, 0, 5), late, acquire(2, 20, 6, 30)}, kLock), kNo);
}

TEST(LockModel, UnknownGrantMayOrMayNotHaveHappened) {
  Call lost = acquire(1, 0, 0, 5);
  lost.outcome = Outcome::unknown;
  lost.result = nil;
  EXPECT_EQ(check({lost, acquire(2, 20, 6, 30)}, kLock), kYes);
  // If it happened, owner 1 may release it.
  EXPECT_EQ(check({lost, release(1, 6, 7)}, kLock), kYes);
}

TEST(LockModel, LocksAreIndependent) {
  Call other = acquire(2, 12, 1, 6);
  other.key = "/ls/local/locks/lock1";
  EXPECT_EQ(check({acquire(1, 10, 0, 5), other}, kLock), kYes);
}

Call node(const char* f, std::vector<Value> args, Value result, std::int64_t call, std::int64_t ret,
          Outcome outcome = Outcome::ok) {
  return Call{0, f, std::move(args), std::move(result), call, ret, outcome, "/ls/local/config/key0"};
}

TEST(NamespaceModel, VersionsCountWrites) {
  EXPECT_EQ(check({node("create", {s("")}, nil, 0, 1), node("set", {s("a")}, v(1), 2, 3),
                   node("cas", {s("b"), v(1)}, v(2), 4, 5), node("get", {}, s("b"), 6, 7)},
                  kNode),
            kYes);
  // A set that claims version 2 right after creation skipped one.
  EXPECT_EQ(check({node("create", {s("")}, nil, 0, 1), node("set", {s("a")}, v(2), 2, 3)}, kNode),
            kNo);
}

TEST(NamespaceModel, StaleReadIsNotLinearizable) {
  // "a" was overwritten by "b" before the get was invoked: reading "a" is a stale read.
  EXPECT_EQ(check({node("create", {s("")}, nil, 0, 1), node("set", {s("a")}, v(1), 2, 3),
                   node("set", {s("b")}, v(2), 4, 5), node("get", {}, s("a"), 6, 7)},
                  kNode),
            kNo);
  // Concurrent with the overwrite it may read either.
  EXPECT_EQ(check({node("create", {s("")}, nil, 0, 1), node("set", {s("a")}, v(1), 2, 3),
                   node("set", {s("b")}, v(2), 4, 8), node("get", {}, s("a"), 6, 7)},
                  kNode),
            kYes);
}

TEST(NamespaceModel, CasNeedsTheExpectedVersion) {
  EXPECT_EQ(check({node("create", {s("")}, nil, 0, 1), node("cas", {s("a"), v(3)}, v(4), 2, 3)}, kNode),
            kNo);
  // A version mismatch observed a version other than the expected one.
  EXPECT_EQ(check({node("create", {s("")}, nil, 0, 1),
                   node("cas", {s("a"), v(0)}, s("version_mismatch"), 2, 3, Outcome::failed)},
                  kNode),
            kNo);
  EXPECT_EQ(check({node("create", {s("")}, nil, 0, 1), node("set", {s("x")}, v(1), 2, 3),
                   node("cas", {s("a"), v(0)}, s("version_mismatch"), 4, 5, Outcome::failed)},
                  kNode),
            kYes);
}

TEST(NamespaceModel, CreateDeleteAndAbsence) {
  EXPECT_EQ(check({node("create", {s("")}, nil, 0, 1), node("create", {s("")}, nil, 2, 3)}, kNode), kNo);
  EXPECT_EQ(check({node("create", {s("")}, nil, 0, 1),
                   node("create", {s("")}, s("node_exists"), 2, 3, Outcome::failed)},
                  kNode),
            kYes);
  EXPECT_EQ(check({node("create", {s("")}, nil, 0, 1), node("get", {}, s("no_node"), 2, 3, Outcome::failed)},
                  kNode),
            kNo);
  EXPECT_EQ(check({node("create", {s("")}, nil, 0, 1), node("delete", {}, nil, 2, 3),
                   node("get", {}, s("no_node"), 4, 5, Outcome::failed)},
                  kNode),
            kYes);
}

TEST(LockServiceModel, ChecksLocksAndNodesEachWithItsModel) {
  std::vector<Call> calls = {acquire(1, 10, 0, 5), node("create", {s("")}, nil, 0, 1),
                             node("get", {}, s(""), 2, 3)};
  EXPECT_EQ(check(calls, ModelKind::lock_service), kYes);
  calls.push_back(acquire(2, 12, 6, 7));  // double grant
  const CheckResult r = check_linearizability(history(calls), ModelKind::lock_service);
  ASSERT_EQ(r.verdict, kNo);
  ASSERT_TRUE(r.violation.has_value());
  EXPECT_EQ(r.violation->operation, 3u);
  EXPECT_NE(r.violation->needed.find("to be free"), std::string::npos) << r.violation->needed;
}

TEST(LockModel, OperationsOutsideTheModelAreRejected) {
  EXPECT_TRUE(check_operation(kLock, Operation{0, "k", "acquire", {s("both"), v(1)}, nil}).has_value());
  EXPECT_TRUE(check_operation(kLock, Operation{0, "k", "release", {}, nil}).has_value());
  EXPECT_TRUE(check_operation(kLock, Operation{0, "k", "get", {}, nil}).has_value());
  EXPECT_TRUE(check_operation(kNode, Operation{0, "k", "cas", {s("a")}, nil}).has_value());
  EXPECT_FALSE(check_operation(ModelKind::lock_service, Operation{0, "k", "get", {}, s("x")}).has_value());
}

TEST(LockModel, LockstepFormatNamesTheModels) {
  const auto loaded = parse_lockstep_history(
      R"({"lockstep_history": 1, "model": "lock", "operations": [
           {"process": 0, "key": "L", "f": "acquire", "args": ["exclusive", 1], "result": 10,
            "outcome": "ok", "call_ns": 0, "return_ns": 5},
           {"process": 1, "key": "L", "f": "release", "args": [2], "result": "not_held",
            "outcome": "failed", "call_ns": 6, "return_ns": 7}]})",
      std::nullopt);
  ASSERT_TRUE(std::holds_alternative<LoadedHistory>(loaded));
  EXPECT_EQ(std::get<LoadedHistory>(loaded).model, ModelKind::lock);
  const auto bad = parse_lockstep_history(
      R"({"lockstep_history": 1, "model": "lock", "operations": [
           {"process": 0, "f": "acquire", "args": ["exclusive"], "outcome": "ok", "call_ns": 0,
            "return_ns": 5}]})",
      std::nullopt);
  ASSERT_TRUE(std::holds_alternative<FormatError>(bad));
  EXPECT_NE(std::get<FormatError>(bad).message.find("/operations/0/args"), std::string::npos)
      << std::get<FormatError>(bad).message;
}

}  // namespace
}  // namespace lock_models_test
}  // namespace lockstep::checkers
