// The lock service on a 5-node cluster of each protocol, 0.5 ms one-way latency, default disk (syncs of
// 0.1-1 ms): closed-loop clients each acquire their own lock (no contention), release it and go
// again, with no hold and no pause. Run exactly as `lockstep run` runs a scenario: every checker
// on, the lock service's included.
//
// Reports, in simulated time, the acquire and release latencies (median and p99) and the
// acquire+release pairs completed per simulated second; and the wall-clock cost of one pair.
//
//   build/release/lockstep_bench --benchmark_filter=Lock
//
// Arg: the number of clients. With one client the pair latency is the whole story; with more the
// cluster's throughput shows (every client works on its own lock, so it is still uncontended).
#include <benchmark/benchmark.h>

#include <string>

#include "harness/run.h"
#include "harness/scenario.h"

namespace lockstep::harness {
namespace {

Scenario uncontended_locks(const std::string& protocol, std::uint32_t clients, Nanos duration) {
  Scenario s;
  s.name = "bench-lock-5";
  s.protocols = {protocol};
  s.nodes = 5;
  s.seed = 1;
  s.duration = duration;
  s.network.latency.kind = sim::LatencyDistribution::Kind::constant;
  s.network.latency.value = microseconds(500);
  LockCounterWorkload w;
  w.locks = clients;
  w.own_lock = true;
  w.use_resource = false;
  w.hold = Nanos::zero();
  w.interval = Nanos::zero();
  ClientGroup group{w, clients};
  s.clients = {group};
  s.checks.liveness_bound = seconds(1);
  return s;
}

double ms(Nanos n) { return static_cast<double>(n.count) / 1e6; }

void BM_LockUncontendedFiveNodes(benchmark::State& state, const std::string& protocol) {
  const auto clients = static_cast<std::uint32_t>(state.range(0));
  const Scenario scenario = uncontended_locks(protocol, clients, seconds(10));
  double simulated_s = 0;
  std::uint64_t pairs = 0;
  LatencySummary acquire;
  LatencySummary release;
  for (auto _ : state) {
    const RunResult r = run_scenario(scenario, RunOptions{std::nullopt, protocol, nullptr});
    if (!r.as_expected) state.SkipWithError(("run failed: " + r.observed).c_str());
    const auto a = r.clients.operations.find("acquire");
    const auto rel = r.clients.operations.find("release");
    if (a == r.clients.operations.end() || rel == r.clients.operations.end()) {
      state.SkipWithError("no acquire or release completed");
      break;
    }
    acquire = a->second;
    release = rel->second;
    simulated_s += r.duration.seconds();
    pairs += release.count;
  }
  // Simulated: what a client of the service would see.
  state.counters["acquire_p50_ms"] = ms(acquire.p50);
  state.counters["acquire_p99_ms"] = ms(acquire.p99);
  state.counters["release_p50_ms"] = ms(release.p50);
  state.counters["release_p99_ms"] = ms(release.p99);
  state.counters["pairs_per_sim_s"] = static_cast<double>(pairs) / simulated_s;
  // Wall clock: what the simulation costs.
  state.counters["wall_per_pair"] = benchmark::Counter(
      static_cast<double>(pairs), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(simulated_s, benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_LockUncontendedFiveNodes, raft, std::string("raft"))
    ->Arg(1)
    ->Arg(16)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_LockUncontendedFiveNodes, paxos, std::string("paxos"))
    ->Arg(1)
    ->Arg(16)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_LockUncontendedFiveNodes, zab, std::string("zab"))
    ->Arg(1)
    ->Arg(16)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace lockstep::harness
