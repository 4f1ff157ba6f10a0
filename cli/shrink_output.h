// What `lockstep shrink` and `lockstep fuzz` print about a shrink, and how both write its result.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "harness/shrink.h"

namespace lockstep::cli {

// "fails ...", "before ...", "after ...", "runs ...", then the steps kept, each line prefixed
// with `indent`.
std::string describe_shrink(const harness::ShrinkResult& result, std::uint64_t max_runs,
                            std::string_view indent = "");

struct WrittenShrink {
  bool written = false;      // the file was written
  bool still_fails = false;  // written, loaded back equal, and failing the same way when re-run
  std::string text;          // "wrote ..." and "reproduce ..." lines, or what went wrong
};

// Writes the shrunk scenario to `out` (creating its directory), loads the file back and runs it
// once more over `protocol`: what was written is what a user will run.
WrittenShrink write_shrunk(const harness::ShrinkResult& result, const std::filesystem::path& out,
                           const std::string& protocol, std::string_view indent = "");

}  // namespace lockstep::cli
