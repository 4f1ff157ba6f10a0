// Each protocol under load: a 5-node cluster committing about 1,000 commands per simulated second
// under heartbeats, run exactly as `lockstep run` runs a scenario (invariants checked after every
// event, the append-log state machine, fiber clients). Reports simulated seconds per wall second
// and events per second, the same figures for every protocol so that they compare directly.
//
//   build/release/lockstep_bench --benchmark_filter=FiveNodes1000
#include <benchmark/benchmark.h>

#include <string>

#include "harness/run.h"
#include "harness/scenario.h"

namespace lockstep::harness {
namespace {

Scenario loaded_cluster(const std::string& protocol, Nanos duration) {
  Scenario s;
  s.name = "bench-" + protocol + "-5";
  s.protocols = {protocol};
  s.nodes = 5;
  s.seed = 1;
  s.duration = duration;
  s.network.latency.kind = sim::LatencyDistribution::Kind::uniform;
  s.network.latency.min = microseconds(200);
  s.network.latency.max = milliseconds(1);
  // 20 closed-loop clients, each waiting 15ms between a reply and its next request (a request
  // takes ~5ms: network, two disk syncs of 0.1-1ms each, applying; the leader gathers the
  // requests that arrive while its disk is busy into one batch): about 1,000 appends per
  // simulated second in total.
  s.clients = {ClientGroup{AppendWorkload{milliseconds(15)}, 20}};
  s.checks.liveness_bound = seconds(1);
  return s;
}

void BM_FiveNodes1000CommandsPerSecond(benchmark::State& state, const std::string& protocol) {
  const Nanos duration = seconds(state.range(0));
  const Scenario scenario = loaded_cluster(protocol, duration);
  double simulated_s = 0;
  std::uint64_t events = 0;
  std::uint64_t commands = 0;
  for (auto _ : state) {
    const RunResult r = run_scenario(scenario, RunOptions{std::nullopt, protocol, nullptr});
    if (!r.as_expected) state.SkipWithError(("run failed: " + r.observed).c_str());
    simulated_s += r.simulated.seconds();
    events += r.events;
    commands += r.clients.ok;
  }
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(simulated_s, benchmark::Counter::kIsRate);
  // Its inverse: wall time per simulated second (printed with a unit, e.g. 5ms).
  state.counters["wall_per_sim_s"] = benchmark::Counter(
      simulated_s, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["commands_per_sim_s"] = static_cast<double>(commands) / simulated_s;
}
BENCHMARK_CAPTURE(BM_FiveNodes1000CommandsPerSecond, raft, std::string("raft"))
    ->Arg(20)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_FiveNodes1000CommandsPerSecond, paxos, std::string("paxos"))
    ->Arg(20)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_FiveNodes1000CommandsPerSecond, zab, std::string("zab"))
    ->Arg(20)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace lockstep::harness
