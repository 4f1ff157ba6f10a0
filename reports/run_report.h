// Writers for one run's results: the summary a person reads on the terminal (verdict table
// first), and the files `--report DIR` leaves behind (summary.json for machines, summary.md for
// people).
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/run.h"

namespace lockstep::reports {

// The terminal summary: scenario, seed, time, events, messages, faults, trace hash, then one
// line per property with its verdict, then the outcome against the expectation.
void print_summary(std::ostream& out, const harness::RunResult& result, std::string_view file);

nlohmann::ordered_json to_json(const harness::RunResult& result);

// Writes summary.json and summary.md into `dir` (created if missing). Returns an error message
// naming the path when a file cannot be written.
std::optional<std::string> write_run_report(const std::filesystem::path& dir,
                                            const harness::RunResult& result,
                                            std::string_view file);

}  // namespace lockstep::reports
