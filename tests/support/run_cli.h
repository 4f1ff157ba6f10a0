// Runs the lockstep binary as a user would, for tests of exit codes and printed output.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include <fmt/format.h>

namespace lockstep::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
};

// Runs `lockstep ARGS` through the shell, so ARGS may quote and redirect. Standard error is
// captured with standard output unless `merge_stderr` is false (then it goes where ARGS says).
inline CliResult run_lockstep(const std::string& args, bool merge_stderr = true) {
  // fmt rather than operator+ on a literal: GCC 12 warns falsely about the latter (-Warray-bounds).
  const std::string command = fmt::format("{} {}{}", LOCKSTEP_CLI, args, merge_stderr ? " 2>&1" : "");
  CliResult r;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) r.out += buffer.data();
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace lockstep::testing
