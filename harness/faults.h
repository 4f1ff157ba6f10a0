// Turns a scenario's fault actions (harness/scenario.h) into calls on the simulated world.
//
// Selectors are resolved when the fault fires, never earlier: "leader" asks the protocol who
// leads right now. Every random choice (which follower, which minority, the order of a
// majorities ring, the halves of a bridge) comes from the injector's own Rng, which the run
// derives from the seed as the "faults" stream, so the same seed picks the same servers.
//
// Only servers (node ids 0..servers-1) are ever targeted. Partitions name servers only, so the
// clients, whose nodes come after the servers, keep talking to every server: a partition splits
// the cluster, not the clients from it (as in Jepsen, where the nemesis cuts links between the
// database nodes). For the same reason `isolate` is applied as a symmetric partition — each
// selected server alone, the other servers together — and not with Network::isolate, which would
// also cut the server off from the clients.
//
// Every fault is written to the trace with World::trace_fault and to `log()` as one short line:
//
//   crash n2 (leader) for 2s            partition {0,1} | {2,3,4}
//   pause {1,3} (minority)              partition {2} | {0,1,3,4} (isolate leader)
//   restart n2 (after crash for 2s)     clog n0 -> {1,2} for 500ms
//   clock_jump n1 by -2s                clock_drift n4 to 250ppm
//   set_network loss=0.1                corrupt_disk n1: raft.log
//   nemesis: pause n0 (leader) for 1.2s  nemesis: resume n0 (after pause for 1.2s)
//   crash leader: skipped, no leader    heal_all: network healed; restarted n2; resumed n1
//   partition link 0 <-> 2 cut (link n0 <-> leader)
//   partition link n1 <-> leader: skipped, both ends are n1
//
// A fault that resolves to no server does nothing and says so ("skipped, ..."); it is logged but
// not counted by applied().
//
// Automatic undo (crash "for", pause "for") only touches what that fault did: the restart fires
// only for servers this crash took down and that are still down in the same incarnation; the
// resume only for servers this pause froze and that are still frozen by it. A scripted "crash n2"
// is therefore never cut short by an earlier "crash n2 for 1s" that found n2 already down.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/rng.h"
#include "core/types.h"
#include "harness/scenario.h"
#include "sim/world.h"

namespace lockstep::harness {

// The name of the random stream the run derives for the injector.
inline constexpr std::string_view kFaultStream = "faults";

struct AppliedFault {
  Nanos at;                 // true time it fired
  std::string description;  // one line, as traced
  bool skipped = false;     // resolved to nothing (no leader, no live follower, ...)
};

class FaultInjector {
 public:
  using LeaderFn = std::function<std::optional<NodeId>()>;
  // The client nodes that now match a client selector (lock_holder, elected), in node order.
  using ClientPicker = std::function<std::vector<NodeId>(NodeSelector::Kind)>;

  // `servers` in [1, world.node_count()]; every node must already be added to the world. The
  // drift each server has now is remembered as its baseline, which heal_all restores.
  FaultInjector(sim::World& world, std::uint32_t servers, LeaderFn leader, Rng rng);
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  // Lets faults name lock-service clients: client i is node first + i. Their drift now is their
  // baseline; heal_all treats them as it treats servers.
  void set_clients(NodeId first, std::uint32_t count, ClientPicker picker);

  // Schedules each fault at its `at` (>= world.now()); equal times fire in the given order.
  // Like the nemesis (harness/nemesis.h), the schedule takes one world event at a time: each fault
  // is scheduled when the one before it has fired (and been applied), so a schedule that replays
  // a nemesis plan fires in the same order as the live nemesis did against everything else due at
  // the same instant. The injector must outlive the run.
  void schedule(std::span<const Fault> faults);

  // Applies one action now. `origin` prefixes the description ("nemesis" gives
  // "nemesis: crash n2 ..."); empty for the scenario's own schedule.
  void apply(const FaultAction& action, std::string_view origin = {});

  // Ends every fault in force: heals the network (partitions and clogs), resumes paused servers
  // and clients, restarts crashed ones and puts every clock drift back to its baseline. Clock
  // jumps stay (a clock that jumped is not jumped back), and so do network settings changed by
  // set_network (they are the scenario's network from then on, not a fault to undo).
  void heal_all();

  // Logs and traces a fault someone decided not to apply (the nemesis, when max_down is reached).
  void record_skipped(std::string_view description, std::string_view origin);

  const std::vector<AppliedFault>& log() const { return log_; }
  // Faults that did something (log entries not skipped).
  std::size_t applied() const { return applied_; }

  sim::World& world() { return world_; }
  std::uint32_t servers() const { return servers_; }
  // Servers crashed or paused right now.
  std::uint32_t servers_down() const;
  // The drift each server had when the injector was made.
  std::span<const double> baseline_drift_ppm() const { return baseline_drift_ppm_; }

 private:
  // The servers a selector stands for now, in id order. Random picks prefer servers not in
  // `avoid` (so "one_way from leader to majority" takes the majority among the others).
  // Returns nullopt, with `why` set, when the selector names nobody.
  std::optional<std::vector<NodeId>> resolve(const NodeSelector& selector,
                                             std::span<const NodeId> avoid, std::string& why);
  std::vector<NodeId> pick(std::vector<NodeId> candidates, std::size_t count,
                           std::span<const NodeId> avoid);
  std::vector<NodeId> all_servers() const;
  std::vector<NodeId> all_clients() const;
  void shuffle(std::vector<NodeId>& nodes);  // Fisher-Yates with rng_
  bool is_down(NodeId n) const;
  bool is_frozen(NodeId n) const;  // up and paused

  // One handler per action; each returns the description, or sets `skipped`.
  struct Outcome {
    std::string description;
    bool skipped = false;
  };
  // A fault that did nothing: "crash leader: skipped, no leader".
  static Outcome skip(std::string_view what, std::string_view why);
  Outcome apply_partition(const Partition& p);
  // `origin` also prefixes the automatic restart or resume.
  Outcome apply_crash(const Crash& c, std::string_view origin);
  Outcome apply_pause(const Pause& p, std::string_view origin);
  Outcome apply_clog(const Clog& c);
  Outcome apply_set_network(const SetNetwork& s);
  // Actions on a node set: resolves the selector and calls `each` per server.
  Outcome for_each_node(std::string_view verb, const NodeSelector& selector,
                        std::string_view suffix, const std::function<void(NodeId)>& each);
  void record(std::string description, bool skipped, std::string_view origin);

  sim::World& world_;
  std::uint32_t servers_;
  LeaderFn leader_;
  Rng rng_;
  std::vector<double> baseline_drift_ppm_;  // per server
  std::vector<double> client_baseline_drift_ppm_;
  std::vector<std::uint64_t> pause_epoch_;  // per node: bumped by every pause we make
  NodeId first_client_;
  std::uint32_t clients_ = 0;
  ClientPicker client_picker_;
  std::vector<AppliedFault> log_;
  std::size_t applied_ = 0;
  // Each schedule() call's faults, in firing order.
  std::vector<std::vector<Fault>> schedules_;
  // Schedules fault `next` of schedules_[schedule], if there is one.
  void schedule_next(std::size_t schedule, std::size_t next);
};

// "n2" for one node, "{0,3}" for several, "{}" for none.
std::string describe_nodes(std::span<const NodeId> nodes);
// "leader", "minority", ... ; "" for a list of ids.
std::string_view selector_name(const NodeSelector& selector);

}  // namespace lockstep::harness
