// lockstep compare FILE [--report DIR] [--seed N] [--protocol LIST] [--failover-trials N]
//
// Runs one scenario over each protocol it lists (or LIST), with the same seed, and prints the
// verdicts side by side, the metrics per protocol, and a failover experiment per protocol on the
// scenario's cluster (reports/compare_report.h).
#include <algorithm>
#include <array>
#include <charconv>
#include <iostream>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "harness/failover.h"
#include "harness/protocols.h"
#include "harness/run.h"
#include "reports/compare_report.h"

namespace lockstep::cli {

namespace {

constexpr std::uint32_t kCompareTrialsDefault = 20;

constexpr std::array<FlagSpec, 4> kFlags = {{
    {"--seed", "N", "master seed, overriding the scenario's (the same for every protocol)"},
    {"--protocol", "LIST",
     "comma-separated protocols to compare, e.g. raft,zab (default: the scenario's)"},
    {"--failover-trials", "N",
     "leader crashes per protocol in the failover experiment, 0 to skip it (default 20)"},
    {"--report", "DIR",
     "write summary.md, report.html (verdicts, metrics, failover CDF, latency and leader plots), "
     "failover-<protocol>.csv and each protocol's run report in DIR/<protocol>/"},
}};

void print_help() {
  std::cout
      << "usage: lockstep compare FILE [flags]\n\n"
         "Runs the scenario in FILE over each protocol it lists with the same seed (the network\n"
         "and the workload draw the same random streams; faults naming \"leader\" resolve to\n"
         "each protocol's own leader when they fire) and prints a verdict per property and\n"
         "protocol, then per protocol: availability, failover times, client latency p50/p99/max,\n"
         "throughput, messages and bytes per committed entry; then a failover experiment per\n"
         "protocol (lockstep failover on the scenario's cluster). Exit code: 0 when every\n"
         "protocol ended as the scenario expects (and no failover trial broke an invariant), 1\n"
         "when not, 2 for a bad argument or a malformed scenario.\n\nflags:\n"
      << format_flags(kFlags);
}

// "raft,zab" -> {"raft", "zab"}; each name known to this build, none twice.
std::vector<std::string> protocol_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  const auto known = harness::known_protocols();
  for (;;) {
    const auto comma = text.find(',', start);
    const std::string name =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw UsageError(fmt::format(
          "lockstep compare: --protocol: expected a comma-separated list of {}, got \"{}\"",
          join_names(known), text));
    }
    if (std::find(out.begin(), out.end(), name) != out.end()) {
      throw UsageError(fmt::format("lockstep compare: --protocol: {} is listed twice in \"{}\"",
                                   name, text));
    }
    out.push_back(name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::uint32_t trials_flag(const ParsedArgs& args) {
  const auto text = args.value("--failover-trials");
  if (!text) return kCompareTrialsDefault;
  std::uint32_t out = 0;
  const char* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, out);
  if (text->empty() || ec != std::errc{} || ptr != end || out > harness::kFailoverTrialsMax) {
    throw UsageError(fmt::format(
        "lockstep compare: --failover-trials: expected an integer in 0..{}, got \"{}\"",
        harness::kFailoverTrialsMax, *text));
  }
  return out;
}

}  // namespace

int compare_command(std::span<const std::string> args) {
  const ParsedArgs parsed("compare", kFlags, args);
  if (parsed.help()) {
    print_help();
    return kExitExpected;
  }
  if (parsed.positional().size() != 1) {
    throw UsageError(fmt::format(
        "lockstep compare: expected one scenario file, got {} (see lockstep compare --help)",
        parsed.positional().size()));
  }
  const std::string file = parsed.positional()[0];
  const std::optional<std::uint64_t> seed = parsed.unsigned_value("--seed");
  const std::uint32_t trials = trials_flag(parsed);
  std::optional<std::vector<std::string>> wanted;
  if (const auto list = parsed.value("--protocol")) wanted = protocol_list(*list);

  auto loaded = harness::load_scenario_file(file, harness::known_protocols());
  if (const auto* error = std::get_if<harness::LoadError>(&loaded)) {
    std::cerr << error->message << "\n";
    return kExitBadInput;
  }
  harness::Scenario& scenario = std::get<harness::Scenario>(loaded);
  if (wanted) scenario.protocols = *wanted;
  if (const auto problem = harness::check_protocols(scenario, file)) {
    std::cerr << *problem << "\n";
    return kExitBadInput;
  }

  reports::CompareResult compare;
  compare.file = file;
  compare.scenario = scenario.name;
  compare.seed = seed.value_or(scenario.seed);
  for (const std::string& protocol : scenario.protocols) {
    harness::RunOptions options{seed, protocol, nullptr};
    options.collect_timeline = true;
    harness::RunResult result = harness::run_scenario(scenario, options);
    reports::RunMetrics metrics = reports::compute_metrics(result);
    compare.runs.push_back(reports::CompareRun{std::move(result), std::move(metrics)});
  }

  compare.failover_settings.nodes = scenario.nodes;
  compare.failover_settings.trials = trials;
  compare.failover_settings.seed = compare.seed;
  compare.failover_settings.network = scenario.network;
  if (trials > 0) {
    for (const std::string& protocol : scenario.protocols) {
      harness::FailoverSettings s = compare.failover_settings;
      s.protocol = protocol;
      const auto it = scenario.protocol_options.find(protocol);
      if (it != scenario.protocol_options.end()) s.protocol_options = it->second.value;
      reports::CompareFailover f{protocol, std::nullopt, ""};
      if (const auto problem = harness::check_failover_settings(s)) {
        f.skipped = *problem;
      } else {
        f.result = harness::run_failover(s);
      }
      compare.failovers.push_back(std::move(f));
    }
  }

  reports::print_compare(std::cout, compare);
  if (const auto dir = parsed.value("--report")) {
    if (const auto error = reports::write_compare_report(*dir, compare)) {
      std::cerr << "lockstep compare: --report: " << *error << "\n";
      return kExitBadInput;
    }
    std::cout << fmt::format("report     {}/report.html\n", *dir);
  }
  return compare.as_expected() ? kExitExpected : kExitUnexpected;
}

}  // namespace lockstep::cli
