// Every scenario in scenarios/ is deterministic: the same seed gives the same trace hash and a
// different seed a different one (the seed must actually reach the run).
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "harness/protocols.h"
#include "harness/run.h"
#include "harness/scenario.h"

namespace lockstep::harness {
namespace scenario_determinism_test {
namespace {

std::vector<std::filesystem::path> scenario_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(std::filesystem::path(LOCKSTEP_SOURCE_DIR) / "scenarios")) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ScenarioDeterminism, SameSeedSameHashDifferentSeedDifferentHash) {
  const auto files = scenario_files();
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    auto loaded = load_scenario_file(file.string(), known_protocols());
    ASSERT_TRUE(std::holds_alternative<Scenario>(loaded)) << std::get<LoadError>(loaded).message;
    const Scenario& scenario = std::get<Scenario>(loaded);
    for (const std::string& protocol : scenario.protocols) {
      if (find_protocol(protocol) == nullptr) continue;  // not in this build yet
      const RunResult a = run_scenario(scenario, RunOptions{std::nullopt, protocol, nullptr});
      const RunResult b = run_scenario(scenario, RunOptions{std::nullopt, protocol, nullptr});
      const RunResult c = run_scenario(scenario, RunOptions{scenario.seed + 1, protocol, nullptr});
      EXPECT_EQ(a.trace_hash, b.trace_hash);
      EXPECT_EQ(a.events, b.events);
      EXPECT_NE(a.trace_hash, c.trace_hash);
    }
  }
}

}  // namespace
}  // namespace scenario_determinism_test
}  // namespace lockstep::harness
