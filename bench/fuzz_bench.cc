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
//
// Seeds differ in cost by 50x: the drawn workload and its rate decide how many calls a seed
// makes. So the lock benchmarks also report, per workload drawn, how many of the 40 seeds drew it
// (seeds_<workload>) and their share of the benchmark's CPU time (cpu_share_<workload>).
#include <benchmark/benchmark.h>

#include <array>
#include <ctime>
#include <string>

#include "harness/fuzz.h"
#include "harness/scenario_parse.h"

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

// This thread's CPU time in seconds (the benchmark's own clock for items_per_second).
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

void BM_FuzzSeed(benchmark::State& state, const std::string& protocol, FuzzWorkload workload) {
  const FuzzSettings settings = bench_settings(protocol, workload);
  constexpr std::size_t kWorkloads = std::size(detail::kWorkloadNames);
  std::array<std::uint64_t, kWorkloads> seeds_by_workload{};
  std::array<double, kWorkloads> cpu_by_workload{};
  std::uint64_t seed = 1;
  std::uint64_t events = 0;
  std::uint64_t failed = 0;
  double simulated_s = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::size_t drawn = fuzz_scenario(settings, seed, 5).clients.front().workload.index();
    state.ResumeTiming();
    const double started = thread_cpu_seconds();
    const FuzzRecord r = run_fuzz_case(settings, FuzzCase{seed++, 5, protocol});
    cpu_by_workload[drawn] += thread_cpu_seconds() - started;
    ++seeds_by_workload[drawn];
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
  double cpu_total = 0;
  for (double c : cpu_by_workload) cpu_total += c;
  if (workload == FuzzWorkload::append || cpu_total <= 0) return;  // append draws only itself
  for (std::size_t w = 0; w < kWorkloads; ++w) {
    if (seeds_by_workload[w] == 0) continue;
    const std::string name(detail::kWorkloadNames[w]);
    state.counters["seeds_" + name] = static_cast<double>(seeds_by_workload[w]);
    state.counters["cpu_share_" + name] = cpu_by_workload[w] / cpu_total;
  }
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
