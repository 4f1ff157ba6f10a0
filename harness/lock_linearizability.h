// The linearizability verdict of a lock-service run: the calls the workloads made on locks and
// nodes (LockCall::model), with true call and return times, as a history for the checker
// (checkers/linearizability.h), checked per lock with the lock model and per node with the
// namespace model (checkers/lock_models.h).
//
// The service also ends holds without a client call: a committed ExpireSession or CloseSession
// releases the session's locks. Each one that applied becomes an `expire [session]` operation of
// a pseudo-process (kServiceProcess) on every lock that session called, with call = return = the
// true time of its first apply (LockHistory::applied): the grant a waiter got from that expiry
// came in the same apply, and its client heard of it later still.
#pragma once

#include <cstdint>

#include "checkers/history.h"
#include "checkers/linearizability.h"
#include "harness/lock_checks.h"
#include "harness/lock_history.h"

namespace lockstep::harness {

// The process of the service's own operations (expiries) in the history.
inline constexpr std::uint32_t kServiceProcess = 1'000'000;
// Search budget of the verdict in a run: enough for every scenario in scenarios/ by a wide
// margin; a history beyond it is judged `unknown`, never waited for.
inline constexpr std::uint64_t kRunSearchStepsMax = 50'000'000;
inline constexpr std::uint64_t kRunSearchStatesMax = 1'000'000;

// The history, in call order (model: checkers::ModelKind::lock_service).
checkers::History lock_service_history(const LockHistory& h);

LockCheck check_lock_linearizability(const checkers::History& history,
                                     std::uint64_t search_steps_max = kRunSearchStepsMax);

}  // namespace lockstep::harness
