// The subcommands of lockstep; each returns the process exit code (see args.h).
#pragma once

#include <span>
#include <string>

namespace lockstep::cli {

int run_command(std::span<const std::string> args);
int failover_command(std::span<const std::string> args);
int compare_command(std::span<const std::string> args);
int fuzz_command(std::span<const std::string> args);
int lincheck_command(std::span<const std::string> args);  // exits 3 when it cannot decide
int shrink_command(std::span<const std::string> args);

}  // namespace lockstep::cli
