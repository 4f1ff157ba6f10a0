#include "harness/fuzz.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <tuple>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/duration.h"
#include "core/join.h"
#include "core/rng.h"
#include "harness/run.h"
#include "harness/scenario_parse.h"

namespace lockstep::harness {

namespace {

// The nemesis kinds a profile draws from, in a fixed order (the draw depends on it).
constexpr NemesisKind kFuzzKinds[] = {NemesisKind::partition,  NemesisKind::crash,
                                      NemesisKind::pause,      NemesisKind::clock_jump,
                                      NemesisKind::clock_drift, NemesisKind::clog};

std::string_view kind_label(NemesisKind kind) {
  switch (kind) {
    case NemesisKind::partition: return "partition";
    case NemesisKind::crash: return "crash";
    case NemesisKind::pause: return "pause";
    case NemesisKind::clock_jump: return "clock_jump";
    case NemesisKind::clock_drift: return "clock_drift";
    case NemesisKind::clog: return "clog";
    case NemesisKind::corrupt_disk: return "corrupt_disk";
  }
  return "?";
}

// `d` to three significant digits and whole microseconds, so scenario files and profiles read
// "1.3s" and "199ms" rather than "1.300847s".
Nanos round3(double ns) {
  double step = 1e3;
  while (ns >= step * 1000.0) step *= 10.0;
  return Nanos{static_cast<std::int64_t>(std::llround(ns / step) * static_cast<std::int64_t>(step))};
}

// Log-uniform in [lo, hi], rounded by round3.
Nanos log_uniform(Rng& rng, Nanos lo, Nanos hi) {
  LS_ASSERT_GT(lo, Nanos::zero());
  LS_ASSERT_LE(lo, hi);
  const double l = std::log(static_cast<double>(lo.count));
  const double h = std::log(static_cast<double>(hi.count));
  return std::clamp(round3(std::exp(l + rng.unit() * (h - l))), lo, hi);
}

double log_uniform(Rng& rng, double lo, double hi) {
  const double x = std::exp(std::log(lo) + rng.unit() * (std::log(hi) - std::log(lo)));
  return std::clamp(std::round(x), lo, hi);
}

// Uniform in (0, max], rounded to 1e-4 so scenario files read 0.0234.
double probability_up_to(Rng& rng, double max) {
  return std::max(1e-4, std::round(rng.unit() * max * 1e4) / 1e4);
}

// A multiplier uniform in [lo, hi] with one decimal.
double factor(Rng& rng, double lo, double hi) {
  return std::round((lo + rng.unit() * (hi - lo)) * 10.0) / 10.0;
}

Nanos scaled(Nanos d, double k) { return std::max(d, round3(static_cast<double>(d.count) * k)); }

Nanos plus(Nanos a, Nanos b) { return std::max(a, round3(static_cast<double>((a + b).count))); }

void draw_nemesis(Rng& rng, Nemesis& n) {
  n.enabled = true;
  const std::uint64_t mask = 1 + rng.below((1u << std::size(kFuzzKinds)) - 1);
  n.kinds.clear();
  for (std::size_t i = 0; i < std::size(kFuzzKinds); ++i) {
    if ((mask >> i) & 1u) n.kinds.push_back(kFuzzKinds[i]);
  }
  n.interval = log_uniform(rng, milliseconds(200), seconds(3));
  n.fault_duration_min = log_uniform(rng, milliseconds(50), seconds(1));
  n.fault_duration_max = plus(n.fault_duration_min, log_uniform(rng, milliseconds(100), seconds(4)));
  n.clock_jump_max = log_uniform(rng, milliseconds(10), seconds(5));
  n.clock_drift_ppm_max = log_uniform(rng, 100.0, 50'000.0);
  n.max_down.reset();  // a minority: a majority stays up, so every run must stay live
}

void draw_network(Rng& rng, sim::NetworkConfig& net) {
  net.loss = rng.chance(0.5) ? probability_up_to(rng, 0.05) : 0.0;
  net.duplicate = rng.chance(0.5) ? probability_up_to(rng, 0.05) : 0.0;
  net.reorder = rng.chance(0.5) ? probability_up_to(rng, 0.20) : 0.0;
  net.reorder_delay_max = log_uniform(rng, milliseconds(1), milliseconds(50));
  sim::LatencyDistribution& lat = net.latency;
  switch (rng.below(3)) {
    case 0:
      lat.kind = sim::LatencyDistribution::Kind::constant;
      lat.value = log_uniform(rng, microseconds(50), milliseconds(5));
      break;
    case 1:
      lat.kind = sim::LatencyDistribution::Kind::uniform;
      lat.min = log_uniform(rng, microseconds(50), milliseconds(2));
      lat.max = plus(lat.min, log_uniform(rng, microseconds(10), milliseconds(10)));
      break;
    default:
      lat.kind = sim::LatencyDistribution::Kind::lognormal;
      lat.median = log_uniform(rng, microseconds(100), milliseconds(2));
      lat.p99 = scaled(lat.median, factor(rng, 2.0, 20.0));
      lat.max = scaled(lat.p99, factor(rng, 2.0, 5.0));
      break;
  }
}

void draw_clients(Rng& rng, std::vector<ClientGroup>& clients) {
  ClientGroup group;
  group.count = static_cast<std::uint32_t>(rng.between(1, 5));
  AppendWorkload append;
  append.interval =
      rng.chance(0.25) ? Nanos::zero() : log_uniform(rng, milliseconds(1), milliseconds(100));
  group.workload = append;
  group.request_timeout = log_uniform(rng, milliseconds(100), seconds(1));
  clients = {group};
}

Nanos hold_time(Rng& rng) {
  return rng.chance(0.25) ? Nanos::zero() : log_uniform(rng, milliseconds(1), milliseconds(100));
}

std::uint32_t count_between(Rng& rng, std::uint32_t lo, std::uint32_t hi) {
  return static_cast<std::uint32_t>(rng.between(lo, hi));
}

// One lock-service workload with its own parameters (see fuzz.h for the ranges).
void draw_lock_clients(Rng& rng, std::vector<ClientGroup>& clients) {
  ClientGroup group;
  group.count = count_between(rng, 1, 5);
  group.request_timeout = log_uniform(rng, milliseconds(100), seconds(1));
  const Nanos interval = log_uniform(rng, milliseconds(1), milliseconds(100));
  switch (rng.below(4)) {
    case 0: {
      LockCounterWorkload w;
      w.locks = count_between(rng, 1, 3);
      w.hold = hold_time(rng);
      w.interval = interval;
      w.presence = rng.chance(0.5);
      group.workload = w;
      break;
    }
    case 1: {
      ElectionWorkload w;
      w.elections = count_between(rng, 1, 2);
      w.term = log_uniform(rng, milliseconds(100), seconds(2));
      w.work_interval = log_uniform(rng, milliseconds(10), milliseconds(100));
      group.workload = w;
      break;
    }
    case 2: {
      ConfigWorkload w;
      w.keys = count_between(rng, 1, 8);
      w.interval = interval;
      w.watch = rng.chance(0.5);
      group.workload = w;
      break;
    }
    default: {
      MixWorkload w;
      w.locks = count_between(rng, 1, 3);
      w.keys = count_between(rng, 1, 8);
      w.hold = hold_time(rng);
      w.interval = interval;
      group.workload = w;
      break;
    }
  }
  clients = {group};
}

std::string percent(double p) { return fmt::format("{:g}%", std::round(p * 1e4) / 1e2); }

std::string describe_latency(const sim::LatencyDistribution& lat) {
  switch (lat.kind) {
    case sim::LatencyDistribution::Kind::constant:
      return fmt::format("constant {}", format_duration(lat.value));
    case sim::LatencyDistribution::Kind::uniform:
      return fmt::format("uniform {}..{}", format_duration(lat.min), format_duration(lat.max));
    case sim::LatencyDistribution::Kind::lognormal:
      return fmt::format("lognormal {}/{}/{}", format_duration(lat.median),
                         format_duration(lat.p99), format_duration(lat.max));
  }
  return "?";
}

bool has_kind(const Nemesis& n, NemesisKind kind) {
  return std::find(n.kinds.begin(), n.kinds.end(), kind) != n.kinds.end();
}

}  // namespace

std::uint64_t fuzz_seed_count(const FuzzSettings& settings) {
  LS_ASSERT_LE(settings.seed_first, settings.seed_last);
  LS_ASSERT(settings.shard_count >= 1 && settings.shard_index < settings.shard_count);
  const std::uint64_t span = settings.seed_last - settings.seed_first;  // seeds - 1
  LS_ASSERT_LT(span, std::numeric_limits<std::uint64_t>::max());
  if (span < settings.shard_index) return 0;
  return (span - settings.shard_index) / settings.shard_count + 1;
}

std::uint64_t fuzz_seed_at(const FuzzSettings& settings, std::uint64_t index) {
  LS_ASSERT_LT(index, fuzz_seed_count(settings));
  return settings.seed_first + settings.shard_index + index * settings.shard_count;
}

std::vector<FuzzCase> fuzz_seed_cases(const FuzzSettings& settings, std::uint64_t seed) {
  std::vector<FuzzCase> cases;
  cases.reserve(settings.nodes.size() * settings.protocols.size());
  for (std::uint32_t nodes : settings.nodes) {
    for (const std::string& protocol : settings.protocols) {
      cases.push_back(FuzzCase{seed, nodes, protocol});
    }
  }
  return cases;
}

std::vector<FuzzCase> fuzz_cases(const FuzzSettings& settings) {
  const std::uint64_t seeds = fuzz_seed_count(settings);
  const std::uint64_t per_seed = settings.nodes.size() * settings.protocols.size();
  LS_ASSERT(seeds != 0 && seeds <= kFuzzRunsMax && per_seed <= kFuzzRunsMax / seeds);
  std::vector<FuzzCase> cases;
  cases.reserve(seeds * per_seed);
  for (std::uint64_t i = 0; i < seeds; ++i) {
    for (FuzzCase& c : fuzz_seed_cases(settings, fuzz_seed_at(settings, i))) {
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

bool fuzz_case_before(const FuzzSettings& settings, const FuzzCase& a, const FuzzCase& b) {
  const auto place = [&](const FuzzCase& c) {
    const auto n = std::find(settings.nodes.begin(), settings.nodes.end(), c.nodes);
    const auto p = std::find(settings.protocols.begin(), settings.protocols.end(), c.protocol);
    LS_ASSERT(n != settings.nodes.end() && p != settings.protocols.end());
    return std::tuple(c.seed, n - settings.nodes.begin(), p - settings.protocols.begin());
  };
  return place(a) < place(b);
}

Scenario fuzz_scenario(const FuzzSettings& settings, std::uint64_t seed, std::uint32_t nodes) {
  LS_ASSERT(nodes >= 1 && nodes <= kNodesMax);
  Scenario s;
  s.name = fmt::format("fuzz-n{}-seed{}", nodes, seed);
  s.protocols = settings.protocols;
  s.nodes = nodes;
  s.seed = seed;
  s.duration = settings.duration;
  s.checks.liveness_bound = settings.liveness_bound;
  s.expect = Expectation{};

  // The draw order below is part of the format: changing it changes every seed's profile.
  Rng rng = Rng::derive(seed, kFuzzProfileStream);
  draw_nemesis(rng, s.nemesis);
  if (settings.all_nemesis_kinds) {
    s.nemesis.kinds.assign(std::begin(kFuzzKinds), std::end(kFuzzKinds));
  }
  draw_network(rng, s.network);
  s.clocks.offset_max = rng.chance(0.5) ? log_uniform(rng, milliseconds(1), milliseconds(500))
                                        : Nanos::zero();
  s.clocks.drift_ppm_max = rng.chance(0.5) ? log_uniform(rng, 1.0, 500.0) : 0.0;
  s.disk.torn_writes = rng.chance(0.5);
  s.disk.torn_corruption = s.disk.torn_writes && rng.chance(0.5) ? 0.5 : 0.0;
  draw_clients(rng, s.clients);
  // Drawn last, so that the draws above keep their meaning: how long a sync takes decides how
  // wide the window is in which a crash loses a tail. The default disk, a fast one, or a slow one.
  switch (rng.below(3)) {
    case 0: break;
    case 1:
      s.disk.sync_latency = sim::LatencyDistribution{
          .kind = sim::LatencyDistribution::Kind::constant, .value = microseconds(10)};
      break;
    default: {
      const Nanos lo = log_uniform(rng, milliseconds(1), milliseconds(10));
      s.disk.sync_latency = sim::LatencyDistribution{
          .kind = sim::LatencyDistribution::Kind::uniform, .min = lo, .max = lo * 3};
      break;
    }
  }
  // Drawn after everything else, so that the profile above is the same whichever workloads the
  // settings allow.
  LS_ASSERT(!settings.workloads.empty());
  const FuzzWorkload workload =
      settings.workloads.size() == 1 ? settings.workloads.front()
                                     : settings.workloads[rng.below(settings.workloads.size())];
  if (workload == FuzzWorkload::lock) draw_lock_clients(rng, s.clients);
  if (settings.clients) {
    LS_ASSERT(*settings.clients >= 1 && *settings.clients <= kClientsMax);
    s.clients.front().count = *settings.clients;
  }

  for (const auto& [name, options] : settings.protocol_options) {
    s.protocol_options[name] = ProtocolOptions{options, fmt::format("/protocol_options/{}", name)};
  }

  s.description = fmt::format(
      "Generated by lockstep fuzz from seed {} on {} servers; expected to pass. Profile: {}", seed,
      nodes, describe_profile(s));
  for (const auto& [name, options] : settings.protocol_options) {
    s.description += fmt::format(". Protocol options for {}: {}", name, options.dump());
  }
  return s;
}

std::string fuzz_case_name(const FuzzCase& c) {
  return fmt::format("fuzz-{}-n{}-seed{}", c.protocol, c.nodes, c.seed);
}

Scenario fuzz_case_scenario(const FuzzSettings& settings, const FuzzCase& c) {
  Scenario s = fuzz_scenario(settings, c.seed, c.nodes);
  s.protocols = {c.protocol};
  s.name = fuzz_case_name(c);
  return s;
}

std::string describe_profile(const Scenario& s) {
  std::vector<std::string> parts;
  const Nemesis& n = s.nemesis;
  if (n.enabled) {
    std::vector<std::string_view> kinds;
    for (NemesisKind k : n.kinds) kinds.push_back(kind_label(k));
    std::string text = fmt::format("nemesis: {} every ~{} for {}..{}", join(kinds, "+"),
                                   format_duration(n.interval),
                                   format_duration(n.fault_duration_min),
                                   format_duration(n.fault_duration_max));
    if (has_kind(n, NemesisKind::clock_jump)) {
      text += fmt::format(", jumps ±{}", format_duration(n.clock_jump_max));
    }
    if (has_kind(n, NemesisKind::clock_drift)) {
      text += fmt::format(", drift ±{:g}ppm", n.clock_drift_ppm_max);
    }
    parts.push_back(std::move(text));
  } else {
    parts.emplace_back("nemesis: off");
  }
  const sim::NetworkConfig& net = s.network;
  if (net.loss > 0) parts.push_back("loss " + percent(net.loss));
  if (net.duplicate > 0) parts.push_back("dup " + percent(net.duplicate));
  if (net.reorder > 0) {
    parts.push_back(fmt::format("reorder {} +{}", percent(net.reorder),
                                format_duration(net.reorder_delay_max)));
  }
  parts.push_back(describe_latency(net.latency));
  if (s.clocks.offset_max > Nanos::zero()) {
    parts.push_back("offsets ±" + format_duration(s.clocks.offset_max));
  }
  if (s.clocks.drift_ppm_max > 0) parts.push_back(fmt::format("skew ±{:g}ppm", s.clocks.drift_ppm_max));
  if (s.disk.torn_writes) {
    parts.emplace_back(s.disk.torn_corruption > 0 ? "torn+corrupt writes" : "torn writes");
  }
  if (!(s.disk.sync_latency == sim::DiskConfig{}.sync_latency)) {
    parts.push_back("sync " + describe_latency(s.disk.sync_latency));
  }
  std::uint32_t clients = 0;
  for (const ClientGroup& g : s.clients) clients += g.count;
  std::string client_text = fmt::format("{} client{}", clients, clients == 1 ? "" : "s");
  if (s.clients.size() == 1) {
    const ClientGroup& g = s.clients.front();
    if (const auto* a = std::get_if<AppendWorkload>(&g.workload)) {
      client_text += a->interval == Nanos::zero()
                         ? std::string(" back-to-back")
                         : " every " + format_duration(a->interval);
    } else {
      client_text += fmt::format(" of {}", detail::kWorkloadNames[g.workload.index()]);
    }
    client_text += fmt::format(" (timeout {})", format_duration(g.request_timeout));
  }
  parts.push_back(std::move(client_text));
  return join(parts, ", ");
}

FuzzRecord run_fuzz_case(const FuzzSettings& settings, const FuzzCase& c) {
  const Scenario scenario = fuzz_case_scenario(settings, c);
  const RunResult result = run_scenario(scenario, RunOptions{std::nullopt, c.protocol, nullptr});
  FuzzRecord record;
  record.run = c;
  record.passed = result.as_expected;
  record.trace_hash = result.trace_hash;
  record.events = result.events;
  record.simulated = result.simulated;
  for (const PropertyVerdict& v : result.properties) {
    if (v.verdict == Verdict::fail) {
      record.failures.push_back(FuzzFailure{std::string(property_name(v.property)), v.detail});
    }
  }
  if (!record.passed && record.failures.empty()) {
    // Expecting a pass, the only other way to miss it is a run cut short by its event limit.
    record.failures.push_back(FuzzFailure{
        "event_limit", fmt::format("{} after {} events at {}", result.observed, result.events,
                                   format_duration(result.simulated))});
  }
  return record;
}

FuzzRecord crashed_record(const FuzzCase& c, std::string detail) {
  FuzzRecord record;
  record.run = c;
  record.failures.push_back(FuzzFailure{"crash", std::move(detail)});
  return record;
}

nlohmann::ordered_json fuzz_record_json(const FuzzRecord& r) {
  nlohmann::ordered_json j;
  j["seed"] = r.run.seed;
  j["nodes"] = r.run.nodes;
  j["protocol"] = r.run.protocol;
  j["passed"] = r.passed;
  j["trace_hash"] = fmt::format("{:016x}", r.trace_hash);
  j["events"] = r.events;
  j["simulated_ns"] = r.simulated.count;
  nlohmann::ordered_json failures = nlohmann::ordered_json::array();
  for (const FuzzFailure& f : r.failures) {
    failures.push_back({{"property", f.property}, {"detail", f.detail}});
  }
  j["failures"] = std::move(failures);
  return j;
}

std::string to_json_line(const FuzzRecord& r) { return fuzz_record_json(r).dump(); }

FuzzRecord read_fuzz_record(JsonReader& reader) {
  FuzzRecord r;
  r.run.seed = reader.required<std::uint64_t>("seed");
  r.run.nodes = static_cast<std::uint32_t>(reader.require("nodes", "a cluster size")
                                               .as_unsigned(1, kNodesMax));
  r.run.protocol = reader.required<std::string>("protocol");
  r.passed = reader.required<bool>("passed");
  const JsonReader hash_field = reader.require("trace_hash", "16 hexadecimal digits");
  const std::string hash = hash_field.as<std::string>();
  const auto [end, ec] = std::from_chars(hash.data(), hash.data() + hash.size(), r.trace_hash, 16);
  if (hash.size() != 16 || ec != std::errc{} || end != hash.data() + hash.size()) {
    hash_field.fail_expected("16 hexadecimal digits");
  }
  r.events = reader.required<std::uint64_t>("events");
  r.simulated = Nanos{reader.require("simulated_ns", "nanoseconds")
                          .as_integer(0, std::numeric_limits<std::int64_t>::max())};
  for (JsonReader& f : reader.array("failures")) {
    FuzzFailure failure;
    failure.property = f.required<std::string>("property");
    failure.detail = f.required<std::string>("detail");
    f.finish();
    r.failures.push_back(std::move(failure));
  }
  if (!r.passed && r.failures.empty()) reader.fail("a failed run must list its failures");
  return r;
}

std::optional<FuzzRecord> fuzz_record_from_json(std::string_view line) {
  const JsonResult<nlohmann::json> j = parse_json_strict(line);
  if (std::holds_alternative<JsonError>(j)) return std::nullopt;
  const JsonResult<FuzzRecord> record = read_json([&] {
    JsonReader reader(std::get<nlohmann::json>(j));
    FuzzRecord r = read_fuzz_record(reader);
    reader.finish();
    return r;
  });
  if (const auto* r = std::get_if<FuzzRecord>(&record)) return *r;
  return std::nullopt;
}

void FuzzOutcome::add(const FuzzRecord& record) {
  ++runs;
  events += record.events;
  simulated += record.simulated;
  if (record.passed) {
    ++passed;
    return;
  }
  for (const FuzzFailure& f : record.failures) {
    ++failures_by_property[{record.run.protocol, f.property}];
  }
  failures.push_back(record);
}

FuzzOutcome run_fuzz(const FuzzSettings& settings,
                     const std::function<void(const FuzzRecord&)>& on_record) {
  FuzzOutcome outcome;
  for (const FuzzCase& c : fuzz_cases(settings)) {
    const FuzzRecord record = run_fuzz_case(settings, c);
    outcome.add(record);
    if (on_record) on_record(record);
  }
  return outcome;
}

}  // namespace lockstep::harness
