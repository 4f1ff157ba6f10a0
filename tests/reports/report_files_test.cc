// Reports of real runs: collecting the timeline changes nothing in the run, the timeline holds the
// scenario's faults and leaders, report.html is one self-contained file with the verdict table
// before the plots, the same run gives the same bytes, and a violation gets its diagram.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/protocols.h"
#include "harness/run.h"
#include "reports/msc.h"
#include "reports/run_report.h"

namespace lockstep::reports {
namespace report_files_test {
namespace {

harness::Scenario load(const std::string& relative) {
  auto loaded = harness::load_scenario_file(fmt::format("{}/{}", LOCKSTEP_SOURCE_DIR, relative),
                                            harness::known_protocols());
  EXPECT_TRUE(std::holds_alternative<harness::Scenario>(loaded));
  return std::get<harness::Scenario>(std::move(loaded));
}

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::filesystem::path temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   fmt::format("lockstep-report-{}-{}", name, ::getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

harness::RunResult run(const harness::Scenario& s, const std::string& protocol, bool collect) {
  harness::RunOptions options{std::nullopt, protocol, nullptr};
  options.collect_timeline = collect;
  return harness::run_scenario(s, options);
}

TEST(RunTimeline, CollectingChangesNothingInTheRun) {
  const harness::Scenario s = load("scenarios/quickstart.json");
  const harness::RunResult plain = run(s, "raft", false);
  const harness::RunResult collected = run(s, "raft", true);
  EXPECT_FALSE(plain.timeline.has_value());
  ASSERT_TRUE(collected.timeline.has_value());
  EXPECT_EQ(plain.trace_hash, collected.trace_hash);
  EXPECT_EQ(plain.events, collected.events);
  EXPECT_EQ(plain.observed, collected.observed);
}

TEST(RunTimeline, HoldsTheScenariosFaultsLeadersAndCalls) {
  // quickstart: 3 servers; at 2s the leader is isolated until the heal at 4s; at 6s a follower
  // crashes for 1s; 1100 calls.
  const harness::RunResult r = run(load("scenarios/quickstart.json"), "raft", true);
  const harness::RunTimeline& t = *r.timeline;
  EXPECT_EQ(t.calls.size(), r.clients.calls);
  EXPECT_EQ(t.servers, 3U);
  // Each server's spans tile [0, end).
  for (std::uint32_t s = 0; s < 3; ++s) {
    Nanos at = Nanos::zero();
    for (const harness::RoleSpan& span : t.roles) {
      if (span.node != s) continue;
      EXPECT_EQ(span.from, at) << "server " << s;
      at = span.until;
    }
    EXPECT_EQ(at, t.end) << "server " << s;
  }
  const harness::FaultWindow* partition = nullptr;
  const harness::FaultWindow* crash = nullptr;
  for (const harness::FaultWindow& w : t.faults) {
    if (w.kind == harness::FaultKind::partition) partition = &w;
    if (w.kind == harness::FaultKind::crash) crash = &w;
  }
  ASSERT_NE(partition, nullptr);
  EXPECT_EQ(partition->from, seconds(2));
  EXPECT_EQ(partition->until, seconds(4));
  ASSERT_EQ(partition->servers.size(), 1U);
  // The isolated server is the one that led just before 2s.
  const std::uint32_t isolated = partition->servers.front();
  bool led_before = false;
  for (const harness::RoleSpan& span : t.roles) {
    if (span.node == isolated && span.role == consensus::Role::leader && span.from < seconds(2) &&
        span.until >= seconds(2)) {
      led_before = true;
    }
  }
  EXPECT_TRUE(led_before);
  ASSERT_NE(crash, nullptr);
  EXPECT_EQ(crash->from, seconds(6));
  EXPECT_EQ(crash->until, seconds(7));
  // A follower: the crashed server was not leading when it went down, and was down until 7s.
  const std::uint32_t crashed = crash->servers.front();
  for (const harness::RoleSpan& span : t.roles) {
    if (span.node != crashed) continue;
    if (span.from < seconds(6) && span.until >= seconds(6)) {
      EXPECT_NE(span.role, consensus::Role::leader);
    }
    if (span.from >= seconds(6) && span.until <= seconds(7)) {
      EXPECT_FALSE(span.up);
    }
  }
  EXPECT_FALSE(t.commits.empty());
  EXPECT_GE(t.committed, r.clients.ok);
  EXPECT_EQ(t.window.size(), harness::kWindowEventsDefault);
}

TEST(RunReport, HtmlIsSelfContainedVerdictsFirstAndTheSameForTheSameRun) {
  const harness::RunResult r = run(load("scenarios/quickstart.json"), "raft", true);
  const auto a = temp_dir("a");
  const auto b = temp_dir("b");
  ASSERT_FALSE(write_run_report(a, r, "scenarios/quickstart.json").has_value());
  ASSERT_FALSE(write_run_report(b, run(load("scenarios/quickstart.json"), "raft", true),
                                "scenarios/quickstart.json")
                   .has_value());
  const std::string html = read(a / "report.html");
  EXPECT_EQ(html, read(b / "report.html"));
  EXPECT_EQ(read(a / "summary.md"), read(b / "summary.md"));
  for (const char* external : {"http://", "https://", "src=", "<script", "<link", "url(http"}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  const auto verdicts = html.find("<th>property</th><th>verdict</th>");
  const auto first_plot = html.find("<svg");
  ASSERT_NE(verdicts, std::string::npos);
  ASSERT_NE(first_plot, std::string::npos);
  EXPECT_LT(verdicts, first_plot);
  EXPECT_NE(html.find("Client latency over time"), std::string::npos);
  EXPECT_NE(html.find("Who believed it led"), std::string::npos);
  EXPECT_NE(html.find("availability"), std::string::npos);
  // No property failed: no diagram.
  EXPECT_FALSE(std::filesystem::exists(a / "violation.dot"));
  // The markdown starts with the verdict table too.
  const std::string md = read(a / "summary.md");
  EXPECT_LT(md.find("| property | verdict | detail |"), md.find("## Run"));
  std::filesystem::remove_all(a);
  std::filesystem::remove_all(b);
}

TEST(RunReport, AViolationGetsAMessageSequenceDiagramOfItsLastEvents) {
  // Zab with the ACK-NEWLEADER-before-sync bug switched on breaks an invariant; the run stops there.
  const harness::RunResult r = run(load("scenarios/zab/ack-newleader-before-sync.json"), "zab", true);
  ASSERT_TRUE(any_failed(r));
  ASSERT_TRUE(r.timeline->violation_at.has_value());
  EXPECT_EQ(*r.timeline->violation_at, r.simulated);
  for (const harness::WindowEvent& e : r.timeline->window) EXPECT_LE(e.at, r.simulated);
  const auto dir = temp_dir("violation");
  ASSERT_FALSE(write_run_report(dir, r, "zab.json").has_value());
  const std::string dot = read(dir / "violation.dot");
  EXPECT_EQ(dot.rfind("digraph msc {", 0), 0U);
  EXPECT_NE(dot.find("invariant broken"), std::string::npos);
  // Messages are labelled with Zab's own message types, decoded from the bytes.
  const bool zab_names = dot.find("Notification") != std::string::npos ||
                         dot.find("Proposal") != std::string::npos ||
                         dot.find("FollowerInfo") != std::string::npos;
  EXPECT_TRUE(zab_names) << dot;
  EXPECT_EQ(dot.find("xlabel=\"message"), std::string::npos);  // every one decoded
  const std::string html = read(dir / "report.html");
  EXPECT_NE(html.find("Message sequence before the violation"), std::string::npos);
  if (dot_available()) {
    const std::string svg = read(dir / "violation.svg");
    EXPECT_NE(svg.find("<svg"), std::string::npos);
    EXPECT_EQ(html.find("http://"), std::string::npos);  // the inlined diagram too
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace report_files_test
}  // namespace lockstep::reports
