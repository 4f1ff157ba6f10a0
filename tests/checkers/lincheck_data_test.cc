// Every public history with a known verdict (tests/data/linearizability, copied from Porcupine's
// test data; see the README there) gets its verdict, none of them `unknown`.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "checkers/history_formats.h"
#include "checkers/linearizability.h"

namespace lockstep::checkers {
namespace lincheck_data_test {
namespace {

const std::string kDataDir = std::string(LOCKSTEP_SOURCE_DIR) + "/tests/data/linearizability/";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct Expected {
  std::string file;  // relative to kDataDir
  std::string verdict;
};

std::vector<Expected> expected_verdicts() {
  std::ifstream in(kDataDir + "verdicts.tsv");
  std::vector<Expected> out;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    Expected e;
    std::getline(fields, e.file, '\t');
    std::getline(fields, e.verdict, '\t');
    out.push_back(e);
  }
  return out;
}

LoadedHistory load(const Expected& e) {
  const HistoryFormat format =
      e.file.rfind("jepsen/", 0) == 0 ? HistoryFormat::jepsen_etcd : HistoryFormat::edn_kv;
  HistoryResult parsed = parse_history(read_file(kDataDir + e.file), format);
  if (const auto* error = std::get_if<FormatError>(&parsed)) {
    ADD_FAILURE() << e.file << ":" << error->line << ": " << error->message;
    return {};
  }
  return std::get<LoadedHistory>(std::move(parsed));
}

TEST(LincheckData, VerdictsFileListsAllHistories) {
  const auto verdicts = expected_verdicts();
  EXPECT_EQ(verdicts.size(), 109u);  // 102 etcd logs, the empty 095, 6 kv logs
}

TEST(LincheckData, EveryHistoryGetsItsExpectedVerdict) {
  std::size_t checked = 0;
  for (const Expected& e : expected_verdicts()) {
    const LoadedHistory loaded = load(e);
    const CheckResult r = check_linearizability(loaded.history, loaded.model);
    const std::string want =
        e.verdict == "true" ? "linearizable" : e.verdict == "false" ? "not linearizable"
                                                                    : "linearizable";  // empty
    EXPECT_EQ(verdict_name(r.verdict), want)
        << e.file << " steps " << r.search_steps << " states " << r.search_states << " " << r.stopped;
    if (r.verdict == Verdict::not_linearizable) {
      EXPECT_TRUE(r.violation.has_value()) << e.file << ": " << r.stopped;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 109u);
}

}  // namespace
}  // namespace lincheck_data_test
}  // namespace lockstep::checkers
