// One run of one scenario over one protocol: build the world (servers hosting replicas, clients
// running the workload), apply the fault schedule and the random nemesis, check every property,
// and compare the outcome with what the scenario expects.
//
// Timeline of a run of duration D:
//   [0, D)        clients run their workload; scripted faults and the nemesis fire;
//   D             every fault still in force is undone (heal, resume, restart; see heal_all);
//   [D, D + L]    the settle window, L = checks.liveness_bound: no new requests start, calls in
//                 progress must finish; then the final checks run.
// The protocol's invariants are checked after every simulated event; the first violation stops
// the run there, so the trace ends at the bug.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "checkers/history.h"
#include "harness/faults.h"
#include "harness/run_timeline.h"
#include "harness/scenario.h"
#include "sim/world.h"

namespace lockstep::harness {

enum class Verdict : std::uint8_t {
  pass,
  fail,
  not_applicable,  // the workload gives this property nothing to judge
  unknown,         // the check gave up within its budget: neither shown to hold nor broken
};
std::string_view to_string(Verdict verdict);

struct PropertyVerdict {
  Property property;
  Verdict verdict = Verdict::pass;
  std::string detail;  // what was checked, or what broke
};

// What the property verdicts add up to, against the verdict the scenario expects: `observed` is
// "pass", "violation of <property>[, <property>]", "undecided: <property> unknown" (a check ran
// out of budget and no property failed) or "incomplete (event limit)". A run that expects a
// pass must show one: an undecided or incomplete run is not as expected. A run that expects a
// violation is as expected when that property failed, whatever the others say.
struct PropertyOutcome {
  std::string observed;
  bool as_expected = false;
};
PropertyOutcome judge_properties(const std::vector<PropertyVerdict>& verdicts,
                                 const std::optional<Property>& expected_violation, bool finished);

// The expectation on leader changes (Expectation::leader_changes_min/max), judged like a
// property and shown as its own row.
struct LeadershipVerdict {
  Verdict verdict = Verdict::pass;  // pass or fail
  std::uint64_t leader_changes = 0;  // counted from Expectation::leader_changes_after
  // "37 leader changes after 2s (expected at least 10 leader changes after 2s)"
  std::string detail;
};

// Invoke-to-return times of successful calls, true time.
struct LatencySummary {
  std::uint64_t count = 0;
  Nanos p50;
  Nanos p99;
  Nanos max;
};
LatencySummary summarize_latencies(std::vector<Nanos> latencies);

struct ClientStats {
  std::uint32_t clients = 0;
  std::uint64_t calls = 0;
  std::uint64_t ok = 0;
  std::uint64_t unknown = 0;
  // Of acknowledged calls that do not wait by design (an acquire or a campaign waits for other
  // clients, not for the service), invoke to acknowledgement, true time.
  Nanos latency_p50;
  Nanos latency_p99;
  Nanos latency_max;
  // Per operation ("acquire", "release", "set", ...; lock-service runs), every successful call,
  // waiting ones included.
  std::map<std::string, LatencySummary> operations;
};

struct RunResult {
  std::string scenario;
  std::string protocol;
  std::uint64_t seed = 0;
  Nanos duration;           // the scenario's duration
  Nanos simulated;          // how far true time got (duration + settle, or less if stopped)
  sim::StopReason stop = sim::StopReason::time_reached;
  std::uint64_t events = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_delivered = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t trace_hash = 0;
  std::uint64_t leader_changes = 0;  // over the whole run, the first election excluded
  // What crashes took from the disks (sim/world.h): crashes that landed inside a sync window
  // (the server lost, or found torn, data it had been told was synced), the unsynced bytes lost,
  // messages that died with their sender because the sync they waited for had not completed,
  // crashes that found any data not yet durable, and files left with a torn tail.
  std::uint64_t crashes_in_sync_window = 0;
  std::uint64_t unsynced_bytes_lost = 0;
  std::uint64_t messages_lost_in_crash = 0;
  std::uint64_t crashes_losing_unsynced = 0;
  std::uint64_t torn_tails = 0;
  std::vector<AppliedFault> faults;
  std::size_t faults_applied = 0;
  std::string nemesis;  // the nemesis profile, empty when off
  ClientStats clients;
  std::vector<PropertyVerdict> properties;
  // Lock runs: the calls on locks and nodes, and the service's expiries, as the history the
  // linearizability verdict checked (harness/lock_linearizability.h; model lock-service).
  std::optional<checkers::History> history;
  std::optional<LeadershipVerdict> leadership;  // when the scenario bounds leader changes
  // What a report draws (harness/run_timeline.h); only when RunOptions::collect_timeline.
  std::optional<RunTimeline> timeline;
  bool as_expected = false;
  // "pass" or "violation of <property>", then ", at least 10 leader changes after 2s" when the
  // scenario bounds them, then ", a crash inside a sync window" when it expects one.
  std::string expected;
  // "pass" or "violation of <property>[, <property>]", then ", 37 leader changes after 2s",
  // then ", 3 crashes inside a sync window".
  std::string observed;
};

struct RunOptions {
  std::optional<std::uint64_t> seed;  // overrides the scenario's seed
  std::string protocol;               // one of the scenario's protocols
  std::ostream* trace_sink = nullptr;  // JSON lines of every event, when set
  // Collect RunResult::timeline for a report. Off, the run pays nothing for it; on or off, the
  // run and its trace hash are the same.
  bool collect_timeline = false;
  std::size_t window_events = kWindowEventsDefault;  // the violation window's size, 1..1000
};

// Checks the scenario's option block of every protocol it names against the modules this build
// runs. Returns "FILE: /pointer: message" for the first problem, nullopt when all are usable.
std::optional<std::string> check_protocols(const Scenario& scenario, std::string_view file_label);

// Runs it. The scenario must have passed check_protocols for options.protocol.
RunResult run_scenario(const Scenario& scenario, const RunOptions& options);

}  // namespace lockstep::harness
