// What `lockstep compare` shows: one scenario run over several protocols under the same seed (so
// the network and the workload draw the same streams, and faults naming "leader" resolve to each
// protocol's own leader when they fire), side by side: a verdict per property and protocol, the
// metrics of reports/run_metrics.h per protocol, and the failover experiment (harness/failover.h)
// on the scenario's cluster with one CDF per protocol.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "harness/failover.h"
#include "harness/run.h"
#include "reports/run_metrics.h"

namespace lockstep::reports {

struct CompareRun {
  harness::RunResult result;  // collected with its timeline
  RunMetrics metrics;
};

struct CompareFailover {
  std::string protocol;
  std::optional<harness::FailoverResult> result;  // unset when the experiment was not run
  std::string skipped;                            // why not, when unset
};

struct CompareResult {
  std::string file;  // the scenario file, as given
  std::string scenario;
  std::uint64_t seed = 0;
  std::vector<CompareRun> runs;  // in the order of the protocols compared
  std::vector<CompareFailover> failovers;  // same order; empty when no trials were asked for
  harness::FailoverSettings failover_settings;  // protocol is the first one's; trials, nodes, seed
  // Every run ended as the scenario expects it to over its protocol, and no failover trial broke
  // an invariant.
  bool as_expected() const;
};

// Verdict table (property x protocol), then the metrics per protocol, then the failover
// experiment, then the outcome per protocol.
void print_compare(std::ostream& out, const CompareResult& result);

// DIR/summary.md and DIR/report.html (verdict table first, then metrics and plots: failover CDF
// with a series per protocol, latency and leader plots per protocol), DIR/failover-<p>.csv, and a
// run report per protocol in DIR/<protocol>/ (reports/run_report.h). Returns an error naming the
// path when something cannot be written.
std::optional<std::string> write_compare_report(const std::filesystem::path& dir,
                                                const CompareResult& result);

}  // namespace lockstep::reports
