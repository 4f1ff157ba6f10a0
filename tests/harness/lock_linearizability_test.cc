// A lock run's history for the linearizability check (harness/lock_linearizability.h): the
// workloads' calls become operations with their outcomes, the service's expiries become
// operations of the service pseudo-process, and the verdict names the call that cannot be placed
// or says unknown when its budget runs out.
#include "harness/lock_linearizability.h"

#include <gtest/gtest.h>

#include <string>

namespace lockstep::harness {
namespace lock_linearizability_test {
namespace {

using checkers::Outcome;
using checkers::Value;

constexpr const char* kLock = "/ls/local/locks/lock0";

LockCall acquire(std::uint32_t client, std::int64_t session, std::int64_t generation,
                 Nanos invoked, Nanos returned) {
  LockCall c{client, "acquire", invoked, returned, true, true, {}};
  c.model = ModelCall{"acquire", kLock, {Value{std::string("exclusive")}, Value{session}},
                      Value{generation}, Outcome::ok};
  return c;
}

AppliedRecord expiry(SessionId session, Nanos at, service::lock::Code code) {
  AppliedRecord r;
  r.index = 7;
  r.at = at;
  r.command = service::lock::ExpireSession{session, 0, 1};
  r.code = code;
  return r;
}

TEST(LockLinearizability, ExpiryReleasesTheHolderForTheNextGrant) {
  // Client 0 (session 11) takes the lock and never releases it; its session expires at 50ms and
  // client 1 (session 12), waiting since 20ms, is granted at the expiry.
  LockHistory h;
  h.calls.push_back(acquire(0, 11, 5, milliseconds(1), milliseconds(2)));
  h.calls.push_back(acquire(1, 12, 9, milliseconds(20), milliseconds(60)));
  const LockCheck without = check_lock_linearizability(lock_service_history(h));
  EXPECT_EQ(without.verdict, Verdict::fail);
  EXPECT_NE(without.detail.find("by client 1"), std::string::npos) << without.detail;

  // An expiry the service refused (the session kept alive) releases nothing.
  h.applied.push_back(expiry(SessionId{11}, milliseconds(50), service::lock::Code::lease_extended));
  EXPECT_EQ(check_lock_linearizability(lock_service_history(h)).verdict, Verdict::fail);

  h.applied.back().code = service::lock::Code::ok;
  const checkers::History history = lock_service_history(h);
  ASSERT_EQ(history.operations.size(), 3u);
  const checkers::Operation& expire = history.operations[2];  // in call order: 1ms, 20ms, 50ms
  EXPECT_EQ(expire.f, "expire");
  EXPECT_EQ(expire.process, kServiceProcess);
  EXPECT_EQ(expire.key, kLock);
  EXPECT_EQ(expire.call, milliseconds(50));
  EXPECT_EQ(expire.ret, milliseconds(50));
  const LockCheck with = check_lock_linearizability(history);
  EXPECT_EQ(with.verdict, Verdict::pass) << with.detail;
}

TEST(LockLinearizability, CallsWhoseClientDiedAreUnknown) {
  LockHistory h;
  LockCall died = acquire(0, 11, 5, milliseconds(1), milliseconds(2));
  died.returned.reset();
  h.calls.push_back(died);
  LockCall resource{0, "resource_write", milliseconds(3), milliseconds(4), true, false, {}};
  h.calls.push_back(resource);  // not a call on a lock or node: left out
  const checkers::History history = lock_service_history(h);
  ASSERT_EQ(history.operations.size(), 1u);
  EXPECT_EQ(history.operations[0].outcome, Outcome::unknown);
  EXPECT_EQ(history.operations[0].ret, Nanos::max());
  EXPECT_EQ(history.operations[0].result, Value{});
}

TEST(LockLinearizability, BudgetRunsOutAsUnknownNotAHang) {
  LockHistory h;
  for (std::uint32_t i = 0; i < 12; ++i) {
    // Twelve concurrent grants that all overlap: only one order of generations fits, but the
    // search needs more than a handful of steps to find it.
    LockCall c = acquire(i, 100 + i, 100 - i, milliseconds(1), milliseconds(100));
    c.model->args[0] = Value{std::string("shared")};
    h.calls.push_back(c);
  }
  const LockCheck enough = check_lock_linearizability(lock_service_history(h));
  EXPECT_EQ(enough.verdict, Verdict::pass) << enough.detail;
  const LockCheck starved = check_lock_linearizability(lock_service_history(h), 3);
  EXPECT_EQ(starved.verdict, Verdict::unknown) << starved.detail;
  EXPECT_NE(starved.detail.find("gave up"), std::string::npos) << starved.detail;
}

TEST(LockLinearizability, NoLockOrNodeCallsIsNotApplicable) {
  EXPECT_EQ(check_lock_linearizability(lock_service_history(LockHistory{})).verdict,
            Verdict::not_applicable);
}

}  // namespace
}  // namespace lock_linearizability_test
}  // namespace lockstep::harness
