// Shrinking a failing run (`lockstep shrink`): from a scenario that fails a property, a much
// smaller scenario that still fails the same property, ready to be kept as a regression test.
//
// First the random nemesis is written out as explicit faults (explicit_scenario): the plan is the
// one the run draws (harness/nemesis.h) from the same stream, Rng::derive(seed, "nemesis"), with
// the servers' baseline drifts the run's clocks start with, so the faults are the ones the run
// applies, in the same order, at the same nanoseconds. The injector schedules a scenario's faults
// the way the nemesis driver does, one at a time (harness/faults.h), so even against other events
// due at the same nanosecond (a heal and a crash's restart both due at the nemesis's stop) they
// fire in the same order. The explicit scenario therefore runs the same events to the same
// verdicts; its trace hash still differs, because the trace names a nemesis fault
// "nemesis: crash n2 ..." and a scheduled one "crash n2 ..." (tests/harness/shrink_test.cc
// compares the traces with that prefix removed). Two cases differ beyond that text: a nemesis
// that plans nothing (the live run still heals everything at the end, the explicit one has
// nothing to heal), and a scenario with faults of its own beside the nemesis (see
// explicit_scenario).
//
// Then shrink() makes one change at a time and keeps it only if a re-run (harness::run_scenario)
// still fails the same property — for `invariants`, the same invariant (the name its detail
// starts with): "invariants" covers every invariant of the protocol and the service, and a
// shrink free to trade one for another can slip to another bug (a Raft leader_completeness
// failure from a planted bug shrank to a one-server state_machine_safety failure that is not the
// bug's). Each pass, in an order that converges fast:
//   1. duration: cut to just after the failure when the run stopped at it (an invariant
//      violation stops the run at the event that broke it), else halved while it still fails;
//      faults after the new end go with it;
//   2. fault events, by delta debugging (Zeller & Hildebrandt, "Simplifying and Isolating
//      Failure-Inducing Input", TSE 2002): all at once, then halves, quarters, ..., then one by
//      one. A partition and the heal that ends it go together; a crash or pause with "for" is
//      one event already; a last one-by-one pass over single faults removes leftover heals;
//   3. the cluster: fewer servers (smallest first); faults naming servers that are gone lose
//      those servers, and faults left naming none are dropped;
//   4. the clients: whole groups, then fewer clients per group (1, half, one less);
//   5. the workload: one lock, one election, one key, no presence nodes, no watches;
//   6. the environment: network loss, duplication and reordering to 0 and latency constant,
//      clock offsets and drift to 0, torn writes off and the default disk: all at once, else
//      each alone.
// Passes repeat while one makes progress. Every candidate must also load back from its JSON
// (to_json then parse_scenario gives it back equal) before it is run: the result stays a valid
// scenario file. The work is bounded by a number of re-runs, never by wall time, so a shrink is
// as deterministic as a run.
//
// The result expects `pass`. It is meant to be copied into scenarios/ as a regression test: it
// fails now and passes once the bug is fixed. (To keep it as a reproducer of a known bug
// instead, as scenarios/zab/ does for the bug switches, change `expect` to
// {"violation": "<property>"}.) Its description says where it came from, what fails and how to
// run it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/types.h"
#include "harness/run.h"
#include "harness/scenario.h"

namespace lockstep::harness {

// Limits (STYLE.md 7).
inline constexpr std::uint64_t kShrinkRunsDefault = 300;
inline constexpr std::uint64_t kShrinkRunsMax = 1'000'000;

// Why a scenario cannot be shrunk.
struct ShrinkRefused {
  enum class Why : std::uint8_t {
    does_not_fail,    // the run does not fail (that property)
    too_many_faults,  // the nemesis plans more faults than a scenario may hold
    explicit_differs, // written out, the nemesis no longer makes the run fail (harness/nemesis.h)
  };
  Why why = Why::does_not_fail;
  std::string reason;  // one line for users
};

// The scenario narrowed to `protocol`, with the nemesis written out as explicit faults after the
// scenario's own (stable by time, so at one instant its own faults fire first, as in the live run)
// and the nemesis disabled (its settings kept, as a record). A scenario without a nemesis comes
// back narrowed only. Refused when the plan has more faults than a scenario may hold. With faults
// of its own beside the nemesis, the one merged schedule may order a nemesis fault differently
// against another event due at the same nanosecond than the live run's two schedules did, and
// the live run may skip a nemesis crash that max_down forbids (harness/nemesis.h); shrink()
// therefore re-runs the explicit scenario and refuses it if it does not fail the same way.
std::variant<Scenario, ShrinkRefused> explicit_scenario(const Scenario& scenario,
                                                        std::string_view protocol);

// The first property in the run's checks that failed, nullopt when none did.
std::optional<Property> first_failed_property(const RunResult& result);

// What a scenario holds, for before/after lines.
struct ScenarioSize {
  std::size_t fault_events = 0;  // entries of `faults` (the nemesis must be written out)
  std::uint32_t clients = 0;     // over all groups
  std::uint32_t nodes = 0;
  Nanos duration;
  friend bool operator==(const ScenarioSize&, const ScenarioSize&) = default;
};
ScenarioSize scenario_size(const Scenario& scenario);
// "12 fault events, 3 clients, 5 servers, 10s".
std::string describe_size(const ScenarioSize& size);

struct ShrinkOptions {
  std::uint64_t max_runs = kShrinkRunsDefault;  // re-runs, the two of the input included
  // The file the result will be written to, for the reproduce command in its description.
  std::string output_file;
};

// One change that was kept.
struct ShrinkStep {
  std::string change;             // "dropped faults 13..24 of 48", "servers 5 -> 3"
  std::uint64_t run = 0;          // the re-run that confirmed it (1-based, over the whole shrink)
  std::size_t fault_events = 0;   // after the change
};

struct ShrinkResult {
  Scenario scenario;      // fails `property`; expect pass; description filled in
  Property property;
  std::string invariant;  // for invariants: the one that broke ("leader_completeness"), else empty
  std::string detail;     // the failing verdict's detail in the last confirming run
  std::uint64_t runs = 0;          // re-runs used, the two of the input included
  std::uint64_t runs_rejected = 0; // of them, candidates that no longer failed
  bool budget_exhausted = false;   // stopped at max_runs, not at a fixed point
  ScenarioSize before;             // the explicit input
  ScenarioSize after;
  std::vector<ShrinkStep> steps;
};

// Runs the scenario over `protocol` (one it names; it must have passed check_protocols), picks
// the property (`property`, or the first that failed), and shrinks. Refused when the scenario does
// not fail that property, or when its explicit form does not fail it the same way.
std::variant<ShrinkResult, ShrinkRefused> shrink(const Scenario& scenario,
                                                  std::string_view protocol,
                                                  std::optional<Property> property,
                                                  const ShrinkOptions& options);

}  // namespace lockstep::harness
