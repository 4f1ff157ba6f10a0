// lockstep: the command-line front end. Exit codes: 0 the outcome the scenario expects, 1 a
// different outcome, 2 bad input (arguments or files); lincheck: 0 linearizable, 1 not, 3 unknown.
// Nothing thrown escapes main().
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"

namespace {

constexpr const char* kUsage =
    "lockstep — deterministic simulation testbed for lock-service protocols\n"
    "\n"
    "usage: lockstep <command> [arguments]\n"
    "\n"
    "commands:\n"
    "  run FILE     run a scenario file and print its verdict table\n"
    "  compare FILE run a scenario over each protocol it lists, same seed: verdicts, availability,\n"
    "               failover times, latency, messages per commit, failover CDFs side by side\n"
    "  failover     crash the leader many times; failover time CSV, summary and CDF plot\n"
    "  fuzz         run many random seeds with random faults; write failing runs as scenarios\n"
    "  lincheck FILE  check a recorded history for linearizability\n"
    "  shrink FILE  shrink a failing scenario to a small one that still fails\n"
    "\n"
    "Run 'lockstep <command> --help' for the command's flags.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace lockstep::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      std::cout << kUsage;
      return args.empty() ? kExitBadInput : kExitExpected;
    }
    const std::string command = args[0];
    args.erase(args.begin());
    if (command == "run") return run_command(args);
    if (command == "compare") return compare_command(args);
    if (command == "failover") return failover_command(args);
    if (command == "fuzz") return fuzz_command(args);
    if (command == "lincheck") return lincheck_command(args);
    if (command == "shrink") return shrink_command(args);
    std::cerr << "lockstep: unknown command \"" << command
              << "\" (commands: run, compare, failover, fuzz, lincheck, shrink; see lockstep --help)\n";
    return kExitBadInput;
  } catch (const UsageError& e) {
    std::cerr << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "lockstep: internal error (a bug in Lockstep, please report it): " << e.what()
              << "\n";
    return 70;
  }
}
