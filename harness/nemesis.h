// The random nemesis: faults drawn from the seed (scenario "nemesis" settings, harness/scenario.h).
//
// The nemesis is a plan of ordinary harness::Faults, drawn lazily from its own Rng (the run
// derives it from the seed as the "nemesis" stream) and handed one at a time to the
// FaultInjector. A live run and `plan_nemesis` therefore produce the same faults, and a random run
// can be written out as an explicit scenario that the injector replays the same way.
//
// The plan:
//  - Fault starts from `start` on, with exponential gaps of mean `interval`; none at or after
//    `stop` (default and at most the end of the run).
//  - Each start draws a kind from `kinds` and a duration uniform in
//    [fault_duration_min, fault_duration_max], cut short so the fault ends by `stop`:
//      partition    one of: isolate the leader, isolate a random server, random halves, one-way
//                   (a random server to the others or back), bridge (random bridge server),
//                   majorities ring; then `heal` (which also ends clogs). A partition drawn while
//                   another is in force replaces it, and the heal moves to the new one's end.
//      crash        the leader or a random server (even odds), with `for` = the duration;
//      pause        likewise, with `for`;
//      clock_jump   a random server, by uniform ±clock_jump_max; never undone;
//      clock_drift  a random server, uniform ±clock_drift_ppm_max; set back to its baseline
//                   drift (the one it had when the run began) at the end;
//      clog         a random server's links to every other server, or theirs to it, `for` the
//                   duration (clogs end by themselves);
//      corrupt_disk a random server; not undone (recovery must cope).
//    Partitions and clogs need two servers and are drawn as nothing on a one-server cluster.
//  - max_down (default a minority, (servers - 1) / 2): the plan never has more crash and pause
//    episodes in force at once; a start that would pass it draws nothing. An episode aimed at the
//    leader counts as one server down whichever server it hits, and one that finds its server
//    already down does nothing, so the real count is never above the plan's.
//  - Every fault still in force at `stop` is undone at `stop`: restarts and resumes come from
//    `for`, heals and drift resets are planned there, clogs are cut to end there.
//
// Leader-relative faults stay symbolic ("leader") in the plan and are resolved by the injector
// when they fire, in the live run and in a replay alike. The live driver adds one check the plan
// cannot make: a crash or pause is skipped (and the skip logged) when the world already has
// max_down servers down — which only happens when the scenario's own schedule crashes or pauses
// servers too. A plan exported from such a run may therefore crash more than the live run did.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/rng.h"
#include "core/types.h"
#include "harness/faults.h"
#include "harness/scenario.h"

namespace lockstep::harness {

// The name of the random stream the run derives for the nemesis.
inline constexpr std::string_view kNemesisStream = "nemesis";

// The servers the nemesis may have crashed or paused at once.
std::uint32_t nemesis_max_down(const Nemesis& settings, std::uint32_t servers);

// One paragraph for users: "nemesis: from 0s to 10s, a fault every ~1s (exponential gaps), ...".
// "nemesis: off" when disabled.
std::string describe_nemesis(const Nemesis& settings, std::uint32_t servers, Nanos end);

// Draws the plan one fault at a time, in firing order (non-decreasing `at`; an undo due at the
// same time as a new start comes first).
class NemesisPlanner {
 public:
  // `baseline_drift_ppm`: each server's drift to restore after a clock_drift fault; empty means
  // 0 for every server, otherwise one per server.
  NemesisPlanner(const Nemesis& settings, std::uint32_t servers, Rng rng, Nanos end,
                 std::span<const double> baseline_drift_ppm);

  // The next fault, or nullopt when the plan is over (always nullopt when disabled).
  std::optional<Fault> next();

  Nanos stop() const { return stop_; }
  std::uint32_t max_down() const { return max_down_; }

 private:
  struct Undo {
    Nanos at;
    std::int64_t key;  // kPartitionKey, or a server id for its drift reset
    FaultAction action;
  };
  static constexpr std::int64_t kPartitionKey = -1;

  std::optional<Fault> draw(Nanos at);
  Nanos gap();
  NodeId random_server();
  // Adds an undo, or moves the one with the same key to `at` (a newer fault replaced the old).
  void set_undo(std::int64_t key, Nanos at, FaultAction action);
  FaultAction random_partition();
  // Crash or pause: the leader or a random server not already down in the plan; nullopt when
  // max_down episodes are in force at `at`.
  std::optional<NodeSelector> down_target(Nanos at, Nanos until);

  Nemesis settings_;
  std::uint32_t servers_;
  Rng rng_;
  Nanos stop_;
  std::uint32_t max_down_;
  std::vector<double> baseline_drift_ppm_;
  Nanos next_start_;  // == stop_ once no more faults start
  std::vector<Undo> undo_;
  // Crash and pause episodes in force: known servers (until when), and leader-aimed ones.
  std::vector<std::optional<Nanos>> down_until_;
  std::vector<Nanos> leader_down_until_;
};

struct NemesisPlan {
  std::vector<Fault> faults;
  bool complete = true;  // false: cut at `faults_max`
};

// The whole plan, at most `faults_max` faults (kFaultsMax keeps it loadable as a scenario).
NemesisPlan plan_nemesis(const Nemesis& settings, std::uint32_t servers, Rng rng, Nanos end,
                         std::span<const double> baseline_drift_ppm = {},
                         std::size_t faults_max = kFaultsMax);

// Runs the plan live through an injector: one world event per planned fault, each scheduled when
// the previous one fires, so an arbitrarily long run needs no memory for its plan.
class NemesisDriver {
 public:
  // Baseline drifts come from the injector. The driver and injector must outlive the run.
  NemesisDriver(const Nemesis& settings, FaultInjector& injector, Rng rng, Nanos end);
  NemesisDriver(const NemesisDriver&) = delete;
  NemesisDriver& operator=(const NemesisDriver&) = delete;

  // Schedules the first fault; call before the world reaches settings.start. No-op if disabled.
  void start();
  std::string describe() const { return description_; }
  // Planned crashes and pauses skipped because max_down servers were already down.
  std::size_t skipped() const { return skipped_; }

 private:
  void schedule_next();
  void fire(const Fault& fault);

  FaultInjector& injector_;
  NemesisPlanner planner_;
  std::string description_;
  std::size_t skipped_ = 0;
};

}  // namespace lockstep::harness
