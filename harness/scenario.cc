// Loading a scenario: the file, the top-level fields and the settings blocks. The fault schedule
// is read in scenario_faults.cc; writing back is in scenario_json.cc.
#include "harness/scenario.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "core/assert.h"
#include "harness/scenario_parse.h"
#include "service/lock/lock_path.h"

namespace lockstep::harness {

namespace detail {

namespace {

sim::LatencyDistribution read_latency(JsonReader r) {
  using Kind = sim::LatencyDistribution::Kind;
  sim::LatencyDistribution l;
  l.kind = static_cast<Kind>(r.required_enum("kind", kLatencyKindNames));
  switch (l.kind) {
    case Kind::constant:
      l.value = r.required_duration("value", Nanos::zero(), kLatencyMax);
      break;
    case Kind::uniform:
      l.min = r.required_duration("min", Nanos::zero(), kLatencyMax);
      l.max = r.required_duration("max", l.min, kLatencyMax);
      break;
    case Kind::lognormal:
      l.median = r.required_duration("median", nanoseconds(1), kLatencyMax);
      l.p99 = r.required_duration("p99", l.median, kLatencyMax);
      l.max = r.required_duration("max", l.p99, kLatencyMax);
      break;
  }
  r.finish();
  return l;
}

}  // namespace

NetworkChange read_network_change(JsonReader& r) {
  NetworkChange c;
  if (auto latency = r.optional_object("latency")) c.latency = read_latency(*latency);
  if (auto f = r.find("loss")) c.loss = f->as_probability();
  if (auto f = r.find("duplicate")) c.duplicate = f->as_probability();
  if (auto f = r.find("reorder")) c.reorder = f->as_probability();
  if (auto f = r.find("reorder_delay_max")) {
    c.reorder_delay_max = f->as_duration(Nanos::zero(), kLatencyMax);
  }
  if (auto f = r.find("in_flight_max")) c.in_flight_max = f->as_unsigned(1, kInFlightMax);
  return c;
}

}  // namespace detail

void NetworkChange::apply_to(sim::NetworkConfig& config) const {
  if (latency) config.latency = *latency;
  if (loss) config.loss = *loss;
  if (duplicate) config.duplicate = *duplicate;
  if (reorder) config.reorder = *reorder;
  if (reorder_delay_max) config.reorder_delay_max = *reorder_delay_max;
  if (in_flight_max) config.in_flight_max = *in_flight_max;
}

std::vector<Property> all_properties() {
  std::vector<Property> all;
  for (std::size_t i = 0; i < std::size(kPropertyNames); ++i) all.push_back(static_cast<Property>(i));
  return all;
}

std::string_view property_name(Property p) { return kPropertyNames[static_cast<std::size_t>(p)]; }

std::optional<Property> property_from_name(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kPropertyNames); ++i) {
    if (kPropertyNames[i] == name) return static_cast<Property>(i);
  }
  return std::nullopt;
}
std::string_view counter_name(Counter c) { return kCounterNames[static_cast<std::size_t>(c)]; }

namespace {

using detail::kNemesisKindNames;
using detail::kWorkloadNames;

std::string default_name(std::string_view file_label) {
  std::string stem = std::filesystem::path(file_label).stem().string();
  return stem.empty() ? std::string("scenario") : stem;
}

std::string read_text(JsonReader& root, std::string_view key, std::string fallback,
                      std::size_t length_min, std::size_t length_max) {
  auto field = root.find(key);
  if (!field) return fallback;
  if (!field->value().is_string() ||
      field->value().get_ref<const std::string&>().size() < length_min ||
      field->value().get_ref<const std::string&>().size() > length_max) {
    field->fail_expected(fmt::format("a string of {}..{} characters", length_min, length_max));
  }
  return field->as<std::string>();
}

std::vector<std::string> read_protocols(JsonReader& root, std::span<const std::string_view> known) {
  std::vector<std::string_view> names_or_all(known.begin(), known.end());
  names_or_all.push_back("all");
  JsonReader field = root.require(
      "protocol",
      fmt::format("a protocol name (one of {}), an array of them, or \"all\"", join_names(known)));
  std::vector<std::string> protocols;
  if (field.value().is_array()) {
    for (const JsonReader& p : field.as_array(1)) {
      std::string name(known[p.as_enum(known)]);
      if (std::find(protocols.begin(), protocols.end(), name) != protocols.end()) {
        p.fail(fmt::format("expected each protocol once, got \"{}\" a second time", name));
      }
      protocols.push_back(std::move(name));
    }
    return protocols;
  }
  const std::size_t index = field.as_enum(names_or_all);
  if (index == known.size()) return {known.begin(), known.end()};
  return {std::string(known[index])};
}

std::map<std::string, ProtocolOptions, std::less<>> read_protocol_options(
    JsonReader& root, std::span<const std::string_view> known) {
  std::map<std::string, ProtocolOptions, std::less<>> options;
  auto block = root.optional_object("protocol_options");
  if (!block) return options;
  for (std::string_view name : known) {
    if (auto o = block->optional_object(name)) {
      options.emplace(std::string(name), ProtocolOptions{o->value(), o->pointer()});
    }
  }
  block->finish();
  return options;
}

Workload read_workload(JsonReader& r, std::size_t kind) {
  const auto count_of = [&r](std::string_view key, std::uint32_t fallback) {
    return static_cast<std::uint32_t>(r.integer(key, 1, kLockNamesMax, fallback));
  };
  switch (kind) {
    case 0: {
      AppendWorkload w;
      w.interval = r.duration("interval", w.interval, Nanos::zero(), kDurationMax);
      return w;
    }
    case 1: {
      LockCounterWorkload w;
      w.locks = count_of("locks", w.locks);
      w.hold = r.duration("hold", w.hold, Nanos::zero(), kDurationMax);
      w.interval = r.duration("interval", w.interval, Nanos::zero(), kDurationMax);
      w.acquire_timeout =
          r.duration("acquire_timeout", w.acquire_timeout, nanoseconds(1), kDurationMax);
      w.presence = r.optional<bool>("presence", w.presence);
      w.own_lock = r.optional<bool>("own_lock", w.own_lock);
      w.use_resource = r.optional<bool>("use_resource", w.use_resource);
      return w;
    }
    case 2: {
      ElectionWorkload w;
      w.elections = count_of("elections", w.elections);
      w.term = r.duration("term", w.term, Nanos::zero(), kDurationMax);
      w.work_interval = r.duration("work_interval", w.work_interval, nanoseconds(1), kDurationMax);
      w.campaign_timeout =
          r.duration("campaign_timeout", w.campaign_timeout, nanoseconds(1), kDurationMax);
      return w;
    }
    case 3: {
      ConfigWorkload w;
      w.keys = count_of("keys", w.keys);
      w.interval = r.duration("interval", w.interval, Nanos::zero(), kDurationMax);
      w.watch = r.optional<bool>("watch", w.watch);
      w.reads = static_cast<ReadConsistency>(r.enum_of("reads", detail::kReadConsistencyNames, 0));
      w.read_only = r.optional<bool>("read_only", w.read_only);
      return w;
    }
    default: {
      MixWorkload w;
      w.locks = count_of("locks", w.locks);
      w.keys = count_of("keys", w.keys);
      w.hold = r.duration("hold", w.hold, Nanos::zero(), kDurationMax);
      w.interval = r.duration("interval", w.interval, Nanos::zero(), kDurationMax);
      w.acquire_timeout =
          r.duration("acquire_timeout", w.acquire_timeout, nanoseconds(1), kDurationMax);
      return w;
    }
  }
}

ClientGroup read_client_group(JsonReader& r, Nanos duration) {
  r.expect_object();
  ClientGroup g;
  const std::size_t kind = r.required_enum("workload", kWorkloadNames);
  g.count = static_cast<std::uint32_t>(r.integer("count", 1, kClientsMax, g.count));
  g.request_timeout =
      r.duration("request_timeout", g.request_timeout, nanoseconds(1), kDurationMax);
  g.start = r.duration("start", g.start, Nanos::zero(), duration);
  if (auto stop = r.find("stop")) g.stop = stop->as_duration(g.start, duration);
  g.workload = read_workload(r, kind);
  r.finish();
  return g;
}

std::vector<ClientGroup> read_clients(JsonReader& root, Nanos duration,
                                      std::vector<ClientGroup> fallback) {
  auto field = root.find("clients");
  if (!field) return fallback;
  std::vector<ClientGroup> groups;
  std::uint32_t total = 0;
  for (JsonReader& r : field->as_array(0, kClientsMax)) {
    groups.push_back(read_client_group(r, duration));
    total += groups.back().count;
    if (total > kClientsMax) {
      r.find("count")->fail(
          fmt::format("expected at most {} clients over all groups, got {}", kClientsMax, total));
    }
    // One state machine serves a run: the append log or the lock service, not both.
    if (is_lock_workload(groups.back().workload) != is_lock_workload(groups.front().workload)) {
      r.find("workload")->fail_expected(
          is_lock_workload(groups.front().workload)
              ? "a lock-service workload like the first group's (lock_counter, election, config, "
                "mix): one run serves one state machine"
              : "append like the first group's: one run serves one state machine");
    }
  }
  return groups;
}

Nemesis read_nemesis(JsonReader& root, std::uint32_t nodes, Nanos duration) {
  Nemesis m;
  auto block = root.optional_object("nemesis");
  if (!block) return m;
  JsonReader& n = *block;
  m.enabled = n.optional<bool>("enabled", true);
  m.interval = n.duration("interval", m.interval, nanoseconds(1), kDurationMax);
  auto min_field = n.find("fault_duration_min");
  auto max_field = n.find("fault_duration_max");
  if (min_field) m.fault_duration_min = min_field->as_duration(nanoseconds(1), kDurationMax);
  if (max_field) {
    m.fault_duration_max = max_field->as_duration(m.fault_duration_min, kDurationMax);
  } else if (m.fault_duration_min > m.fault_duration_max) {
    min_field->fail_expected("a duration in 1ns.." + duration_text(m.fault_duration_max) +
                             " (the default fault_duration_max)");
  }
  if (auto kinds = n.find("kinds")) {
    m.kinds.clear();
    for (const JsonReader& k : kinds->as_array(1)) {
      const auto kind = static_cast<NemesisKind>(k.as_enum(kNemesisKindNames));
      if (std::find(m.kinds.begin(), m.kinds.end(), kind) != m.kinds.end()) {
        k.fail(
            fmt::format("expected each kind once, got {} a second time", describe_json(k.value())));
      }
      m.kinds.push_back(kind);
    }
  }
  if (auto max_down = n.find("max_down")) {
    const auto& v = max_down->value();
    if (!(v.is_string() && v.get_ref<const std::string&>() == "minority")) {
      if (!v.is_number_integer()) {
        max_down->fail_expected(fmt::format("\"minority\" or an integer in 0..{}", nodes));
      }
      m.max_down = static_cast<std::uint32_t>(max_down->as_integer(0, nodes));
    }
  }
  m.clock_jump_max = n.duration("clock_jump_max", m.clock_jump_max, Nanos::zero(), kDurationMax);
  m.clock_drift_ppm_max = n.number("clock_drift_ppm_max", 0.0, kDriftPpmMax, m.clock_drift_ppm_max);
  m.start = n.duration("start", m.start, Nanos::zero(), duration);
  if (auto stop = n.find("stop")) m.stop = stop->as_duration(m.start, duration);
  n.finish();
  return m;
}

ServiceSettings read_service(JsonReader& root) {
  ServiceSettings v;
  auto block = root.optional_object("service");
  if (!block) return v;
  JsonReader& b = *block;
  v.cell = read_text(b, "cell", v.cell, 1, kNameLengthMax);
  if (!service::lock::valid_component(v.cell)) {
    b.find("cell")->fail_expected(
        "a cell name of letters, digits, '.', '_' and '-' (not \".\" or \"..\")");
  }
  service::lock::LockConfig limits;
  v.session_ttl =
      b.duration("session_ttl", v.session_ttl, limits.session_ttl_min, limits.session_ttl_max);
  v.session_grace = b.duration("session_grace", v.session_grace, Nanos::zero(), kDurationMax);
  v.lock_delay = b.duration("lock_delay", v.lock_delay, Nanos::zero(), kDurationMax);
  v.event_history_max =
      b.unsigned_integer("event_history_max", 1, kEventHistoryMax, v.event_history_max);
  v.wait_resend = b.duration("wait_resend", v.wait_resend, milliseconds(1), kDurationMax);
  b.finish();
  return v;
}

ResourceSettings read_resource(JsonReader& root) {
  ResourceSettings v;
  auto block = root.optional_object("resource");
  if (!block) return v;
  v.mode = static_cast<service::ResourceMode>(block->enum_of("mode", detail::kResourceModeNames, 0));
  block->finish();
  return v;
}

Checks read_checks(JsonReader& root) {
  Checks c;
  auto block = root.optional_object("checks");
  if (!block) return c;
  if (auto properties = block->find("properties")) {
    c.properties.clear();
    for (const JsonReader& p : properties->as_array()) {
      const auto property = static_cast<Property>(p.as_enum(kPropertyNames));
      if (std::find(c.properties.begin(), c.properties.end(), property) != c.properties.end()) {
        p.fail(fmt::format("expected each property once, got {} a second time",
                           describe_json(p.value())));
      }
      c.properties.push_back(property);
    }
  }
  c.liveness_bound =
      block->duration("liveness_bound", c.liveness_bound, nanoseconds(1), kDurationMax);
  if (auto p50 = block->find("handoff_p50_max")) {
    c.handoff_p50_max = p50->as_duration(nanoseconds(1), kDurationMax);
  }
  if (auto handoff = block->find("handoff_max")) {
    c.handoff_max = handoff->as_duration(c.handoff_p50_max.value_or(nanoseconds(1)), kDurationMax);
  }
  block->finish();
  return c;
}

// {"sessions_expired": 1, ...}: counter names to bounds.
std::map<Counter, std::uint64_t> read_counters(JsonReader& field) {
  field.expect_object();
  std::map<Counter, std::uint64_t> out;
  for (auto& [name, value] : field.members()) {
    const auto it = std::find(std::begin(kCounterNames), std::end(kCounterNames), name);
    if (it == std::end(kCounterNames)) {
      value.fail(fmt::format("expected one of the counters {}, got \"{}\"",
                             join_names(kCounterNames), name));
    }
    out[static_cast<Counter>(it - std::begin(kCounterNames))] =
        value.as_unsigned(0, kLeaderChangesMax);
  }
  if (out.empty()) field.fail_expected("an object of counters, like {\"sessions_expired\": 1}");
  return out;
}

constexpr std::string_view kExpectFields =
    "violation, leader_changes_min, leader_changes_max, unsynced_tail_lost, at_least and/or "
    "at_most";

// The fields of one expectation object, each replacing what `base` says (for a protocol's
// override, `base` is the scenario's own expectation).
Expectation read_expect_fields(JsonReader& field, Expectation e, const Checks& checks,
                               Nanos duration, bool lock_run) {
  if (auto violation = field.find("violation")) {
    const auto property = static_cast<Property>(violation->as_enum(kPropertyNames));
    if (std::find(checks.properties.begin(), checks.properties.end(), property) ==
        checks.properties.end()) {
      std::vector<std::string_view> checked;
      for (Property p : checks.properties) checked.push_back(property_name(p));
      violation->fail_expected(
          checked.empty() ? std::string("a checked property, but checks.properties is empty")
                          : "one of the checked properties " + join_names(checked));
    }
    e.violation = property;
  }
  if (auto min = field.find("leader_changes_min")) {
    e.leader_changes_min = min->as_unsigned(0, kLeaderChangesMax);
  }
  if (auto max = field.find("leader_changes_max")) {
    e.leader_changes_max = max->as_unsigned(e.leader_changes_min.value_or(0), kLeaderChangesMax);
  }
  if (auto after = field.find("leader_changes_after")) {
    if (!e.bounds_leader_changes()) {
      after->fail("expected leader_changes_min or leader_changes_max beside it, got neither: "
                  "leader_changes_after only says from when they count");
    }
    e.leader_changes_after = after->as_duration(Nanos::zero(), duration);
  }
  if (auto lost = field.find("unsynced_tail_lost")) e.unsynced_tail_lost = lost->as<bool>();
  const auto counters = [&](std::string_view key, std::map<Counter, std::uint64_t>& bounds) {
    auto found = field.find(key);
    if (!found) return;
    if (!lock_run) {
      found->fail(fmt::format("expected no {} here: the counters are of lock-service workloads, "
                              "and this scenario runs append",
                              key));
    }
    bounds = read_counters(*found);
  };
  counters("at_least", e.at_least);
  counters("at_most", e.at_most);
  return e;
}

bool expects_something(const Expectation& e) {
  return e.violation || e.bounds_leader_changes() || e.unsynced_tail_lost || e.bounds_counters();
}

// "pass", or an object: an expected violation, bounds on leader changes and/or whether a crash
// must land inside a sync window; and, under a protocol's name, what differs for that protocol
// ("pass", or the fields that replace the scenario's own).
void read_expect(JsonReader& root, Scenario& s, bool lock_run) {
  const std::string expected =
      fmt::format("\"pass\" or an object with {} (and per protocol, e.g. \"paxos\": {{...}})",
                  kExpectFields);
  auto field = root.find("expect");
  if (!field) return;
  const auto& v = field->value();
  if (v.is_string() && v.get_ref<const std::string&>() == "pass") return;
  if (!v.is_object()) field->fail_expected(expected);
  s.expect = read_expect_fields(*field, Expectation{}, s.checks, s.duration, lock_run);
  for (const std::string& protocol : s.protocols) {
    auto over = field->find(protocol);
    if (!over) continue;
    const auto& ov = over->value();
    if (ov.is_string() && ov.get_ref<const std::string&>() == "pass") {
      s.expect_for[protocol] = Expectation{};
      continue;
    }
    if (!ov.is_object() || ov.empty()) {
      over->fail_expected(fmt::format("\"pass\" or an object with {}", kExpectFields));
    }
    s.expect_for[protocol] = read_expect_fields(*over, s.expect, s.checks, s.duration, lock_run);
    over->finish();
  }
  field->finish();  // a misspelt field gets its own message before the one below
  if (!expects_something(s.expect) && s.expect_for.empty()) field->fail_expected(expected);
}

Scenario read_scenario(const nlohmann::json& document, std::string_view file_label,
                       std::span<const std::string_view> known) {
  JsonReader root(document);
  root.expect_object();
  Scenario s;
  s.name = read_text(root, "name", default_name(file_label), 1, kNameLengthMax);
  s.description = read_text(root, "description", "", 0, kDescriptionLengthMax);
  s.protocols = read_protocols(root, known);
  s.nodes = static_cast<std::uint32_t>(root.required_integer("nodes", 1, kNodesMax));
  s.seed = root.optional<std::uint64_t>("seed", s.seed);
  s.duration = root.duration("duration", s.duration, nanoseconds(1), kDurationMax);
  s.event_limit = root.unsigned_integer("event_limit", 1, kEventLimitMax, s.event_limit);
  if (auto network = root.optional_object("network")) {
    detail::read_network_change(*network).apply_to(s.network);
    network->finish();
  }
  if (auto clocks = root.optional_object("clocks")) {
    s.clocks.offset_max =
        clocks->duration("offset_max", s.clocks.offset_max, Nanos::zero(), kDurationMax);
    s.clocks.drift_ppm_max =
        clocks->number("drift_ppm_max", 0.0, kDriftPpmMax, s.clocks.drift_ppm_max);
    clocks->finish();
  }
  if (auto disk = root.optional_object("disk")) {
    if (auto latency = disk->optional_object("sync_latency")) {
      s.disk.sync_latency = detail::read_latency(*latency);
    }
    s.disk.torn_writes = disk->optional<bool>("torn_writes", s.disk.torn_writes);
    s.disk.torn_corruption = disk->probability("torn_corruption", s.disk.torn_corruption);
    disk->finish();
  }
  s.protocol_options = read_protocol_options(root, known);
  s.clients = read_clients(root, s.duration, s.clients);
  const bool lock_run = s.runs_lock_service();
  for (std::string_view block : {"service", "resource"}) {
    if (!lock_run && root.value().contains(block)) {
      root.find(block)->fail(fmt::format(
          "expected no {} block: it configures lock-service workloads (lock_counter, election, "
          "config, mix), and this scenario's clients run {}",
          block, s.clients.empty() ? "nothing" : "append"));
    }
  }
  s.service = read_service(root);
  s.resource = read_resource(root);
  std::uint32_t lock_clients = 0;
  if (lock_run) {
    for (const ClientGroup& g : s.clients) lock_clients += g.count;
  }
  s.faults = detail::read_faults(root, detail::FaultLimits{s.nodes, s.duration, lock_clients});
  s.nemesis = read_nemesis(root, s.nodes, s.duration);
  s.checks = read_checks(root);
  read_expect(root, s, lock_run);
  root.finish();
  return s;
}

}  // namespace

std::string format_error(std::string_view file_label, const JsonError& error) {
  return fmt::format("{}: {}", file_label, error.to_string());
}

std::variant<Scenario, LoadError> parse_scenario(
    const nlohmann::json& document, std::string_view file_label,
    std::span<const std::string_view> known_protocols) {
  LS_ASSERT(!known_protocols.empty());
  JsonResult<Scenario> result =
      read_json([&] { return read_scenario(document, file_label, known_protocols); });
  if (const auto* error = std::get_if<JsonError>(&result)) {
    return LoadError{format_error(file_label, *error)};
  }
  return std::get<Scenario>(std::move(result));
}

std::variant<Scenario, LoadError> parse_scenario_text(
    std::string_view text, std::string_view file_label,
    std::span<const std::string_view> known_protocols) {
  JsonResult<nlohmann::json> document = parse_json_strict(text);
  if (const auto* error = std::get_if<JsonError>(&document)) {
    return LoadError{format_error(file_label, *error)};
  }
  return parse_scenario(std::get<nlohmann::json>(document), file_label, known_protocols);
}

std::variant<Scenario, LoadError> load_scenario_file(
    const std::string& path, std::span<const std::string_view> known_protocols) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) return LoadError{fmt::format("{}: cannot open: {}", path, std::strerror(errno))};
  std::string text;
  char buffer[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    text.append(buffer, n);
    if (text.size() > kFileBytesMax) {
      return LoadError{fmt::format("{}: cannot read: the file is larger than {} MiB, the limit",
                                   path, kFileBytesMax >> 20)};
    }
  }
  if (std::ferror(file.get())) {
    return LoadError{fmt::format("{}: cannot read: {}", path, std::strerror(errno))};
  }
  return parse_scenario_text(text, path, known_protocols);
}

}  // namespace lockstep::harness
