// `lockstep lincheck` as a user runs it: exit 0 linearizable, 1 not, 3 unknown, 2 bad input, with
// the malformed line named, and the JSON and SVG outputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/run_cli.h"

namespace lincheck_cli_test {
namespace {

using lockstep::testing::CliResult;

CliResult lincheck(const std::string& args) { return lockstep::testing::run_lockstep("lincheck " + args); }

std::string data(const std::string& relative) {
  return std::string(LOCKSTEP_SOURCE_DIR) + "/tests/data/linearizability/" + relative;
}

std::filesystem::path temp_dir() {
  const auto dir = std::filesystem::temp_directory_path() / "lockstep_lincheck_cli_test";
  std::filesystem::create_directories(dir);
  return dir;
}

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = temp_dir() / name;
  std::ofstream(path) << text;
  return path.string();
}

bool contains(const std::string& out, const std::string& part) { return out.find(part) != std::string::npos; }

TEST(LincheckCli, LinearizableHistoryExitsZero) {
  const CliResult r = lincheck(data("jepsen/etcd_002.log") + " --format jepsen-etcd");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "verdict    linearizable\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "(jepsen-etcd, register model)")) << r.out;
}

TEST(LincheckCli, ViolationExitsOneAndNamesTheCallThatCannotBePlaced) {
  const CliResult r = lincheck(data("jepsen/etcd_000.log") + " --format jepsen-etcd");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  for (const char* line : {"verdict    not linearizable\n",
                           "cannot place  read -> 2 (process 11, lines 85-86)\n",
                           "needed        the register to be 2 between line 85 and line 86\n",
                           "found         0, 1, 3, 4 ",
                           "prefix        the shortest illegal prefix ends at line 86:",
                           "  > p11   lines 85-86        read -> 2\n"}) {
    EXPECT_TRUE(contains(r.out, line)) << line << "\n" << r.out;
  }
}

TEST(LincheckCli, ExhaustedBudgetExitsThree) {
  const CliResult r = lincheck(data("jepsen/etcd_002.log") + " --format jepsen-etcd --budget 1000");
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_TRUE(contains(r.out, "verdict    unknown\nwhy        the budget of 1000 search steps ran out"))
      << r.out;
}

TEST(LincheckCli, EmptyHistoryIsLinearizable) {
  const CliResult r = lincheck(data("jepsen/etcd_095.log") + " --format jepsen-etcd");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "calls      none: an empty history is linearizable")) << r.out;
}

TEST(LincheckCli, KvHistoryTakesItsModelFromTheFormat) {
  const CliResult ok = lincheck(data("kv/c10-ok.txt") + " --format edn-kv");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_TRUE(contains(ok.out, "(edn-kv, kv model)")) << ok.out;
  const CliResult bad = lincheck(data("kv/c10-bad.txt") + " --format edn-kv");
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_TRUE(contains(bad.out, "key           \"")) << bad.out;
}

TEST(LincheckCli, LockstepFormatIsTheDefault) {
  const std::string file = write_temp("stale.json", R"({
  "lockstep_history": 1,
  "model": "register",
  "operations": [
    {"process": 0, "f": "write", "args": [1], "outcome": "ok", "call_ns": 0, "return_ns": 1000},
    {"process": 1, "f": "read", "result": null, "outcome": "ok", "call_ns": 2000, "return_ns": 3000}
  ]
})");
  const CliResult r = lincheck(file);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "(lockstep, register model)")) << r.out;
  EXPECT_TRUE(contains(r.out, "cannot place  read -> nil (process 1, /operations/1)")) << r.out;
  EXPECT_TRUE(contains(r.out, "needed        the register to be nil between 2us and 3us")) << r.out;
}

TEST(LincheckCli, MalformedLineIsBadInputWithFileAndLine) {
  const std::string file = write_temp("bad.log",
                                      "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
                                      "INFO  jepsen.util - 0\t:ok\t:read\t3\n"
                                      "INFO  jepsen.util - 1\t:invoke\t:write\tfour\n");
  const CliResult r = lincheck(file + " --format jepsen-etcd");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, file + ":3: expected an integer to write, got \"four\"\n");
}

TEST(LincheckCli, MalformedJsonIsBadInputWithItsPointer) {
  const std::string file = write_temp("bad.json",
                                      R"({"lockstep_history": 1, "model": "kv", "operations": [)"
                                      R"({"process": 0, "f": "read", "outcome": "ok", "call_ns": 0, "return_ns": 1}]})");
  const CliResult r = lincheck(file);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, file + ": /operations/0/f: expected one of get, put, append, cas (the kv model), got \"read\"\n");
  // The log read as JSON is a syntax error at line 1, not a crash.
  const CliResult wrong_format = lincheck(data("jepsen/etcd_000.log"));
  EXPECT_EQ(wrong_format.exit_code, 2);
  EXPECT_TRUE(contains(wrong_format.out, "etcd_000.log: line 1, column 1: syntax error")) << wrong_format.out;
}

TEST(LincheckCli, BadFlagsAreBadInputWithAClearMessage) {
  const std::string log = data("jepsen/etcd_000.log");
  const CliResult format = lincheck(log + " --format xml");
  EXPECT_EQ(format.exit_code, 2);
  EXPECT_EQ(format.out, "lockstep lincheck: --format expects one of lockstep, jepsen-etcd, edn-kv, got \"xml\"\n");
  const CliResult model = lincheck(log + " --format jepsen-etcd --model queue");
  EXPECT_EQ(model.exit_code, 2);
  EXPECT_EQ(model.out, "lockstep lincheck: --model expects one of register, kv, lock, namespace, lock-service, got \"queue\"\n");
  const CliResult flag = lincheck(log + " --frobnicate");
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_TRUE(contains(flag.out, "lockstep lincheck: unknown flag --frobnicate (known: --format, --model")) << flag.out;
  const CliResult budget = lincheck(log + " --budget 0");
  EXPECT_EQ(budget.exit_code, 2);
  EXPECT_EQ(budget.out, "lockstep lincheck: --budget expects an integer >= 1, got \"0\"\n");
  const CliResult limit = lincheck(log + " --time-limit 5");
  EXPECT_EQ(limit.exit_code, 2);
  EXPECT_TRUE(contains(limit.out, "--time-limit expects a duration with a unit")) << limit.out;
  EXPECT_EQ(lincheck("").exit_code, 2);
  EXPECT_EQ(lincheck("/nonexistent/history.json").out,
            "/nonexistent/history.json: cannot open: No such file or directory\n");
  const CliResult mismatch = lincheck(log + " --format jepsen-etcd --model kv");
  EXPECT_EQ(mismatch.exit_code, 2);
  EXPECT_TRUE(contains(mismatch.out, "etcd_000.log:1: read -> nil does not fit the kv model")) << mismatch.out;
}

TEST(LincheckCli, TimeLimitGivesUnknownRatherThanAHang) {
  // Generous budget, tiny time limit: the c50 history cannot finish within a nanosecond.
  const CliResult r = lincheck(data("kv/c50-ok.txt") + " --format edn-kv --time-limit 1ns");
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_TRUE(contains(r.out, "the time limit ran out")) << r.out;
}

TEST(LincheckCli, JsonOutputCarriesTheVerdictAndTheViolation) {
  const CliResult r = lincheck(data("jepsen/etcd_000.log") + " --format jepsen-etcd --json");
  EXPECT_EQ(r.exit_code, 1);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verdict"], "not linearizable");
  EXPECT_EQ(j["time_axis"], "line");
  EXPECT_EQ(j["violation"]["operation"]["f"], "read");
  EXPECT_EQ(j["violation"]["operation"]["result"], 2);
  EXPECT_EQ(j["violation"]["operation"]["call"], 85);
  EXPECT_EQ(j["violation"]["needed"], "the register to be 2");
  EXPECT_EQ(j["violation"]["states"], nlohmann::json::parse(R"(["0", "1", "3", "4"])"));
  EXPECT_EQ(j["violation"]["prefix"]["end"], "line 86");
}

TEST(LincheckCli, SvgTimelineIsWrittenForAViolation) {
  const auto svg = temp_dir() / "violation.svg";
  std::filesystem::remove(svg);
  const CliResult r = lincheck(data("jepsen/etcd_000.log") + " --format jepsen-etcd --svg " + svg.string());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "timeline   " + svg.string())) << r.out;
  std::ifstream in(svg);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str().rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_TRUE(contains(text.str(), "read -&gt; 2 cannot be placed"));
  EXPECT_TRUE(contains(text.str(), "shortest illegal prefix ends here"));
  EXPECT_TRUE(text.str().ends_with("</svg>\n"));

  const CliResult fine = lincheck(data("jepsen/etcd_002.log") + " --format jepsen-etcd --svg " + svg.string());
  EXPECT_EQ(fine.exit_code, 0);
  EXPECT_TRUE(contains(fine.out, "timeline   not written: there is no violation to draw")) << fine.out;
}

TEST(LincheckCli, HelpListsTheExitCodes) {
  const CliResult r = lincheck("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "usage: lockstep lincheck FILE")) << r.out;
  EXPECT_TRUE(contains(r.out, "0 linearizable, 1 not linearizable, 3 unknown (gave up), 2 bad input")) << r.out;
  EXPECT_TRUE(contains(lockstep::testing::run_lockstep("--help").out, "lincheck"));
}

}  // namespace
}  // namespace lincheck_cli_test
