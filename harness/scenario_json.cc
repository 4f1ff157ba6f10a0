// Writing a Scenario back as a scenario file. Every field is written, defaults included, so a
// written scenario keeps its meaning if a default changes later.
#include "core/json_reader.h"
#include "harness/scenario.h"
#include "harness/scenario_parse.h"

namespace lockstep::harness {

namespace detail {

nlohmann::ordered_json latency_json(const sim::LatencyDistribution& latency) {
  using Kind = sim::LatencyDistribution::Kind;
  nlohmann::ordered_json out;
  out["kind"] = std::string(kLatencyKindNames[static_cast<std::size_t>(latency.kind)]);
  switch (latency.kind) {
    case Kind::constant:
      out["value"] = duration_text(latency.value);
      break;
    case Kind::uniform:
      out["min"] = duration_text(latency.min);
      out["max"] = duration_text(latency.max);
      break;
    case Kind::lognormal:
      out["median"] = duration_text(latency.median);
      out["p99"] = duration_text(latency.p99);
      out["max"] = duration_text(latency.max);
      break;
  }
  return out;
}

nlohmann::ordered_json network_change_json(const NetworkChange& change) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (change.latency) out["latency"] = latency_json(*change.latency);
  if (change.loss) out["loss"] = *change.loss;
  if (change.duplicate) out["duplicate"] = *change.duplicate;
  if (change.reorder) out["reorder"] = *change.reorder;
  if (change.reorder_delay_max) out["reorder_delay_max"] = duration_text(*change.reorder_delay_max);
  if (change.in_flight_max) out["in_flight_max"] = *change.in_flight_max;
  return out;
}

}  // namespace detail

namespace {

nlohmann::ordered_json client_json(const ClientGroup& g) {
  nlohmann::ordered_json out;
  out["workload"] = std::string(detail::kWorkloadNames[g.workload.index()]);
  out["count"] = g.count;
  out["request_timeout"] = duration_text(g.request_timeout);
  out["start"] = duration_text(g.start);
  if (g.stop) out["stop"] = duration_text(*g.stop);
  std::visit(
      [&out](const auto& w) {
        using W = std::decay_t<decltype(w)>;
        if constexpr (std::is_same_v<W, AppendWorkload>) {
          out["interval"] = duration_text(w.interval);
        } else if constexpr (std::is_same_v<W, LockCounterWorkload>) {
          out["locks"] = w.locks;
          out["hold"] = duration_text(w.hold);
          out["interval"] = duration_text(w.interval);
          out["acquire_timeout"] = duration_text(w.acquire_timeout);
          out["presence"] = w.presence;
          out["own_lock"] = w.own_lock;
          out["use_resource"] = w.use_resource;
        } else if constexpr (std::is_same_v<W, ElectionWorkload>) {
          out["elections"] = w.elections;
          out["term"] = duration_text(w.term);
          out["work_interval"] = duration_text(w.work_interval);
          out["campaign_timeout"] = duration_text(w.campaign_timeout);
        } else if constexpr (std::is_same_v<W, ConfigWorkload>) {
          out["keys"] = w.keys;
          out["interval"] = duration_text(w.interval);
          out["watch"] = w.watch;
          out["reads"] = std::string(detail::kReadConsistencyNames[static_cast<std::size_t>(w.reads)]);
          out["read_only"] = w.read_only;
        } else {
          static_assert(std::is_same_v<W, MixWorkload>);
          out["locks"] = w.locks;
          out["keys"] = w.keys;
          out["hold"] = duration_text(w.hold);
          out["interval"] = duration_text(w.interval);
          out["acquire_timeout"] = duration_text(w.acquire_timeout);
        }
      },
      g.workload);
  return out;
}

nlohmann::ordered_json service_json(const ServiceSettings& v) {
  nlohmann::ordered_json out;
  out["cell"] = v.cell;
  out["session_ttl"] = duration_text(v.session_ttl);
  out["session_grace"] = duration_text(v.session_grace);
  out["lock_delay"] = duration_text(v.lock_delay);
  out["event_history_max"] = v.event_history_max;
  out["wait_resend"] = duration_text(v.wait_resend);
  return out;
}

nlohmann::ordered_json counters_json(const std::map<Counter, std::uint64_t>& counters) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [c, n] : counters) out[std::string(counter_name(c))] = n;
  return out;
}

nlohmann::ordered_json nemesis_json(const Nemesis& m) {
  nlohmann::ordered_json out;
  out["enabled"] = m.enabled;
  out["interval"] = duration_text(m.interval);
  out["fault_duration_min"] = duration_text(m.fault_duration_min);
  out["fault_duration_max"] = duration_text(m.fault_duration_max);
  nlohmann::ordered_json kinds = nlohmann::ordered_json::array();
  for (NemesisKind k : m.kinds) {
    kinds.push_back(std::string(detail::kNemesisKindNames[static_cast<std::size_t>(k)]));
  }
  out["kinds"] = std::move(kinds);
  out["max_down"] =
      m.max_down ? nlohmann::ordered_json(*m.max_down) : nlohmann::ordered_json("minority");
  out["clock_jump_max"] = duration_text(m.clock_jump_max);
  out["clock_drift_ppm_max"] = m.clock_drift_ppm_max;
  out["start"] = duration_text(m.start);
  if (m.stop) out["stop"] = duration_text(*m.stop);
  return out;
}

nlohmann::ordered_json checks_json(const Checks& c) {
  nlohmann::ordered_json out;
  nlohmann::ordered_json properties = nlohmann::ordered_json::array();
  for (Property p : c.properties) properties.push_back(std::string(property_name(p)));
  out["properties"] = std::move(properties);
  out["liveness_bound"] = duration_text(c.liveness_bound);
  if (c.handoff_p50_max) out["handoff_p50_max"] = duration_text(*c.handoff_p50_max);
  if (c.handoff_max) out["handoff_max"] = duration_text(*c.handoff_max);
  return out;
}

nlohmann::ordered_json expect_json(const Expectation& e) {
  if (!e.violation && !e.bounds_leader_changes() && !e.unsynced_tail_lost &&
      !e.bounds_counters()) {
    return "pass";
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (e.violation) out["violation"] = std::string(property_name(*e.violation));
  if (e.leader_changes_min) out["leader_changes_min"] = *e.leader_changes_min;
  if (e.leader_changes_max) out["leader_changes_max"] = *e.leader_changes_max;
  if (e.bounds_leader_changes()) out["leader_changes_after"] = duration_text(e.leader_changes_after);
  if (e.unsynced_tail_lost) out["unsynced_tail_lost"] = *e.unsynced_tail_lost;
  if (!e.at_least.empty()) out["at_least"] = counters_json(e.at_least);
  if (!e.at_most.empty()) out["at_most"] = counters_json(e.at_most);
  return out;
}

}  // namespace

nlohmann::ordered_json to_json(const Scenario& s) {
  nlohmann::ordered_json out;
  out["name"] = s.name;
  out["description"] = s.description;
  if (s.protocols.size() == 1) {
    out["protocol"] = s.protocols.front();
  } else {
    out["protocol"] = s.protocols;
  }
  out["nodes"] = s.nodes;
  out["seed"] = s.seed;
  out["duration"] = duration_text(s.duration);
  out["event_limit"] = s.event_limit;
  out["network"] = detail::network_change_json(
      NetworkChange{s.network.latency, s.network.loss, s.network.duplicate, s.network.reorder,
                    s.network.reorder_delay_max, s.network.in_flight_max});
  out["clocks"] = {{"offset_max", duration_text(s.clocks.offset_max)},
                   {"drift_ppm_max", s.clocks.drift_ppm_max}};
  out["disk"] = {{"sync_latency", detail::latency_json(s.disk.sync_latency)},
                 {"torn_writes", s.disk.torn_writes},
                 {"torn_corruption", s.disk.torn_corruption}};
  nlohmann::ordered_json options = nlohmann::ordered_json::object();
  for (const auto& [name, o] : s.protocol_options) {
    options[name] = nlohmann::ordered_json::parse(o.value.dump());
  }
  out["protocol_options"] = std::move(options);
  nlohmann::ordered_json clients = nlohmann::ordered_json::array();
  for (const ClientGroup& g : s.clients) clients.push_back(client_json(g));
  out["clients"] = std::move(clients);
  if (s.runs_lock_service()) {
    out["service"] = service_json(s.service);
    out["resource"] = {{"mode", std::string(service::to_string(s.resource.mode))}};
  }
  nlohmann::ordered_json faults = nlohmann::ordered_json::array();
  for (const Fault& f : s.faults) faults.push_back(detail::fault_json(f));
  out["faults"] = std::move(faults);
  out["nemesis"] = nemesis_json(s.nemesis);
  out["checks"] = checks_json(s.checks);
  nlohmann::ordered_json expect = expect_json(s.expect);
  if (!s.expect_for.empty() && expect.is_string()) expect = nlohmann::ordered_json::object();
  for (const auto& [protocol, e] : s.expect_for) expect[protocol] = expect_json(e);
  out["expect"] = std::move(expect);
  return out;
}

}  // namespace lockstep::harness
