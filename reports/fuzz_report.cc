#include "reports/fuzz_report.h"

#include <set>

#include <fmt/format.h>

#include "core/duration.h"
#include "core/join.h"
#include "reports/html.h"
#include "reports/run_report.h"

namespace lockstep::reports {

namespace {

std::string md_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

}  // namespace

std::optional<std::string> write_fuzz_report(const std::filesystem::path& dir,
                                             const harness::FuzzSettings& s,
                                             const harness::FuzzOutcome& o) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fmt::format("{}: cannot create the report directory: {}", dir.string(), ec.message());
  std::vector<std::string> workloads;
  for (harness::FuzzWorkload w : s.workloads) {
    workloads.emplace_back(harness::kFuzzWorkloadNames[static_cast<std::size_t>(w)]);
  }
  const std::string heading =
      fmt::format("fuzz: seeds {}-{} over {}", s.seed_first, s.seed_last, join(s.protocols, ", "));
  const std::vector<std::pair<std::string, std::string>> facts = {
      {"protocols", join(s.protocols, ", ")},
      {"seeds", fmt::format("{}-{}", s.seed_first, s.seed_last)},
      {"cluster sizes", join(s.nodes, ", ")},
      {"workloads", join(workloads, ", ")},
      {"duration per run", format_duration(s.duration)},
      {"runs", fmt::format("{}: {} passed, {} failed", o.runs, o.passed, o.runs - o.passed)},
      {"simulated", fmt::format("{} in {} events", format_duration(o.simulated), o.events)},
  };
  // Failures by property (rows) and protocol (columns).
  std::set<std::string> properties;
  for (const auto& [key, n] : o.failures_by_property) properties.insert(key.second);
  std::vector<std::string> header{"property"};
  for (const std::string& p : s.protocols) header.push_back(p);
  std::vector<std::vector<std::string>> by_property;
  for (const std::string& property : properties) {
    std::vector<std::string> row{property};
    for (const std::string& p : s.protocols) {
      const auto it = o.failures_by_property.find({p, property});
      row.push_back(fmt::format("{}", it == o.failures_by_property.end() ? 0 : it->second));
    }
    by_property.push_back(std::move(row));
  }
  std::vector<std::vector<std::string>> failures;
  for (const harness::FuzzRecord& r : o.failures) {
    std::string what;
    for (const harness::FuzzFailure& f : r.failures) {
      if (!what.empty()) what += "; ";
      what += f.property + ": " + f.detail;
    }
    failures.push_back({harness::fuzz_case_name(r.run), r.run.protocol,
                        fmt::format("{}", r.run.nodes), fmt::format("{}", r.run.seed), what});
  }

  std::string md = fmt::format("# {}\n\n", heading);
  md += o.failures.empty() ? "**Outcome:** every run passed\n\n"
                           : fmt::format("**Outcome:** {} failing runs\n\n", o.failures.size());
  if (!by_property.empty()) {
    md += "| " + join(header, " | ") + " |\n|";
    for (std::size_t i = 0; i < header.size(); ++i) md += "---|";
    md += "\n";
    for (const auto& row : by_property) md += "| " + join(row, " | ") + " |\n";
    md += "\n";
  }
  md += "## Sweep\n\n| | |\n|---|---|\n";
  for (const auto& [k, v] : facts) md += fmt::format("| {} | {} |\n", k, md_escape(v));
  if (!failures.empty()) {
    md += "\n## Failing runs\n\n| run | protocol | nodes | seed | what broke |\n|---|---|---|---|---|\n";
    for (const auto& row : failures) {
      md += fmt::format("| {} | {} | {} | {} | {} |\n", row[0], row[1], row[2], row[3],
                        md_escape(row[4]));
    }
  }
  if (auto e = write_text_file(dir / "summary.md", md)) return e;

  HtmlPage page(heading);
  page.heading(1, heading);
  page.markup(o.failures.empty()
                  ? std::string("<span class=\"pass\">every run passed</span>")
                  : fmt::format("<span class=\"fail\">{} failing runs</span>", o.failures.size()));
  if (!by_property.empty()) {
    std::vector<std::vector<Cell>> rows;
    for (const auto& row : by_property) {
      std::vector<Cell> cells{row[0]};
      for (std::size_t i = 1; i < row.size(); ++i) {
        cells.emplace_back(row[i], row[i] == "0" ? "pass" : "fail");
      }
      rows.push_back(std::move(cells));
    }
    page.table(header, rows);
  }
  page.heading(2, "Sweep");
  std::vector<std::vector<Cell>> fact_rows;
  for (const auto& [k, v] : facts) fact_rows.push_back({k, v});
  page.table({"sweep", ""}, fact_rows);
  if (!failures.empty()) {
    page.heading(2, "Failing runs");
    std::vector<std::vector<Cell>> rows;
    for (const auto& row : failures) rows.push_back({row[0], row[1], row[2], row[3], row[4]});
    page.table({"run", "protocol", "nodes", "seed", "what broke"}, rows);
  }
  return write_text_file(dir / "report.html", page.finish());
}

}  // namespace lockstep::reports
