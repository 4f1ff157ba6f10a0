// The report of a fuzz sweep (harness/fuzz.h), for `lockstep fuzz --report DIR`: summary.md and
// report.html with the settings, the totals, the failures by property and protocol (a table with
// a column per protocol) and every failing run with its seed, cluster size and what broke.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "harness/fuzz.h"

namespace lockstep::reports {

// Writes DIR/summary.md and DIR/report.html (DIR created if missing). Returns an error naming
// the path when a file cannot be written.
std::optional<std::string> write_fuzz_report(const std::filesystem::path& dir,
                                             const harness::FuzzSettings& settings,
                                             const harness::FuzzOutcome& outcome);

}  // namespace lockstep::reports
