// The "append" client workload: each client appends to the replicated log, one request at a
// time, and retries a request (under the same request number) until it is acknowledged:
// following the server's leader hint on not_leader, moving to the next server on a timeout.
// Every call is recorded with true times for the checkers.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "core/types.h"
#include "harness/scenario.h"
#include "sim/fiber.h"

namespace lockstep::harness {

enum class CallOutcome : std::uint8_t {
  ok,       // acknowledged
  unknown,  // never acknowledged: it may or may not have taken effect
};

struct AppendCall {
  std::uint64_t client = 0;
  std::uint64_t request = 0;
  Nanos invoked;                  // true time of the first attempt
  std::optional<Nanos> returned;  // true time of the acknowledgement
  CallOutcome outcome = CallOutcome::unknown;
  std::uint64_t index = 0;        // where the log says it landed (ok only)
  std::uint32_t attempts = 0;
};

struct AppendHistory {
  std::vector<AppendCall> calls;
};

struct AppendClientSettings {
  std::uint32_t servers = 0;
  AppendWorkload workload;
  Nanos request_timeout;
  Nanos start;
  Nanos stop;  // true time after which no new request starts
  Nanos retry_backoff = milliseconds(10);
};

// A fiber body for one client. `true_now` reads the simulator's true time for the history (the
// client itself only ever reads its own clock); `history` must outlive the run.
sim::FiberBody append_client(AppendClientSettings settings, std::function<Nanos()> true_now,
                             AppendHistory* history);

}  // namespace lockstep::harness
