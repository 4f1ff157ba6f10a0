// Fuzz throughput: how many seeds one core gets through, each seed one run of `lockstep fuzz` on
// a 5-node cluster with 10 clients for 30 simulated seconds under every nemesis kind the fuzzer
// uses (partition, crash, pause, clock jump, clock drift, clog), the rest of the profile drawn
// from the seed as usual. Iteration i runs seed i (seeds 1, 2, 3, ...), so the same seeds are
// measured on every machine and every commit; items_per_second is seeds per second on one core
// (CPU time: a run is single-threaded, so `--jobs N` gets about N times that on N idle cores;
// real_time shows what the machine's load left of it). The same
// runs from the command line:
//
//   lockstep fuzz --protocol raft --workload append --nodes 5 --duration 30s --clients 10
//                 --nemesis-kinds all --seeds 1-40 --jobs 1
//
//   build/release/lockstep_bench --benchmark_filter=BM_FuzzSeed
#include <benchmark/benchmark.h>

#include <string>

#include "harness/fuzz.h"

namespace lockstep::harness {
namespace {

constexpr std::int64_t kSeedsPerBenchmark = 40;

FuzzSettings bench_settings(const std::string& protocol, FuzzWorkload workload) {
  FuzzSettings s;
  s.protocols = {protocol};
  s.workloads = {workload};
  s.nodes = {5};
  s.duration = seconds(30);
  s.clients = 10;
  s.all_nemesis_kinds = true;
  return s;
}

void BM_FuzzSeed(benchmark::State& state, const std::string& protocol, FuzzWorkload workload) {
  const FuzzSettings settings = bench_settings(protocol, workload);
  std::uint64_t seed = 1;
  std::uint64_t events = 0;
  std::uint64_t failed = 0;
  double simulated_s = 0;
  for (auto _ : state) {
    const FuzzRecord r = run_fuzz_case(settings, FuzzCase{seed++, 5, protocol});
    events += r.events;
    failed += r.passed ? 0 : 1;
    simulated_s += r.simulated.seconds();
  }
  state.SetItemsProcessed(state.iterations());  // items_per_second: seeds per second on one core
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(simulated_s, benchmark::Counter::kIsRate);
  state.counters["events_per_seed"] =
      static_cast<double>(events) / static_cast<double>(state.iterations());
  state.counters["failed_seeds"] = static_cast<double>(failed);  // a finding, not a bench error
}

#define LOCKSTEP_FUZZ_BENCH(protocol, workload)                               \
  BENCHMARK_CAPTURE(BM_FuzzSeed, protocol/workload, std::string(#protocol), \
                    FuzzWorkload::workload)                                   \
      ->Iterations(kSeedsPerBenchmark)                                        \
      ->Unit(benchmark::kMillisecond)

LOCKSTEP_FUZZ_BENCH(raft, append);
LOCKSTEP_FUZZ_BENCH(raft, lock);
LOCKSTEP_FUZZ_BENCH(paxos, append);
LOCKSTEP_FUZZ_BENCH(paxos, lock);
LOCKSTEP_FUZZ_BENCH(zab, append);
LOCKSTEP_FUZZ_BENCH(zab, lock);

}  // namespace
}  // namespace lockstep::harness
