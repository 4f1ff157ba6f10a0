#include "cli/fuzz_merge.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/fuzz_output.h"
#include "core/join.h"
#include "core/json_reader.h"
#include "harness/fuzz_results.h"

namespace lockstep::cli {

namespace {

[[noreturn]] void bad_file(const std::string& file, std::string_view what) {
  throw UsageError(fmt::format("lockstep fuzz --merge: {}: {}", file, what));
}

harness::FuzzResults read_results(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) bad_file(file, "cannot open the file (give the paths of files written by --json)");
  std::ostringstream text;
  text << in.rdbuf();
  const JsonResult<nlohmann::json> json = parse_json_strict(text.str());
  if (const auto* error = std::get_if<JsonError>(&json)) {
    bad_file(file, fmt::format("not a --json results file: {}", error->to_string()));
  }
  auto results = harness::fuzz_results_from_json(std::get<nlohmann::json>(json));
  if (const auto* error = std::get_if<JsonError>(&results)) bad_file(file, error->to_string());
  return std::move(std::get<harness::FuzzResults>(results));
}

}  // namespace

int fuzz_merge(const std::vector<std::string>& files, const std::optional<std::string>& json_out) {
  if (files.empty()) {
    throw UsageError(
        "lockstep fuzz --merge: expected the results files to merge (written by "
        "lockstep fuzz --json FILE), got none");
  }
  if (files.size() > harness::kFuzzMergeFilesMax) {
    throw UsageError(fmt::format("lockstep fuzz --merge: at most {} files, got {}",
                                 harness::kFuzzMergeFilesMax, files.size()));
  }
  std::vector<harness::NamedFuzzResults> inputs;
  for (const std::string& file : files) inputs.push_back({file, read_results(file)});
  auto merged_or_error = harness::merge_fuzz_results(inputs);
  if (const auto* error = std::get_if<std::string>(&merged_or_error)) {
    throw UsageError("lockstep fuzz --merge: " + *error);
  }
  const harness::FuzzResults& merged = std::get<harness::FuzzResults>(merged_or_error);
  std::ofstream json;
  if (json_out) {
    json.open(*json_out);
    if (!json) {
      throw UsageError(fmt::format("lockstep fuzz: --json: cannot write {}", *json_out));
    }
  }

  std::vector<std::string> sources;
  for (const harness::NamedFuzzResults& in : inputs) {
    const harness::FuzzSettings& s = in.results.settings;
    sources.push_back(fmt::format("{} (shard {}/{}, seeds {})", in.file, s.shard_index + 1,
                                  s.shard_count, harness::describe_seeds(in.results.seeds_run)));
  }
  std::cout << fmt::format("merge      {} file{}: {}\n", inputs.size(),
                           inputs.size() == 1 ? "" : "s", join(sources, ", "))
            << fmt::format("fuzz       {}\n", describe_sweep(merged.settings))
            << fmt::format(
                   "seeds      {} ({} seeds{})\n", harness::describe_seeds(merged.seeds_run),
                   merged.seeds(),
                   merged.stopped_by_budget ? "; a budget stopped some before their end" : "");
  for (std::size_t i = 0; i < merged.outcome.failures.size(); ++i) {
    const harness::FuzzRecord& r = merged.outcome.failures[i];
    std::cout << describe_failure(merged.settings, r);
    if (!merged.scenario_files[i].empty()) {
      std::cout << fmt::format("  reproduce: lockstep run {}\n", merged.scenario_files[i]);
    }
  }
  std::cout << describe_totals(merged.outcome) << std::flush;
  if (json_out) {
    json << harness::to_json(merged).dump(2) << "\n";
    json.close();
    if (!json) {
      std::cerr << fmt::format("lockstep fuzz: --json: could not write {}\n", *json_out);
      return kExitBadInput;
    }
  }
  return merged.outcome.failures.empty() ? kExitExpected : kExitUnexpected;
}

}  // namespace lockstep::cli
