// Speed of the linearizability checker on the public histories in tests/data/linearizability:
// all 102 Jepsen etcd logs in one process, Porcupine's kv c50-ok and c50-bad, and the slowest
// single etcd logs. Histories are parsed once, outside the timed loop; the verdict alone is timed
// (as Porcupine's CheckOperations is), and separately the verdict plus the explanation of each
// violation (shortest illegal prefix), as `lockstep lincheck` computes it.
//
//   build/release/lockstep_bench --benchmark_filter=Lincheck
//
// The data is found beside this file's source tree (LOCKSTEP_LINCHECK_DATA overrides it).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "checkers/history_formats.h"
#include "checkers/linearizability.h"
#include "core/assert.h"

namespace lockstep::checkers {
namespace {

std::filesystem::path data_dir() {
  if (const char* dir = std::getenv("LOCKSTEP_LINCHECK_DATA")) return dir;
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "tests" / "data" /
         "linearizability";
}

LoadedHistory load(const std::string& relative, HistoryFormat format) {
  const std::filesystem::path path = data_dir() / relative;
  std::ifstream in(path, std::ios::binary);
  LS_ASSERT_MSG(in.good(), "cannot open " + path.string() + " (set LOCKSTEP_LINCHECK_DATA)");
  std::ostringstream text;
  text << in.rdbuf();
  HistoryResult parsed = parse_history(text.str(), format);
  LS_ASSERT_MSG(std::holds_alternative<LoadedHistory>(parsed), path.string());
  return std::get<LoadedHistory>(std::move(parsed));
}

struct Etcd {
  std::vector<LoadedHistory> histories;
  std::vector<bool> linearizable;
};

const Etcd& etcd_histories() {
  static const Etcd etcd = [] {
    Etcd e;
    // The 23 linearizable logs of the data README; 095 is empty and has no verdict.
    const std::vector<int> ok = {2,  5,  7,  18, 25, 31, 38, 45, 48, 49,  51, 53,
                                 56, 67, 75, 76, 80, 87, 92, 98, 100, 101, 102};
    for (int i = 0; i <= 102; ++i) {
      if (i == 95) continue;
      e.histories.push_back(load(fmt::format("jepsen/etcd_{:03}.log", i), HistoryFormat::jepsen_etcd));
      e.linearizable.push_back(std::find(ok.begin(), ok.end(), i) != ok.end());
    }
    return e;
  }();
  return etcd;
}

void check_expected(benchmark::State& state, const LoadedHistory& h, bool linearizable,
                    bool explain) {
  CheckOptions options;
  options.explain = explain;
  const CheckResult r = check_linearizability(h.history, h.model, options);
  const Verdict want = linearizable ? Verdict::linearizable : Verdict::not_linearizable;
  if (r.verdict != want) state.SkipWithError("wrong verdict");
  benchmark::DoNotOptimize(r.search_steps);
}

void BM_LincheckEtcdAll102(benchmark::State& state) {
  const Etcd& etcd = etcd_histories();
  const bool explain = state.range(0) != 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < etcd.histories.size(); ++i) {
      check_expected(state, etcd.histories[i], etcd.linearizable[i], explain);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * etcd.histories.size()));
}
BENCHMARK(BM_LincheckEtcdAll102)->ArgName("explain")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_LincheckEtcdOne(benchmark::State& state) {
  const int number = static_cast<int>(state.range(0));
  const LoadedHistory h = load(fmt::format("jepsen/etcd_{:03}.log", number), HistoryFormat::jepsen_etcd);
  const bool linearizable = number == 2 || number == 7;
  for (auto _ : state) check_expected(state, h, linearizable, false);
}
// The slowest for Porcupine (002, 007) and the ones Knossos could not finish.
BENCHMARK(BM_LincheckEtcdOne)->ArgName("etcd")->Arg(2)->Arg(7)->Arg(40)->Arg(57)->Arg(85)->Arg(97)->Arg(99)
    ->Unit(benchmark::kMillisecond);

void BM_LincheckKv(benchmark::State& state, const char* file, bool linearizable) {
  const LoadedHistory h = load(file, HistoryFormat::edn_kv);
  const bool explain = state.range(0) != 0;
  for (auto _ : state) check_expected(state, h, linearizable, explain);
}
BENCHMARK_CAPTURE(BM_LincheckKv, c50_ok, "kv/c50-ok.txt", true)
    ->ArgName("explain")->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LincheckKv, c50_bad, "kv/c50-bad.txt", false)
    ->ArgName("explain")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace lockstep::checkers
