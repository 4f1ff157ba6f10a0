// lockstep run FILE [--seed N] [--protocol P] [--trace out.jsonl] [--report DIR]
//                   [--history out.json] [--verify-determinism]
#include <array>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "checkers/history_formats.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "harness/protocols.h"
#include "harness/run.h"
#include "reports/run_report.h"

namespace lockstep::cli {

namespace {

constexpr std::array<FlagSpec, 6> kFlags = {{
    {"--seed", "N", "master seed, overriding the scenario's"},
    {"--protocol", "P", "run over protocol P instead of the scenario's (raft)"},
    {"--trace", "FILE", "write every event as JSON lines to FILE"},
    {"--report", "DIR",
     "write summary.json, summary.md and report.html (latency and leader plots, metrics) to DIR; "
     "when a property fails, also violation.dot (and violation.svg with Graphviz)"},
    {"--history", "FILE",
     "lock runs: write the calls on locks and nodes as a history (lockstep format, model "
     "lock-service) to FILE, for lockstep lincheck"},
    {"--verify-determinism", "", "run twice and check that the trace hashes agree"},
}};

void print_help() {
  std::cout << "usage: lockstep run FILE [flags]\n\n"
               "Runs the scenario in FILE (see scenarios/README.md) and prints what happened and a\n"
               "verdict per property. Exit code: 0 when the outcome is what the scenario expects,\n"
               "1 when it is not, 2 for a bad argument or a malformed scenario.\n\nflags:\n"
            << format_flags(kFlags);
}

}  // namespace

int run_command(std::span<const std::string> args) {
  const ParsedArgs parsed("run", kFlags, args);
  if (parsed.help()) {
    print_help();
    return kExitExpected;
  }
  if (parsed.positional().size() != 1) {
    throw UsageError(fmt::format(
        "lockstep run: expected one scenario file, got {} (see lockstep run --help)",
        parsed.positional().size()));
  }
  const std::string file = parsed.positional()[0];
  const std::optional<std::uint64_t> seed = parsed.unsigned_value("--seed");

  auto loaded = harness::load_scenario_file(file, harness::known_protocols());
  if (const auto* error = std::get_if<harness::LoadError>(&loaded)) {
    std::cerr << error->message << "\n";
    return kExitBadInput;
  }
  harness::Scenario& scenario = std::get<harness::Scenario>(loaded);
  if (const auto protocol = parsed.value("--protocol")) {
    const auto known = harness::known_protocols();
    if (std::find(known.begin(), known.end(), *protocol) == known.end()) {
      throw UsageError(fmt::format("lockstep run: --protocol expects one of {}, got \"{}\"",
                                   join_names(known), *protocol));
    }
    scenario.protocols = {*protocol};
  }
  if (const auto problem = harness::check_protocols(scenario, file)) {
    std::cerr << *problem << "\n";
    return kExitBadInput;
  }

  std::ofstream trace_file;
  if (const auto trace = parsed.value("--trace")) {
    trace_file.open(*trace);
    if (!trace_file) {
      std::cerr << fmt::format("lockstep run: --trace: cannot write \"{}\"\n", *trace);
      return kExitBadInput;
    }
  }

  std::ofstream history_file;
  if (const auto history = parsed.value("--history")) {
    if (!scenario.runs_lock_service()) {
      throw UsageError(fmt::format(
          "lockstep run: --history: {} runs no lock workload; only lock runs record a history",
          file));
    }
    if (scenario.protocols.size() != 1) {
      throw UsageError(fmt::format(
          "lockstep run: --history: {} runs over {} protocols; choose one with --protocol", file,
          scenario.protocols.size()));
    }
    history_file.open(*history);
    if (!history_file) {
      std::cerr << fmt::format("lockstep run: --history: cannot write \"{}\"\n", *history);
      return kExitBadInput;
    }
  }

  bool all_as_expected = true;
  for (std::size_t i = 0; i < scenario.protocols.size(); ++i) {
    const std::string& protocol = scenario.protocols[i];
    harness::RunOptions options{seed, protocol, trace_file.is_open() ? &trace_file : nullptr};
    options.collect_timeline = parsed.has("--report");
    const harness::RunResult result = harness::run_scenario(scenario, options);
    if (i > 0) std::cout << "\n";
    reports::print_summary(std::cout, result, file);
    all_as_expected = all_as_expected && result.as_expected;
    if (history_file.is_open() && result.history) {
      history_file << checkers::history_to_json(*result.history, checkers::ModelKind::lock_service)
                          .dump(1)
                   << "\n";
      std::cout << fmt::format("history    {} ({} calls)\n", *parsed.value("--history"),
                               result.history->operations.size());
    }

    if (parsed.has("--verify-determinism")) {
      harness::RunOptions again{seed, protocol, nullptr};
      const harness::RunResult second = harness::run_scenario(scenario, again);
      if (second.trace_hash == result.trace_hash && second.events == result.events) {
        std::cout << fmt::format("determinism verified: a second run gave the same trace hash {:016x}\n",
                                 second.trace_hash);
      } else {
        std::cout << fmt::format(
            "DETERMINISM BROKEN: the second run gave trace hash {:016x} after {} events, the first "
            "{:016x} after {} events\n",
            second.trace_hash, second.events, result.trace_hash, result.events);
        all_as_expected = false;
      }
    }
    if (const auto dir = parsed.value("--report")) {
      const std::filesystem::path out =
          scenario.protocols.size() == 1 ? std::filesystem::path(*dir)
                                         : std::filesystem::path(*dir) / protocol;
      if (const auto error = reports::write_run_report(out, result, file)) {
        std::cerr << "lockstep run: --report: " << *error << "\n";
        return kExitBadInput;
      }
      std::cout << fmt::format("report     {}\n", out.string());
    }
  }
  return all_as_expected ? kExitExpected : kExitUnexpected;
}

}  // namespace lockstep::cli
