// Throughput of the simulation kernel: events per second for a 5-node message-passing workload,
// with the trace hash computed for every event (as in every real run).
//
//   build/release/lockstep_bench --benchmark_filter=Kernel
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "sim/world.h"

namespace lockstep::sim {
namespace {

// Token passing: each node forwards every token it receives to a random other node, so a fixed
// number of messages is always in flight. Every few hops it also sets a short timer, so the
// workload mixes deliveries and timer wake-ups like a protocol's heartbeat traffic does.
class TokenRelay final : public Process {
 public:
  TokenRelay(std::uint32_t nodes, std::uint32_t tokens) : nodes_(nodes), tokens_(tokens) {}

  void on_start(Env& env) override {
    for (std::uint32_t t = 0; t < tokens_; ++t) forward(env);
  }
  void on_message(Env& env, NodeId, ByteView payload) override {
    if (++hops_ % 8 == 0) {
      env.set_timer(microseconds(100));
      return;
    }
    forward(env, payload);
  }
  void on_timer(Env& env, TimerId) override { forward(env); }

 private:
  void forward(Env& env, ByteView payload = {}) {
    std::uint64_t to = env.random() % (nodes_ - 1);
    if (to >= env.self().value) ++to;
    if (payload.empty()) {
      env.send(NodeId{static_cast<std::uint32_t>(to)}, token_);
    } else {
      env.send(NodeId{static_cast<std::uint32_t>(to)}, payload);
    }
  }
  std::uint32_t nodes_;
  std::uint32_t tokens_;
  std::uint64_t hops_ = 0;
  std::byte token_[32]{};
};

void BM_KernelFiveNodeMessagePassing(benchmark::State& state) {
  static constexpr std::uint32_t kNodes = 5;
  std::uint64_t events = 0;
  std::uint64_t hash = 0;
  for (auto _ : state) {
    WorldConfig config;
    config.seed = 1;
    config.network.latency.kind = LatencyDistribution::Kind::uniform;
    config.network.latency.min = microseconds(100);
    config.network.latency.max = milliseconds(1);
    World world(config);
    for (std::uint32_t i = 0; i < kNodes; ++i) {
      world.add_node(fmt::format("n{}", i),
                     [](NodeId) { return std::make_unique<TokenRelay>(kNodes, 20); });
    }
    world.run_until(seconds(static_cast<std::int64_t>(state.range(0))));
    events += world.stats().events;
    hash ^= world.trace().hash();
  }
  benchmark::DoNotOptimize(hash);
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}
BENCHMARK(BM_KernelFiveNodeMessagePassing)->Arg(10)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace lockstep::sim
