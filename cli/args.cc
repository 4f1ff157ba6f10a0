#include "cli/args.h"

#include <charconv>

#include <fmt/format.h>

namespace lockstep::cli {

ParsedArgs::ParsedArgs(std::string_view command, std::span<const FlagSpec> specs,
                       std::span<const std::string> args)
    : command_(command) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      continue;
    }
    if (arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg;
    std::optional<std::string> inline_value;
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) {
      std::string known;
      for (const FlagSpec& s : specs) known += (known.empty() ? "" : ", ") + std::string(s.name);
      throw UsageError(fmt::format("lockstep {}: unknown flag {} (known: {}; see lockstep {} --help)",
                                   command_, name, known, command_));
    }
    if (spec->value.empty()) {
      if (inline_value) {
        throw UsageError(fmt::format("lockstep {}: {} takes no value, got \"{}\"", command_, name,
                                     *inline_value));
      }
      values_[name] = "";
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) {
        throw UsageError(fmt::format("lockstep {}: {} expects a value ({})", command_, name,
                                     spec->value));
      }
      inline_value = args[++i];
    }
    if (values_.contains(name)) {
      throw UsageError(fmt::format("lockstep {}: {} given twice", command_, name));
    }
    values_[name] = *inline_value;
  }
}

std::optional<std::string> ParsedArgs::value(std::string_view flag) const {
  auto it = values_.find(std::string(flag));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::uint64_t> ParsedArgs::unsigned_value(std::string_view flag) const {
  const auto text = value(flag);
  if (!text) return std::nullopt;
  std::uint64_t out = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, out);
  if (text->empty() || ec != std::errc{} || ptr != end) {
    throw UsageError(fmt::format("lockstep {}: {} expects a non-negative integer, got \"{}\"",
                                 command_, flag, *text));
  }
  return out;
}

std::string format_flags(std::span<const FlagSpec> specs) {
  std::string out;
  for (const FlagSpec& s : specs) {
    std::string left = std::string(s.name);
    if (!s.value.empty()) left.append(" ").append(s.value);
    out += fmt::format("  {:<26} {}\n", left, s.help);
  }
  out += fmt::format("  {:<26} {}\n", "--help", "show this help");
  return out;
}

}  // namespace lockstep::cli
