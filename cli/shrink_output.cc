#include "cli/shrink_output.h"

#include <algorithm>
#include <fstream>
#include <variant>

#include <fmt/format.h>

#include "harness/protocols.h"
#include "harness/run.h"

namespace lockstep::cli {

std::string describe_shrink(const harness::ShrinkResult& r, std::uint64_t max_runs,
                            std::string_view indent) {
  std::string text;
  text += fmt::format("{}fails      {}{}: {}\n", indent, harness::property_name(r.property),
                      r.invariant.empty() ? std::string() : fmt::format(" ({})", r.invariant),
                      r.detail);
  text += fmt::format("{}before     {}\n", indent, harness::describe_size(r.before));
  text += fmt::format("{}after      {}\n", indent, harness::describe_size(r.after));
  text += fmt::format("{}runs       {} of at most {} ({} candidates no longer failed){}\n", indent,
                      r.runs, max_runs, r.runs_rejected,
                      r.budget_exhausted
                          ? "; stopped at the budget: a larger --max-runs may shrink further"
                          : "");
  if (r.steps.empty()) {
    text += fmt::format(
        "{}steps      none kept: no smaller or simpler scenario failed the same way\n", indent);
    return text;
  }
  text += fmt::format("{}steps      {} kept:\n", indent, r.steps.size());
  for (const harness::ShrinkStep& s : r.steps) {
    text += fmt::format("{}  run {:>4}  {:<3} faults  {}\n", indent, s.run, s.fault_events, s.change);
  }
  return text;
}

WrittenShrink write_shrunk(const harness::ShrinkResult& result, const std::filesystem::path& out,
                           const std::string& protocol, std::string_view indent) {
  std::error_code ec;
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path(), ec);
  std::ofstream stream(out);
  stream << harness::to_json(result.scenario).dump(2) << "\n";
  stream.close();
  if (!stream) return {false, false, fmt::format("{}cannot write \"{}\"\n", indent, out.string())};
  auto again = harness::load_scenario_file(out.string(), harness::known_protocols());
  const auto* written = std::get_if<harness::Scenario>(&again);
  const harness::RunResult check =
      harness::run_scenario(written != nullptr ? *written : result.scenario,
                            harness::RunOptions{std::nullopt, protocol, nullptr});
  const bool still_fails = std::any_of(
      check.properties.begin(), check.properties.end(), [&](const harness::PropertyVerdict& v) {
        return v.property == result.property && v.verdict == harness::Verdict::fail &&
               v.detail.starts_with(result.invariant);
      });
  std::string text = fmt::format("{}wrote      {}\n", indent, out.string());
  if (written == nullptr || *written != result.scenario || !still_fails) {
    text += fmt::format(
        "{}WARNING: the written file does not fail {} when loaded back (observed: {}): a bug in "
        "lockstep, please report it\n",
        indent, harness::property_name(result.property), check.observed);
    return {true, false, text};
  }
  text += fmt::format("{}reproduce  lockstep run {}   ({})\n", indent, out.string(), check.observed);
  return {true, true, text};
}

}  // namespace lockstep::cli
