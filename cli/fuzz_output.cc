#include "cli/fuzz_output.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/duration.h"
#include "core/join.h"

namespace lockstep::cli {

std::string describe_sweep(const harness::FuzzSettings& s) {
  std::string text = fmt::format("{} on {} servers", join(s.protocols, ","), join(s.nodes, ","));
  if (s.workloads.size() == 1) {
    text += fmt::format(", {} workload",
                        harness::kFuzzWorkloadNames[static_cast<int>(s.workloads.front())]);
  }
  text += fmt::format(", {} simulated each", format_duration(s.duration));
  if (s.clients) text += fmt::format(", {} client{}", *s.clients, *s.clients == 1 ? "" : "s");
  if (s.all_nemesis_kinds) text += ", every nemesis kind";
  return text;
}

std::string describe_failure(const harness::FuzzSettings& settings, const harness::FuzzRecord& r) {
  const harness::Scenario scenario = harness::fuzz_case_scenario(settings, r.run);
  std::string text = fmt::format("FAIL {}: {}: {}\n", scenario.name, r.failures.front().property,
                                 r.failures.front().detail);
  for (std::size_t f = 1; f < r.failures.size(); ++f) {
    text += fmt::format("  also {}: {}\n", r.failures[f].property, r.failures[f].detail);
  }
  text += fmt::format("  profile    {}\n", harness::describe_profile(scenario));
  text += r.failures.front().property == "crash"
              ? std::string("  trace      none: the run died (its message is above)\n")
              : fmt::format("  trace      hash {:016x}, {} events\n", r.trace_hash, r.events);
  return text;
}

std::string describe_totals(const harness::FuzzOutcome& outcome) {
  std::string text = fmt::format(
      "result     {} runs: {} passed, {} failed; {} simulated, {} events\n", outcome.runs,
      outcome.passed, outcome.failures.size(), format_duration(outcome.simulated), outcome.events);
  if (!outcome.failures_by_property.empty()) {
    text += "\nfailures by property\n" +
            fmt::format("  {:<10} {:<18} {:>6}\n", "protocol", "property", "runs");
    for (const auto& [key, count] : outcome.failures_by_property) {
      text += fmt::format("  {:<10} {:<18} {:>6}\n", key.first, key.second, count);
    }
  }
  return text;
}

std::string format_wall_seconds(double s) {
  if (s < 9.95) return fmt::format("{:.1f}s", std::max(s, 0.0));
  const auto total = static_cast<std::int64_t>(s + 0.5);
  if (total < 60) return fmt::format("{}s", total);
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}h{:02}m", total / 3600, total / 60 % 60);
}

}  // namespace lockstep::cli
