// `lockstep fuzz --merge FILE... [--json OUT]`: reads the --json results of several runs of one
// sweep (shards, or disjoint seed ranges), checks that they fit together, and prints one combined
// report. Exit code 0 when no run failed, 1 when some did, 2 for a file that cannot be read or
// does not fit (one line naming the file and what is wrong).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace lockstep::cli {

int fuzz_merge(const std::vector<std::string>& files, const std::optional<std::string>& json_out);

}  // namespace lockstep::cli
