// Writers for one run's results: the summary a person reads on the terminal (verdict table
// first), and the files `--report DIR` leaves behind: summary.json for machines, summary.md and
// report.html for people (verdict table first, then the details and, when the run collected its
// timeline, the metrics and plots of reports/run_metrics.h and reports/run_plots.h), and, when a
// property failed, violation.dot (with violation.svg when Graphviz is installed): the message
// sequence of the last events before the run stopped.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/run.h"
#include "reports/run_metrics.h"

namespace lockstep::reports {

// The terminal summary: scenario, seed, time, events, messages, faults, trace hash, then one
// line per property with its verdict, then the outcome against the expectation.
void print_summary(std::ostream& out, const harness::RunResult& result, std::string_view file);

nlohmann::ordered_json to_json(const harness::RunResult& result);

// Writes the files above into `dir` (created if missing). Returns an error message naming the
// path when a file cannot be written.
std::optional<std::string> write_run_report(const std::filesystem::path& dir,
                                            const harness::RunResult& result,
                                            std::string_view file);

// The pieces the run, compare and fuzz reports share.

// Creates `path` holding `text` (bytes as given). Returns an error naming the path on failure.
std::optional<std::string> write_text_file(const std::filesystem::path& path,
                                           const std::string& text);

// Writes `<stem>.dot` for the run's violation window into `dir` and renders `<stem>.svg` when
// dot is installed. Returns the SVG text (empty when not rendered) and a note saying what was
// written, or an error.
struct ViolationDiagram {
  std::string svg;   // empty when dot is not installed
  std::string note;  // "violation.dot and violation.svg: ..." for the report
};
std::variant<ViolationDiagram, std::string> write_violation_diagram(
    const std::filesystem::path& dir, const harness::RunResult& result, std::string_view stem);

// Whether any property (or the leadership row) failed.
bool any_failed(const harness::RunResult& result);

// The metric rows (name, value) of a run, as summary.md and report.html show them.
std::vector<std::pair<std::string, std::string>> metric_rows(const RunMetrics& metrics);
// The failover episodes that settled, in ms.
std::vector<double> failover_ms(const std::vector<FailoverEpisode>& episodes);

// "12.3ms", "-" for none.
std::string ms_text(std::optional<Nanos> d);
// "97.5%", "-" for none.
std::string percent_text(std::optional<double> fraction);

}  // namespace lockstep::reports
