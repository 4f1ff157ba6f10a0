#include "harness/shrink.h"

#include <algorithm>
#include <memory>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/assert.h"
#include "core/duration.h"
#include "core/join.h"
#include "core/rng.h"
#include "harness/nemesis.h"
#include "harness/protocols.h"
#include "harness/shrink_edits.h"
#include "sim/world.h"

namespace lockstep::harness {

namespace {

namespace edits = shrink_edits;

// Each server's drift when the run begins: the world draws it from the seed as it adds the node
// (sim/world.cc), so a world that is built and never run gives the same values. Servers are the
// first nodes of a run.
std::vector<double> baseline_drift_ppm(const Scenario& s) {
  sim::World world(sim::WorldConfig{s.seed, s.network, s.clocks, s.disk});
  std::vector<double> drift;
  for (std::uint32_t i = 0; i < s.nodes; ++i) {
    world.add_node(fmt::format("server{}", i),
                   [](NodeId) -> std::unique_ptr<Process> { return nullptr; });
  }
  for (std::uint32_t i = 0; i < s.nodes; ++i) drift.push_back(world.clock(NodeId{i}).drift_ppm());
  return drift;
}

// Whether the scenario writes out and loads back as itself (so it can be kept as a file).
bool loads_back(const Scenario& s) {
  const nlohmann::json document = nlohmann::json::parse(to_json(s).dump());
  const auto loaded = parse_scenario(document, s.name + ".json", known_protocols());
  const auto* again = std::get_if<Scenario>(&loaded);
  return again != nullptr && *again == s;
}

const PropertyVerdict* verdict_of(const RunResult& result, Property property) {
  for (const PropertyVerdict& v : result.properties) {
    if (v.property == property) return &v;
  }
  return nullptr;
}

bool failed(const RunResult& result, Property property) {
  const PropertyVerdict* v = verdict_of(result, property);
  return v != nullptr && v->verdict == Verdict::fail;
}

// The invariant a failed `invariants` verdict names first ("leader_completeness at 1.6s: ...",
// "lock service at the end: ..." gives "lock"); empty for other properties.
std::string invariant_of(const RunResult& result, Property property) {
  if (property != Property::invariants || !failed(result, property)) return {};
  const std::string& detail = verdict_of(result, property)->detail;
  return detail.substr(0, detail.find(' '));
}

// Whether the run fails `property` the way the input did (the same invariant, for invariants).
bool fails_the_same(const RunResult& result, Property property, std::string_view invariant) {
  return failed(result, property) && invariant_of(result, property) == invariant;
}

std::string fault_label(const Fault& f) {
  return fmt::format("{} at {}", fault_action_name(f.action), format_duration(f.at));
}

// "1 fault event" / "12 fault events".
std::string fault_events(std::size_t n) {
  return fmt::format("{} fault event{}", n, n == 1 ? "" : "s");
}

// What dropping `dropped` (indexes into `faults`, ascending) removes, for the log.
std::string dropped_text(const std::vector<Fault>& faults, const std::vector<std::size_t>& dropped) {
  LS_ASSERT(!dropped.empty());
  if (dropped.size() <= 3) {
    std::vector<std::string> labels;
    for (std::size_t i : dropped) labels.push_back(fault_label(faults[i]));
    return fmt::format("dropped {} of {}: {}", dropped.size(), faults.size(), join(labels, ", "));
  }
  return fmt::format("dropped {} of {} ({}..{})", fault_events(dropped.size()), faults.size(),
                     format_duration(faults[dropped.front()].at),
                     format_duration(faults[dropped.back()].at));
}

// `t` rounded up to a whole millisecond, at least 1ms: a file reads "1.234s", not "1.23456789s".
Nanos whole_ms_after(Nanos t) {
  const std::int64_t ms = 1'000'000;
  return Nanos{std::max<std::int64_t>(1, (t.count + ms - 1) / ms) * ms};
}

// Cut at a character boundary so that the text stays valid UTF-8.
std::string truncated(std::string text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

class Shrinker {
 public:
  Shrinker(Scenario start, std::string protocol, Property property, std::string invariant,
           const ShrinkOptions& options, std::uint64_t runs_used, const RunResult& start_result)
      : current_(std::move(start)),
        protocol_(std::move(protocol)),
        property_(property),
        invariant_(std::move(invariant)),
        options_(options),
        runs_(runs_used) {
    note_failure(start_result);
  }

  void shrink() {
    while (!exhausted()) {
      bool progress = false;
      progress = shrink_duration() || progress;
      progress = shrink_faults() || progress;
      progress = shrink_servers() || progress;
      progress = shrink_clients() || progress;
      progress = try_edits(edits::workload_edits(current_), "workload") || progress;
      progress = try_edits(edits::environment_edits(), "environment") || progress;
      if (!progress) break;
    }
  }

  const Scenario& current() const { return current_; }
  const std::string& detail() const { return detail_; }
  std::uint64_t runs() const { return runs_; }
  std::uint64_t rejected() const { return rejected_; }
  bool exhausted() const { return runs_ >= options_.max_runs; }
  std::vector<ShrinkStep>& steps() { return steps_; }

 private:
  void note_failure(const RunResult& result) {
    detail_ = verdict_of(result, property_)->detail;
    // A run stops at the event that broke an invariant; other properties are judged at the end.
    failed_at_ = result.stop == sim::StopReason::stopped ? std::optional(result.simulated)
                                                         : std::nullopt;
  }

  // Keeps `candidate` if it loads back and its run still fails the property.
  bool attempt(Scenario candidate, std::string change) {
    if (exhausted() || candidate == current_ || !loads_back(candidate)) return false;
    ++runs_;
    const RunResult result = run_scenario(candidate, RunOptions{std::nullopt, protocol_, nullptr});
    if (!fails_the_same(result, property_, invariant_)) {
      ++rejected_;
      return false;
    }
    current_ = std::move(candidate);
    note_failure(result);
    steps_.push_back(ShrinkStep{std::move(change), runs_, current_.faults.size()});
    return true;
  }

  bool shrink_duration() {
    const Nanos was = current_.duration;
    // A run that stopped at its failure before the end needs to last only that long; one judged
    // at the end, or stopped in the settle window, is halved while it still fails.
    if (failed_at_ && whole_ms_after(*failed_at_) < was) {
      const Nanos cut = whole_ms_after(*failed_at_);
      return attempt(edits::with_duration(current_, cut),
                     fmt::format("duration {} -> {} (the run stops at the failure, at {})",
                                 format_duration(was), format_duration(cut),
                                 format_duration(*failed_at_)));
    }
    bool progress = false;
    while (current_.duration >= milliseconds(2)) {
      const Nanos before = current_.duration;
      const Nanos half = whole_ms_after(before / 2);
      if (half >= before ||
          !attempt(edits::with_duration(current_, half),
                   fmt::format("duration {} -> {} (halved)", format_duration(before),
                               format_duration(half)))) {
        break;
      }
      progress = true;
    }
    return progress;
  }

  bool shrink_faults() {
    if (current_.faults.empty()) return false;
    Scenario none = current_;
    none.faults.clear();
    if (attempt(std::move(none), fmt::format("dropped all {}", fault_events(current_.faults.size())))) {
      return true;
    }
    bool progress = delta_debug(edits::fault_units(current_.faults));
    std::vector<std::vector<std::size_t>> singles;
    for (std::size_t i = 0; i < current_.faults.size(); ++i) singles.push_back({i});
    return delta_debug(std::move(singles)) || progress;
  }

  // Delta debugging by complements: drop each of n chunks of units in turn, keeping the first
  // drop that still fails, starting with halves and doubling n up to one unit per chunk.
  bool delta_debug(std::vector<std::vector<std::size_t>> units) {
    const std::vector<Fault> base = current_.faults;
    bool progress = false;
    std::size_t n = 2;
    std::size_t first = 0;  // one unit per chunk: resume where the last drop was
    while (!units.empty() && !exhausted()) {
      n = std::min(n, units.size());
      const std::size_t chunk = (units.size() + n - 1) / n;
      bool dropped = false;
      for (std::size_t start = chunk == 1 ? first : 0; start < units.size() && !exhausted();
           start += chunk) {
        const std::size_t end = std::min(units.size(), start + chunk);
        std::vector<std::size_t> keep;
        std::vector<std::size_t> gone;
        for (std::size_t u = 0; u < units.size(); ++u) {
          auto& into = u >= start && u < end ? gone : keep;
          into.insert(into.end(), units[u].begin(), units[u].end());
        }
        std::sort(keep.begin(), keep.end());
        std::sort(gone.begin(), gone.end());
        // Indexes into `base`: the log names them in the list this delta debugging started from.
        Scenario candidate = current_;
        candidate.faults = edits::pick_faults(base, keep);
        if (attempt(std::move(candidate), dropped_text(base, gone))) {
          units.erase(units.begin() + static_cast<std::ptrdiff_t>(start),
                      units.begin() + static_cast<std::ptrdiff_t>(end));
          first = start;
          dropped = true;
          progress = true;
          break;
        }
      }
      if (dropped) {
        n = std::max<std::size_t>(n - 1, 2);
        continue;
      }
      if (n >= units.size()) break;
      n = std::min(n * 2, units.size());
      first = 0;
    }
    return progress;
  }

  bool shrink_servers() {
    const std::uint32_t was = current_.nodes;
    for (std::uint32_t n = 1; n < was && !exhausted(); ++n) {
      if (attempt(edits::with_servers(current_, n), fmt::format("servers {} -> {}", was, n))) {
        return true;
      }
    }
    return false;
  }

  bool shrink_clients() {
    bool progress = false;
    for (std::size_t g = current_.clients.size(); g-- > 0;) {
      const std::string what = fmt::format("dropped client group {} ({} clients)", g,
                                           current_.clients[g].count);
      progress = attempt(edits::without_client_group(current_, g), what) || progress;
    }
    for (std::size_t g = 0; g < current_.clients.size(); ++g) {
      const std::uint32_t was = current_.clients[g].count;
      std::vector<std::uint32_t> counts = {1, was / 2, was - 1};
      std::sort(counts.begin(), counts.end());
      counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
      for (std::uint32_t c : counts) {
        if (c < 1 || c >= was) continue;
        if (attempt(edits::with_client_count(current_, g, c),
                    fmt::format("client group {}: {} -> {} clients", g, was, c))) {
          progress = true;
          break;
        }
      }
    }
    return progress;
  }

  // All the edits at once; if that no longer fails, each alone.
  bool try_edits(const std::vector<edits::Edit>& list, std::string_view what) {
    Scenario all = current_;
    std::vector<std::string> labels;
    for (const edits::Edit& e : list) {
      if (e.apply(all)) labels.push_back(e.label);
    }
    if (labels.empty()) return false;
    if (attempt(std::move(all), fmt::format("{}: {}", what, join(labels, ", ")))) return true;
    if (labels.size() == 1) return false;
    bool progress = false;
    for (const edits::Edit& e : list) {
      Scenario one = current_;
      if (e.apply(one)) progress = attempt(std::move(one), fmt::format("{}: {}", what, e.label)) || progress;
    }
    return progress;
  }

  Scenario current_;
  const std::string protocol_;
  const Property property_;
  // Invariants only: the invariant that must keep breaking. "invariants" covers every invariant
  // of the protocol and the service, and a shrink that may trade one for another can end at a
  // different bug than the one it started from.
  const std::string invariant_;
  const ShrinkOptions& options_;
  std::uint64_t runs_ = 0;
  std::uint64_t rejected_ = 0;
  std::string detail_;
  std::optional<Nanos> failed_at_;  // when the current scenario's run stopped at the failure
  std::vector<ShrinkStep> steps_;
};

std::string describe_shrunk(const Scenario& original, const ShrinkResult& r,
                            std::string_view protocol, const ShrinkOptions& options) {
  const std::string file =
      options.output_file.empty() ? r.scenario.name + ".json" : options.output_file;
  const std::string_view property = property_name(r.property);
  std::string text = fmt::format(
      "Shrunk by lockstep shrink from {} (seed {}, {} servers, protocol {}; {} -> {}) in {} runs. "
      "Fails {}{}: {}. Reproduce: lockstep run {}. Expects pass: kept in scenarios/ as a "
      "regression test it fails until the bug is fixed (to keep it as a reproducer of the bug "
      "instead, set expect to {{\"violation\": \"{}\"}}).",
      original.name, original.seed, original.nodes, protocol, fault_events(r.before.fault_events),
      fault_events(r.after.fault_events), r.runs, property,
      r.invariant.empty() ? std::string() : fmt::format(" ({})", r.invariant), r.detail, file,
      property);
  if (!original.description.empty()) text += fmt::format(" Original: {}", original.description);
  return truncated(std::move(text), kDescriptionLengthMax);
}

}  // namespace

std::variant<Scenario, ShrinkRefused> explicit_scenario(const Scenario& scenario,
                                                        std::string_view protocol) {
  Scenario out = scenario;
  out.protocols = {std::string(protocol)};
  if (!scenario.nemesis.enabled) return out;
  LS_ASSERT_LE(scenario.faults.size(), kFaultsMax);
  const NemesisPlan plan =
      plan_nemesis(scenario.nemesis, scenario.nodes, Rng::derive(scenario.seed, kNemesisStream),
                   scenario.duration, baseline_drift_ppm(scenario),
                   kFaultsMax - scenario.faults.size());
  if (!plan.complete) {
    return ShrinkRefused{ShrinkRefused::Why::too_many_faults, fmt::format(
        "the nemesis plans more than {} faults over {}, more than a scenario may hold; shorten "
        "the duration or lengthen nemesis.interval",
        kFaultsMax - scenario.faults.size(), format_duration(scenario.duration))};
  }
  out.faults.insert(out.faults.end(), plan.faults.begin(), plan.faults.end());
  // The run schedules its own faults first, so at one instant they fire before the nemesis's.
  std::stable_sort(out.faults.begin(), out.faults.end(),
                   [](const Fault& a, const Fault& b) { return a.at < b.at; });
  out.nemesis.enabled = false;
  return out;
}

std::optional<Property> first_failed_property(const RunResult& result) {
  for (const PropertyVerdict& v : result.properties) {
    if (v.verdict == Verdict::fail) return v.property;
  }
  return std::nullopt;
}

ScenarioSize scenario_size(const Scenario& s) {
  ScenarioSize size;
  size.fault_events = s.faults.size();
  for (const ClientGroup& g : s.clients) size.clients += g.count;
  size.nodes = s.nodes;
  size.duration = s.duration;
  return size;
}

std::string describe_size(const ScenarioSize& size) {
  return fmt::format("{}, {} client{}, {} server{}, {}", fault_events(size.fault_events),
                     size.clients, size.clients == 1 ? "" : "s", size.nodes,
                     size.nodes == 1 ? "" : "s", format_duration(size.duration));
}

std::variant<ShrinkResult, ShrinkRefused> shrink(const Scenario& scenario,
                                                  std::string_view protocol,
                                                  std::optional<Property> property,
                                                  const ShrinkOptions& options) {
  LS_ASSERT(std::find(scenario.protocols.begin(), scenario.protocols.end(), protocol) !=
            scenario.protocols.end());
  LS_ASSERT(options.max_runs >= 2 && options.max_runs <= kShrinkRunsMax);
  const RunOptions run_options{std::nullopt, std::string(protocol), nullptr};
  const RunResult original = run_scenario(scenario, run_options);
  if (!property) property = first_failed_property(original);
  if (!property) {
    return ShrinkRefused{ShrinkRefused::Why::does_not_fail,
                         fmt::format("{} over {} fails no property (observed: {}); only a failing "
                                     "run can be shrunk",
                                     scenario.name, protocol, original.observed)};
  }
  if (!failed(original, *property)) {
    return ShrinkRefused{ShrinkRefused::Why::does_not_fail,
                         fmt::format("{} over {} does not fail {} (observed: {})", scenario.name,
                                     protocol, property_name(*property), original.observed)};
  }

  const std::string invariant = invariant_of(original, *property);

  auto made = explicit_scenario(scenario, protocol);
  if (const auto* refused = std::get_if<ShrinkRefused>(&made)) return *refused;
  Scenario start = std::get<Scenario>(std::move(made));
  start.name = scenario.name + "-shrunk";
  start.expect = Expectation{};
  start.expect_for.clear();
  const RunResult explicit_run = run_scenario(start, run_options);
  if (!fails_the_same(explicit_run, *property, invariant)) {
    return ShrinkRefused{ShrinkRefused::Why::explicit_differs, fmt::format(
        "{} fails {}, but with its nemesis written out as faults it does not the same way "
        "(observed: {}); "
        "this happens only when its own faults crash or pause servers beside the nemesis (see "
        "harness/nemesis.h)",
        scenario.name, property_name(*property), explicit_run.observed)};
  }

  ShrinkResult result;
  result.property = *property;
  result.invariant = invariant;
  result.before = scenario_size(start);
  Shrinker shrinker(std::move(start), std::string(protocol), *property, invariant, options, 2,
                    explicit_run);
  shrinker.shrink();
  result.scenario = shrinker.current();
  // The nemesis is off and its faults are in the schedule: its settings are only noise now.
  result.scenario.nemesis = Nemesis{};
  result.detail = shrinker.detail();
  result.runs = shrinker.runs();
  result.runs_rejected = shrinker.rejected();
  result.budget_exhausted = shrinker.exhausted();
  result.after = scenario_size(result.scenario);
  result.steps = std::move(shrinker.steps());
  result.scenario.description = describe_shrunk(scenario, result, protocol, options);
  LS_ASSERT(loads_back(result.scenario));
  return result;
}

}  // namespace lockstep::harness
