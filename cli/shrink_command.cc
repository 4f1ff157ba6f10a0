// lockstep shrink FILE [--protocol P] [--seed N] [--property NAME] [--out FILE] [--max-runs N]
//
// Shrinks a failing scenario (harness/shrink.h) and writes the result as a scenario file.
#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/shrink_output.h"
#include "core/duration.h"
#include "harness/protocols.h"
#include "harness/run.h"
#include "harness/shrink.h"

namespace lockstep::cli {

namespace {

constexpr std::array<FlagSpec, 5> kFlags = {{
    {"--protocol", "P",
     "shrink the run over protocol P (default: the first of the scenario's protocols that fails)"},
    {"--seed", "N", "master seed, overriding the scenario's"},
    {"--property", "NAME",
     "the property that must keep failing (default: the first that fails); one of "
     "linearizability, mutual_exclusion, fencing, invariants, durability, liveness, "
     "session_safety, at_most_once, watch_delivery, lock_handoff"},
    {"--out", "FILE", "write the shrunk scenario to FILE (default: reports/out/shrink/NAME.json)"},
    {"--max-runs", "N", "re-run the scenario at most N times, 2..1000000 (default 300)"},
}};

void print_help() {
  std::cout
      << "usage: lockstep shrink FILE [flags]\n\n"
         "Runs the scenario in FILE, and if it fails a property, makes it as small as it can while\n"
         "that same property still fails: the random nemesis written out as explicit faults, then\n"
         "fewer faults (delta debugging), a shorter run, fewer servers and clients, simpler\n"
         "workload settings and a calmer network, clocks and disk. Each change is kept only if a\n"
         "re-run still fails; the work is bounded by --max-runs, so it is deterministic.\n"
         "The result expects pass: copied into scenarios/, it is a regression test that fails\n"
         "until the bug is fixed. Exit code: 0 when it wrote a shrunk scenario that still fails,\n"
         "1 when the scenario does not fail, 2 for a bad argument or a malformed scenario.\n\n"
         "flags:\n"
      << format_flags(kFlags);
}

harness::Property property_named(const std::string& name) {
  if (const auto property = harness::property_from_name(name)) return *property;
  throw UsageError(fmt::format("lockstep shrink: --property expects one of {}, got \"{}\"",
                               join_names(harness::kPropertyNames), name));
}

// The protocol to shrink over: --protocol, else the first of the scenario's that fails (the
// property, when one is named). nullopt when none fails.
std::optional<std::string> failing_protocol(const harness::Scenario& scenario,
                                            std::optional<harness::Property> property) {
  if (scenario.protocols.size() == 1) return scenario.protocols.front();
  for (const std::string& protocol : scenario.protocols) {
    const harness::RunResult r =
        harness::run_scenario(scenario, harness::RunOptions{std::nullopt, protocol, nullptr});
    for (const harness::PropertyVerdict& v : r.properties) {
      if (v.verdict == harness::Verdict::fail && (!property || v.property == *property)) {
        return protocol;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

int shrink_command(std::span<const std::string> args) {
  const ParsedArgs parsed("shrink", kFlags, args);
  if (parsed.help()) {
    print_help();
    return kExitExpected;
  }
  if (parsed.positional().size() != 1) {
    throw UsageError(fmt::format(
        "lockstep shrink: expected one scenario file, got {} (see lockstep shrink --help)",
        parsed.positional().size()));
  }
  const std::string file = parsed.positional()[0];
  std::optional<harness::Property> property;
  if (const auto name = parsed.value("--property")) property = property_named(*name);
  const std::uint64_t max_runs =
      parsed.unsigned_value("--max-runs").value_or(harness::kShrinkRunsDefault);
  if (max_runs < 2 || max_runs > harness::kShrinkRunsMax) {
    throw UsageError(fmt::format(
        "lockstep shrink: --max-runs expects 2..{} (two runs check the input), got {}",
        harness::kShrinkRunsMax, max_runs));
  }

  auto loaded = harness::load_scenario_file(file, harness::known_protocols());
  if (const auto* error = std::get_if<harness::LoadError>(&loaded)) {
    std::cerr << error->message << "\n";
    return kExitBadInput;
  }
  harness::Scenario& scenario = std::get<harness::Scenario>(loaded);
  if (const auto seed = parsed.unsigned_value("--seed")) scenario.seed = *seed;
  if (const auto protocol = parsed.value("--protocol")) {
    const auto known = harness::known_protocols();
    if (std::find(known.begin(), known.end(), *protocol) == known.end()) {
      throw UsageError(fmt::format("lockstep shrink: --protocol expects one of {}, got \"{}\"",
                                   join_names(known), *protocol));
    }
    scenario.protocols = {*protocol};
  }
  if (property && std::find(scenario.checks.properties.begin(), scenario.checks.properties.end(),
                            *property) == scenario.checks.properties.end()) {
    throw UsageError(fmt::format(
        "lockstep shrink: --property {}: {} does not check it (see its checks.properties)",
        harness::property_name(*property), file));
  }
  if (const auto problem = harness::check_protocols(scenario, file)) {
    std::cerr << *problem << "\n";
    return kExitBadInput;
  }

  const std::optional<std::string> protocol = failing_protocol(scenario, property);
  if (!protocol) {
    std::cout << fmt::format("{} fails {} over none of its protocols: nothing to shrink\n", file,
                             property ? harness::property_name(*property) : "no property");
    return kExitUnexpected;
  }
  const std::filesystem::path out =
      parsed.value("--out").value_or(fmt::format("reports/out/shrink/{}-shrunk.json", scenario.name));
  std::cout << fmt::format("shrinking  {} over {} (seed {})\n", file, *protocol, scenario.seed);

  const auto shrunk = harness::shrink(scenario, *protocol, property,
                                      harness::ShrinkOptions{max_runs, out.string()});
  if (const auto* refused = std::get_if<harness::ShrinkRefused>(&shrunk)) {
    std::cout << fmt::format("not shrunk: {}\n", refused->reason);
    return refused->why == harness::ShrinkRefused::Why::too_many_faults ? kExitBadInput
                                                                        : kExitUnexpected;
  }
  const harness::ShrinkResult& result = std::get<harness::ShrinkResult>(shrunk);
  std::cout << describe_shrink(result, max_runs);
  const WrittenShrink written = write_shrunk(result, out, *protocol);
  if (!written.written) {
    std::cerr << "lockstep shrink: --out: " << written.text;
    return kExitBadInput;
  }
  std::cout << written.text;
  if (!written.still_fails) return kExitUnexpected;
  return kExitExpected;
}

}  // namespace lockstep::cli
