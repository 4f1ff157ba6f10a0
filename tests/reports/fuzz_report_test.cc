// The fuzz sweep's report writer: failures counted by property and protocol, every failing run
// listed, the page self-contained.
#include "reports/fuzz_report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace lockstep::reports {
namespace fuzz_report_test {
namespace {

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(FuzzReport, FailuresByPropertyAndProtocolThenEveryFailingRun) {
  harness::FuzzSettings settings;
  settings.protocols = {"raft", "zab"};
  settings.seed_first = 1;
  settings.seed_last = 3;
  settings.nodes = {3};
  harness::FuzzOutcome outcome;
  const auto record = [](std::uint64_t seed, std::string protocol, std::string property) {
    harness::FuzzRecord r;
    r.run = harness::FuzzCase{seed, 3, std::move(protocol)};
    r.failures = {harness::FuzzFailure{std::move(property), "detail with | a bar & <tag>"}};
    r.simulated = seconds(10);
    return r;
  };
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    for (const char* p : {"raft", "zab"}) {
      harness::FuzzRecord r = record(seed, p, "liveness");
      r.passed = !(seed == 2 && std::string(p) == "zab");
      if (r.passed) r.failures.clear();
      outcome.add(r);
    }
  }
  ASSERT_EQ(outcome.failures.size(), 1U);
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("lockstep-fuzz-report-{}", ::getpid());
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(write_fuzz_report(dir, settings, outcome).has_value());
  const std::string md = read(dir / "summary.md");
  EXPECT_NE(md.find("| property | raft | zab |"), std::string::npos) << md;
  EXPECT_NE(md.find("| liveness | 0 | 1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("fuzz-zab-n3-seed2"), std::string::npos) << md;
  EXPECT_NE(md.find("detail with \\| a bar"), std::string::npos) << md;
  const std::string html = read(dir / "report.html");
  EXPECT_NE(html.find("<td class=\"fail\">1</td>"), std::string::npos);
  EXPECT_NE(html.find("&lt;tag&gt;"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);
  EXPECT_LT(html.find("<th>property</th>"), html.find("<h2>Sweep</h2>"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fuzz_report_test
}  // namespace lockstep::reports
