#include "harness/lock_run.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "harness/lock_linearizability.h"
#include "harness/lock_workloads.h"
#include "service/lock/lock_server.h"

namespace lockstep::harness {

namespace {

service::lock::LockConfig lock_config(const ServiceSettings& s) {
  service::lock::LockConfig c;
  c.cell = s.cell;
  c.session_grace = s.session_grace;
  c.lock_delay = s.lock_delay;
  c.event_history_max = static_cast<std::size_t>(s.event_history_max);
  return c;
}

}  // namespace

LockRun::LockRun(const Scenario& scenario, sim::World& world)
    : scenario_(scenario),
      world_(world),
      applied_([&world] { return world.now(); }, &history_) {}

std::unique_ptr<Process> LockRun::make_server(service::ReplicaFactory replica) {
  return service::lock::make_lock_host(std::move(replica), lock_config(scenario_.service), {}, {},
                                       [this](service::lock::LockService& s) { applied_.attach(s); });
}

void LockRun::add_nodes() {
  resource_ = world_.add_node("resource", [this](NodeId) {
    return std::make_unique<service::ProtectedResource>(
        scenario_.resource.mode, [this](const service::ResourceAccess& a) {
          const std::uint32_t client = a.client.value - first_client_.value;
          history_.resource.push_back(ResourceRecord{world_.now(), client, a});
        });
  });
  first_client_ = NodeId{resource_.value + 1};
  std::uint32_t index = 0;
  for (const ClientGroup& group : scenario_.clients) {
    for (std::uint32_t c = 0; c < group.count; ++c, ++index) {
      LockClientSettings s;
      s.client = index;
      s.servers = scenario_.nodes;
      s.resource = resource_;
      s.service = scenario_.service;
      s.workload = group.workload;
      s.request_timeout = group.request_timeout;
      s.start = group.start;
      s.stop = std::min(group.stop.value_or(scenario_.duration), scenario_.duration);
      s.rng = world_.derive_rng("lock_client", index);
      world_.add_node(fmt::format("client{}", index), [this, s](NodeId) {
        return std::make_unique<sim::FiberHost>(std::vector<sim::FiberBody>{
            lock_client(s, [this] { return world_.now(); }, &history_)});
      });
    }
  }
  clients_ = index;
}

std::vector<NodeId> LockRun::pick(NodeSelector::Kind kind) const {
  std::vector<NodeId> out;
  for (const Holding& h : history_.holdings) {
    if (h.until) continue;
    const bool election = is_election_path(scenario_.service, h.path);
    if (election != (kind == NodeSelector::Kind::elected)) continue;
    const NodeId node{first_client_.value + h.client};
    if (world_.is_up(node) && std::find(out.begin(), out.end(), node) == out.end()) {
      out.push_back(node);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

double LockRun::drift_ppm_max() const {
  double ppm = scenario_.clocks.drift_ppm_max;
  for (const Fault& f : scenario_.faults) {
    if (const auto* d = std::get_if<ClockDrift>(&f.action)) ppm = std::max(ppm, std::abs(d->ppm));
  }
  if (scenario_.nemesis.enabled) ppm = std::max(ppm, scenario_.nemesis.clock_drift_ppm_max);
  return ppm;
}

std::vector<std::string> LockRun::service_invariants(const HostOf& host) const {
  std::vector<std::string> out;
  for (std::uint32_t i = 0; i < scenario_.nodes; ++i) {
    const service::ReplicaHost* h = host(i);
    if (h == nullptr) continue;
    const auto& machine =
        static_cast<const service::lock::LockService&>(h->state_machine()).machine();
    for (const std::string& v : machine.invariant_violations()) {
      out.push_back(fmt::format("server {}: {}", i, v));
    }
  }
  return out;
}

void LockRun::judge(bool finished, Nanos healed_at, const HostOf& host,
                    std::map<Property, PropertyVerdict>& out) const {
  const LockCheckContext context{scenario_.service, scenario_.resource.mode,
                                 scenario_.checks.handoff_p50_max, scenario_.checks.handoff_max,
                                 drift_ppm_max()};
  const auto put = [&out](Property p, const LockCheck& c) {
    out[p] = PropertyVerdict{p, c.verdict, c.detail};
  };
  // Safety holds over any prefix of a run, so it is judged even when the run stopped early.
  put(Property::mutual_exclusion, check_mutual_exclusion(history_));
  put(Property::fencing, check_fencing(history_));
  put(Property::session_safety, check_session_safety(history_, context));
  put(Property::at_most_once, check_at_most_once(history_));
  put(Property::watch_delivery, check_watch_delivery(history_));
  put(Property::lock_handoff, check_lock_handoff(history_, context));
  put(Property::linearizability, check_lock_linearizability(lock_service_history(history_)));
  if (finished) {
    std::vector<ServerState> servers;
    for (std::uint32_t i = 0; i < scenario_.nodes; ++i) {
      const service::ReplicaHost* h = host(i);
      if (h == nullptr) continue;
      servers.push_back(ServerState{i, h->applied_index(), h->state_machine().snapshot()});
    }
    put(Property::durability, check_lock_durability(history_, servers));
    put(Property::liveness,
        check_lock_liveness(history_, healed_at, scenario_.checks.liveness_bound));
  }
}

ClientStats LockRun::client_stats() const {
  ClientStats stats;
  stats.clients = clients_;
  std::vector<Nanos> latencies;
  std::map<std::string, std::vector<Nanos>> by_operation;
  for (const LockCall& call : history_.calls) {
    ++stats.calls;
    if (!call.returned) {
      ++stats.unknown;
      continue;
    }
    if (!call.ok) continue;
    ++stats.ok;
    const Nanos took = *call.returned - call.invoked;
    if (!call.waits) latencies.push_back(took);
    by_operation[call.op].push_back(took);
  }
  const LatencySummary all = summarize_latencies(std::move(latencies));
  stats.latency_p50 = all.p50;
  stats.latency_p99 = all.p99;
  stats.latency_max = all.max;
  for (auto& [op, took] : by_operation) stats.operations[op] = summarize_latencies(std::move(took));
  return stats;
}

}  // namespace lockstep::harness
