// Command-line parsing for the lockstep subcommands. Bad arguments are input from outside: they
// get one clear line naming the flag, what it takes and what was given, and exit code 2.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace lockstep::cli {

inline constexpr int kExitExpected = 0;    // the outcome the scenario expects
inline constexpr int kExitUnexpected = 1;  // a different outcome
inline constexpr int kExitBadInput = 2;    // bad arguments or a malformed input file

// Thrown for a bad command line; main() prints it and exits 2. Never escapes main().
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct FlagSpec {
  std::string_view name;   // "--seed"
  std::string_view value;  // "N" for flags that take a value, empty for switches
  std::string_view help;
};

// Flags and positional arguments of one subcommand, checked against its FlagSpecs.
class ParsedArgs {
 public:
  ParsedArgs(std::string_view command, std::span<const FlagSpec> specs,
             std::span<const std::string> args);

  bool has(std::string_view flag) const { return values_.contains(std::string(flag)); }
  std::optional<std::string> value(std::string_view flag) const;
  std::optional<std::uint64_t> unsigned_value(std::string_view flag) const;
  const std::vector<std::string>& positional() const { return positional_; }
  bool help() const { return help_; }

 private:
  std::string command_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

std::string format_flags(std::span<const FlagSpec> specs);

}  // namespace lockstep::cli
