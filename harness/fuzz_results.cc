#include "harness/fuzz_results.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <numeric>
#include <utility>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/duration.h"
#include "core/join.h"

namespace lockstep::harness {

namespace {

constexpr std::string_view kNemesisKindChoices[] = {"drawn", "all"};

std::string shard_text(const FuzzSettings& s) {
  return fmt::format("{}/{}", s.shard_index + 1, s.shard_count);
}

std::vector<std::string_view> workload_names(const std::vector<FuzzWorkload>& workloads) {
  std::vector<std::string_view> names;
  for (FuzzWorkload w : workloads) names.push_back(kFuzzWorkloadNames[static_cast<int>(w)]);
  return names;
}

nlohmann::ordered_json settings_json(const FuzzResults& r) {
  const FuzzSettings& s = r.settings;
  nlohmann::ordered_json j;
  j["protocols"] = s.protocols;
  j["workloads"] = workload_names(s.workloads);
  j["nodes"] = s.nodes;
  j["duration"] = format_duration(s.duration);
  j["liveness_bound"] = format_duration(s.liveness_bound);
  if (s.clients) j["clients"] = *s.clients;
  j["nemesis_kinds"] = kNemesisKindChoices[s.all_nemesis_kinds ? 1 : 0];
  j["seeds"] = {{"first", s.seed_first}, {"last", s.seed_last}};
  j["shard"] = shard_text(s);
  if (r.budget) j["budget"] = format_duration(*r.budget);
  return j;
}

// Reads "K/N" with 1 <= K <= N <= kFuzzShardsMax into the settings.
void read_shard(const JsonReader& field, FuzzSettings& s) {
  const std::string text = field.as<std::string>();
  const auto slash = text.find('/');
  std::uint64_t k = 0;
  std::uint64_t n = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  bool ok = slash != std::string::npos;
  if (ok) {
    const auto [k_end, k_ec] = std::from_chars(begin, begin + slash, k);
    const auto [n_end, n_ec] = std::from_chars(begin + slash + 1, end, n);
    ok = k_ec == std::errc{} && n_ec == std::errc{} && k_end == begin + slash && n_end == end &&
         k >= 1 && k <= n && n <= kFuzzShardsMax;
  }
  if (!ok) field.fail_expected(fmt::format("a shard K/N with 1 <= K <= N <= {}", kFuzzShardsMax));
  s.shard_index = k - 1;
  s.shard_count = n;
}

FuzzSettings read_settings(JsonReader r, std::optional<Nanos>& budget) {
  FuzzSettings s;
  s.protocols.clear();
  for (const JsonReader& p : r.array("protocols", 1)) {
    std::string name = p.as<std::string>();
    if (name.empty() ||
        std::find(s.protocols.begin(), s.protocols.end(), name) != s.protocols.end()) {
      p.fail_expected("distinct protocol names");
    }
    s.protocols.push_back(std::move(name));
  }
  if (s.protocols.empty()) r.require("protocols", "a non-empty array of protocol names");
  s.workloads.clear();
  for (const JsonReader& w : r.array("workloads", 1, std::size(kFuzzWorkloadNames))) {
    const auto workload = static_cast<FuzzWorkload>(w.as_enum(kFuzzWorkloadNames));
    if (std::find(s.workloads.begin(), s.workloads.end(), workload) != s.workloads.end()) {
      w.fail_expected("distinct workloads");
    }
    s.workloads.push_back(workload);
  }
  if (s.workloads.empty()) r.require("workloads", "a non-empty array of workloads");
  s.nodes.clear();
  for (const JsonReader& n : r.array("nodes", 1, kNodesMax)) {
    const auto nodes = static_cast<std::uint32_t>(n.as_unsigned(1, kNodesMax));
    if (std::find(s.nodes.begin(), s.nodes.end(), nodes) != s.nodes.end()) {
      n.fail_expected("distinct cluster sizes");
    }
    s.nodes.push_back(nodes);
  }
  if (s.nodes.empty()) r.require("nodes", "a non-empty array of cluster sizes");
  s.duration = r.required_duration("duration", milliseconds(1), kDurationMax);
  s.liveness_bound = r.required_duration("liveness_bound", milliseconds(1), kDurationMax);
  if (auto clients = r.find("clients")) {
    s.clients = static_cast<std::uint32_t>(clients->as_unsigned(1, kClientsMax));
  }
  s.all_nemesis_kinds = r.required_enum("nemesis_kinds", kNemesisKindChoices) == 1;
  JsonReader seeds = r.object("seeds");
  s.seed_first = seeds.required<std::uint64_t>("first");
  s.seed_last = seeds.required<std::uint64_t>("last");
  if (s.seed_last < s.seed_first) seeds.fail("last is below first");
  seeds.finish();
  read_shard(r.require("shard", "a shard K/N"), s);
  if (auto b = r.find("budget")) budget = b->as_duration(milliseconds(1), kDurationMax * 24 * 365);
  r.finish();
  return s;
}

SeedProgression read_progression(JsonReader r) {
  SeedProgression p;
  p.first = r.required<std::uint64_t>("first");
  p.last = r.required<std::uint64_t>("last");
  p.every = r.require("every", "a step of at least 1").as_unsigned(1, kFuzzShardsMax);
  if (p.last < p.first || (p.last - p.first) % p.every != 0) {
    r.fail("expected first <= last with last - first a multiple of every");
  }
  if ((p.last - p.first) / p.every >= kFuzzOpenSeedsMax) {
    r.fail(fmt::format("more than {} seeds", kFuzzOpenSeedsMax));
  }
  r.finish();
  return p;
}

// Whether the seed is one of the progressions'.
bool seeds_hold(std::span<const SeedProgression> seeds, std::uint64_t seed) {
  return std::any_of(seeds.begin(), seeds.end(), [&](const SeedProgression& p) {
    return seed >= p.first && seed <= p.last && (seed - p.first) % p.every == 0;
  });
}

std::map<std::pair<std::string, std::string>, std::uint64_t> count_by_property(
    const std::vector<FuzzRecord>& failures) {
  FuzzOutcome o;
  for (const FuzzRecord& r : failures) o.add(r);
  return o.failures_by_property;
}

// Sorted by first seed, and collapsed to one range when together they cover one.
std::vector<SeedProgression> normalized(std::vector<SeedProgression> seeds) {
  std::sort(seeds.begin(), seeds.end(),
            [](const SeedProgression& a, const SeedProgression& b) { return a.first < b.first; });
  if (seeds.size() <= 1) return seeds;
  std::uint64_t count = 0;
  std::uint64_t last = 0;
  for (const SeedProgression& p : seeds) {
    count += p.count();
    last = std::max(last, p.last);
  }
  if (last - seeds.front().first == count - 1) return {{seeds.front().first, last, 1}};
  return seeds;
}

}  // namespace

std::optional<std::uint64_t> common_seed(const SeedProgression& a, const SeedProgression& b) {
  LS_ASSERT(a.every >= 1 && b.every >= 1);
  const SeedProgression& stepped = a.every >= b.every ? a : b;
  const SeedProgression& tested = a.every >= b.every ? b : a;
  const std::uint64_t lo = std::max(a.first, b.first);
  const std::uint64_t hi = std::min(a.last, b.last);
  if (lo > hi) return std::nullopt;
  // The first seed of `stepped` at or above lo (no higher than stepped.last, so no overflow).
  const std::uint64_t gap = lo - stepped.first;
  std::uint64_t seed =
      stepped.first + (gap / stepped.every + (gap % stepped.every != 0 ? 1 : 0)) * stepped.every;
  // Stepping through `stepped`, the residues modulo tested.every repeat within tested.every steps.
  for (std::uint64_t i = 0; i < tested.every && seed <= hi; ++i) {
    if ((seed - tested.first) % tested.every == 0) return seed;
    if (hi - seed < stepped.every) break;
    seed += stepped.every;
  }
  return std::nullopt;
}

std::string describe_seeds(std::span<const SeedProgression> seeds) {
  std::vector<std::string> parts;
  for (const SeedProgression& p : seeds) {
    if (p.first == p.last) {
      parts.push_back(fmt::format("{}", p.first));
    } else if (p.every == 1) {
      parts.push_back(fmt::format("{}-{}", p.first, p.last));
    } else {
      parts.push_back(fmt::format("{}-{} step {}", p.first, p.last, p.every));
    }
  }
  return join(parts, ", ");
}

std::uint64_t FuzzResults::seeds() const {
  std::uint64_t n = 0;
  for (const SeedProgression& p : seeds_run) n += p.count();
  return n;
}

nlohmann::ordered_json to_json(const FuzzResults& r) {
  LS_ASSERT_EQ(r.scenario_files.size(), r.outcome.failures.size());
  nlohmann::ordered_json j;
  j["format"] = kFuzzResultsFormat;
  j["settings"] = settings_json(r);
  nlohmann::ordered_json seeds = nlohmann::ordered_json::array();
  for (const SeedProgression& p : r.seeds_run) {
    seeds.push_back({{"first", p.first}, {"last", p.last}, {"every", p.every}});
  }
  j["seeds_run"] = std::move(seeds);
  j["stopped_by_budget"] = r.stopped_by_budget;
  const FuzzOutcome& o = r.outcome;
  j["totals"] = {{"runs", o.runs},
                 {"passed", o.passed},
                 {"failed", o.failures.size()},
                 {"events", o.events},
                 {"simulated_ns", o.simulated.count},
                 {"simulated", format_duration_approx(o.simulated)}};
  nlohmann::ordered_json failures = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < o.failures.size(); ++i) {
    nlohmann::ordered_json f;
    f["case"] = fuzz_case_name(o.failures[i].run);
    const nlohmann::ordered_json record = fuzz_record_json(o.failures[i]);
    for (const auto& [key, value] : record.items()) f[key] = value;
    f["scenario_file"] = r.scenario_files[i];
    failures.push_back(std::move(f));
  }
  j["failures"] = std::move(failures);
  nlohmann::ordered_json by_property = nlohmann::ordered_json::array();
  for (const auto& [key, runs] : o.failures_by_property) {
    by_property.push_back({{"protocol", key.first}, {"property", key.second}, {"runs", runs}});
  }
  j["failures_by_property"] = std::move(by_property);
  if (!r.merged_from.empty()) j["merged_from"] = r.merged_from;
  const double wall = std::max(r.wall_seconds, 1e-9);
  j["machine_dependent"] = {
      {"note", "wall time and speed depend on the machine and its load; they are not results"},
      {"wall_s", r.wall_seconds},
      {"jobs", r.jobs},
      {"runs_per_s", static_cast<double>(o.runs) / wall},
      {"seeds_per_s", static_cast<double>(r.seeds()) / wall}};
  return j;
}

JsonResult<FuzzResults> fuzz_results_from_json(const nlohmann::json& j) {
  return read_json([&] {
    JsonReader r(j);
    FuzzResults out;
    const JsonReader format = r.require("format", fmt::format("\"{}\"", kFuzzResultsFormat));
    if (format.as<std::string>() != kFuzzResultsFormat) {
      format.fail_expected(
          fmt::format("\"{}\" (a file written by lockstep fuzz --json)", kFuzzResultsFormat));
    }
    out.settings = read_settings(r.object("settings"), out.budget);
    const FuzzSettings& s = out.settings;
    const std::vector<JsonReader> seed_fields = r.array("seeds_run", 1);
    if (seed_fields.empty()) r.require("seeds_run", "a non-empty array of seed progressions");
    for (std::size_t i = 0; i < seed_fields.size(); ++i) {
      out.seeds_run.push_back(read_progression(seed_fields[i]));
      for (std::size_t k = 0; k < i; ++k) {
        if (const auto seed = common_seed(out.seeds_run[k], out.seeds_run[i])) {
          seed_fields[i].fail(fmt::format("seed {} is also in /seeds_run/{}", *seed, k));
        }
      }
    }
    out.stopped_by_budget = r.required<bool>("stopped_by_budget");

    JsonReader totals = r.object("totals");
    FuzzOutcome& o = out.outcome;
    o.runs = totals.required<std::uint64_t>("runs");
    o.passed = totals.required<std::uint64_t>("passed");
    const auto failed = totals.required<std::uint64_t>("failed");
    o.events = totals.required<std::uint64_t>("events");
    o.simulated = Nanos{totals.require("simulated_ns", "nanoseconds")
                            .as_integer(0, std::numeric_limits<std::int64_t>::max())};
    totals.required<std::string>("simulated");
    totals.finish();
    const std::uint64_t per_seed = s.nodes.size() * s.protocols.size();
    if (out.seeds() > std::numeric_limits<std::uint64_t>::max() / per_seed ||
        o.runs != out.seeds() * per_seed) {
      totals.fail(
          fmt::format("runs {} do not match seeds_run ({} seeds) x {} cluster sizes x {} "
                      "protocols",
                      o.runs, out.seeds(), s.nodes.size(), s.protocols.size()));
    }
    if (o.passed > o.runs || o.runs - o.passed != failed) {
      totals.fail(fmt::format("passed {} + failed {} is not runs {}", o.passed, failed, o.runs));
    }

    const std::vector<JsonReader> failure_fields = r.array("failures");
    if (failure_fields.size() != failed) {
      r.fail(fmt::format("/failures lists {} runs, /totals/failed says {}", failure_fields.size(),
                         failed));
    }
    for (JsonReader f : failure_fields) {
      const JsonReader name = f.require("case", "the case's name");
      FuzzRecord record = read_fuzz_record(f);
      out.scenario_files.push_back(f.required<std::string>("scenario_file"));
      f.finish();
      const FuzzCase& c = record.run;
      if (name.as<std::string>() != fuzz_case_name(c)) {
        name.fail_expected(fmt::format("\"{}\", the name of the case below", fuzz_case_name(c)));
      }
      if (record.passed) f.fail("a run listed as a failure passed");
      if (!seeds_hold(out.seeds_run, c.seed) ||
          std::find(s.nodes.begin(), s.nodes.end(), c.nodes) == s.nodes.end() ||
          std::find(s.protocols.begin(), s.protocols.end(), c.protocol) == s.protocols.end()) {
        f.fail(fmt::format("{} is not a case of this sweep (settings and seeds_run)",
                           name.as<std::string>()));
      }
      if (!o.failures.empty() && !fuzz_case_before(s, o.failures.back().run, c)) {
        f.fail(
            fmt::format("{} is out of case order (seed, then nodes, then protocol, as listed "
                        "in settings)",
                        name.as<std::string>()));
      }
      o.failures.push_back(std::move(record));
    }
    o.failures_by_property = count_by_property(o.failures);
    std::map<std::pair<std::string, std::string>, std::uint64_t> listed;
    for (JsonReader p : r.array("failures_by_property")) {
      std::pair key(p.required<std::string>("protocol"), p.required<std::string>("property"));
      listed[key] = p.require("runs", "a number of runs").as_unsigned(1, o.runs);
      p.finish();
    }
    if (listed != o.failures_by_property) {
      r.fail("/failures_by_property does not match the runs /failures lists");
    }
    for (const JsonReader& f : r.array("merged_from"))
      out.merged_from.push_back(f.as<std::string>());
    JsonReader machine = r.object("machine_dependent");
    machine.required<std::string>("note");
    out.wall_seconds = machine.require("wall_s", "seconds").as_number(0, 1e12);
    out.jobs = machine.required<std::uint64_t>("jobs");
    machine.require("runs_per_s", "a number").as_number(0, 1e300);
    machine.require("seeds_per_s", "a number").as_number(0, 1e300);
    machine.finish();
    r.finish();
    return out;
  });
}

std::optional<std::string> fuzz_settings_mismatch(const FuzzSettings& a, const FuzzSettings& b) {
  if (a.protocols != b.protocols) {
    return fmt::format("protocols {} vs {}", join(a.protocols, ","), join(b.protocols, ","));
  }
  if (a.workloads != b.workloads) {
    return fmt::format("workloads {} vs {}", join(workload_names(a.workloads), ","),
                       join(workload_names(b.workloads), ","));
  }
  if (a.nodes != b.nodes)
    return fmt::format("nodes {} vs {}", join(a.nodes, ","), join(b.nodes, ","));
  if (a.duration != b.duration) {
    return fmt::format("duration {} vs {}", format_duration(a.duration),
                       format_duration(b.duration));
  }
  if (a.liveness_bound != b.liveness_bound) {
    return fmt::format("liveness bound {} vs {}", format_duration(a.liveness_bound),
                       format_duration(b.liveness_bound));
  }
  if (a.clients != b.clients) {
    const auto text = [](const std::optional<std::uint32_t>& c) {
      return c ? fmt::format("{}", *c) : std::string("drawn");
    };
    return fmt::format("clients {} vs {}", text(a.clients), text(b.clients));
  }
  if (a.all_nemesis_kinds != b.all_nemesis_kinds) {
    return fmt::format("nemesis kinds {} vs {}", kNemesisKindChoices[a.all_nemesis_kinds ? 1 : 0],
                       kNemesisKindChoices[b.all_nemesis_kinds ? 1 : 0]);
  }
  return std::nullopt;
}

std::variant<FuzzResults, std::string> merge_fuzz_results(
    std::span<const NamedFuzzResults> inputs) {
  LS_ASSERT(!inputs.empty());
  const FuzzResults& front = inputs.front().results;
  for (std::size_t i = 1; i < inputs.size(); ++i) {
    if (const auto diff = fuzz_settings_mismatch(front.settings, inputs[i].results.settings)) {
      return fmt::format(
          "{}: a different sweep from {}: {} (only seeds, shard and budget may "
          "differ)",
          inputs[i].file, inputs.front().file, *diff);
    }
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    for (std::size_t k = 0; k < i; ++k) {
      for (const SeedProgression& a : inputs[k].results.seeds_run) {
        for (const SeedProgression& b : inputs[i].results.seeds_run) {
          if (const auto seed = common_seed(a, b)) {
            return fmt::format(
                "{} and {} overlap: both ran seed {} ({}: shard {}, seeds {}; {}: "
                "shard {}, seeds {})",
                inputs[k].file, inputs[i].file, *seed, inputs[k].file,
                shard_text(inputs[k].results.settings), describe_seeds(inputs[k].results.seeds_run),
                inputs[i].file, shard_text(inputs[i].results.settings),
                describe_seeds(inputs[i].results.seeds_run));
          }
        }
      }
    }
  }

  FuzzResults out;
  out.settings = front.settings;
  out.settings.shard_index = 0;
  out.settings.shard_count = 1;
  out.budget = front.budget;
  std::vector<SeedProgression> seeds;
  std::vector<std::pair<FuzzRecord, std::string>> failures;
  for (const NamedFuzzResults& in : inputs) {
    const FuzzResults& r = in.results;
    out.settings.seed_first = std::min(out.settings.seed_first, r.settings.seed_first);
    out.settings.seed_last = std::max(out.settings.seed_last, r.settings.seed_last);
    if (out.budget != r.budget) out.budget.reset();
    out.stopped_by_budget = out.stopped_by_budget || r.stopped_by_budget;
    seeds.insert(seeds.end(), r.seeds_run.begin(), r.seeds_run.end());
    out.outcome.runs += r.outcome.runs;
    out.outcome.passed += r.outcome.passed;
    out.outcome.events += r.outcome.events;
    out.outcome.simulated += r.outcome.simulated;
    for (std::size_t i = 0; i < r.outcome.failures.size(); ++i) {
      failures.emplace_back(r.outcome.failures[i], r.scenario_files[i]);
    }
    out.merged_from.push_back(in.file);
    out.wall_seconds = std::max(out.wall_seconds, r.wall_seconds);
    out.jobs += r.jobs;
  }
  out.seeds_run = normalized(std::move(seeds));
  std::sort(failures.begin(), failures.end(), [&](const auto& a, const auto& b) {
    return fuzz_case_before(out.settings, a.first.run, b.first.run);
  });
  for (auto& [record, file] : failures) {
    out.outcome.failures.push_back(std::move(record));
    out.scenario_files.push_back(std::move(file));
  }
  out.outcome.failures_by_property = count_by_property(out.outcome.failures);
  return out;
}

}  // namespace lockstep::harness
