// Multi-Paxos under the load of raft_bench.cc: a 5-node cluster committing about 1,000 commands per
// simulated second, run exactly as `lockstep run` runs a scenario (invariants checked after every
// event). Reports simulated seconds per wall second, so the two protocols compare directly.
//
//   build/release/lockstep_bench --benchmark_filter=Paxos
#include <benchmark/benchmark.h>

#include "harness/run.h"
#include "harness/scenario.h"

namespace lockstep::harness {
namespace {

void BM_PaxosFiveNodes1000CommandsPerSecond(benchmark::State& state) {
  Scenario s;
  s.name = "bench-paxos-5";
  s.protocols = {"paxos"};
  s.nodes = 5;
  s.seed = 1;
  s.duration = seconds(state.range(0));
  s.network.latency.kind = sim::LatencyDistribution::Kind::uniform;
  s.network.latency.min = microseconds(200);
  s.network.latency.max = milliseconds(1);
  s.clients = {ClientGroup{AppendWorkload{milliseconds(12)}, 20}};
  s.checks.liveness_bound = seconds(1);
  double simulated_s = 0;
  std::uint64_t events = 0;
  std::uint64_t commands = 0;
  for (auto _ : state) {
    const RunResult r = run_scenario(s, RunOptions{std::nullopt, "paxos", nullptr});
    if (!r.as_expected) state.SkipWithError(("run failed: " + r.observed).c_str());
    simulated_s += r.simulated.seconds();
    events += r.events;
    commands += r.clients.ok;
  }
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(simulated_s, benchmark::Counter::kIsRate);
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["commands_per_sim_s"] = static_cast<double>(commands) / simulated_s;
}
BENCHMARK(BM_PaxosFiveNodes1000CommandsPerSecond)->Arg(20)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace lockstep::harness
