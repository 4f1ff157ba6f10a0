// What `lockstep fuzz` prints about a sweep's results, the same whether the results come from
// the runs just made or from merged --json files (`lockstep fuzz --merge`).
#pragma once

#include <string>

#include "harness/fuzz.h"
#include "harness/fuzz_results.h"

namespace lockstep::cli {

// "raft,paxos on 3,5 servers, 30s simulated each, 10 clients, every nemesis kind".
std::string describe_sweep(const harness::FuzzSettings& settings);

// A failing run: "FAIL name: property: detail", further failures, its profile and its trace
// (without the line that says how to reproduce it).
std::string describe_failure(const harness::FuzzSettings& settings,
                             const harness::FuzzRecord& record);

// "result     N runs: ..." and the failures-by-property table when there are failures.
std::string describe_totals(const harness::FuzzOutcome& outcome);

// 1h02m, 10m00s, 42s, 2.5s: a wall time for people.
std::string format_wall_seconds(double seconds);

}  // namespace lockstep::cli
