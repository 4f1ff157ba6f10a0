// scenarios/raft/crash-restart-torn-tail.json does what its description says: crashes land inside
// sync windows, servers restart on logs whose unsynced tail was lost or torn, recover by cutting
// the torn record off, and no acknowledged append is lost.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "harness/protocols.h"
#include "harness/run.h"
#include "harness/scenario.h"
#include "reports/run_report.h"

namespace lockstep::harness {
namespace torn_tail_scenario_test {
namespace {

Scenario torn_tail_scenario() {
  // One literal, not string + literal: GCC 12 warns falsely (-Warray-bounds) about the latter when
  // this file shares a unity batch with some others.
  auto loaded = load_scenario_file(
      LOCKSTEP_SOURCE_DIR "/scenarios/raft/crash-restart-torn-tail.json", known_protocols());
  if (const auto* error = std::get_if<LoadError>(&loaded)) ADD_FAILURE() << error->message;
  return std::get<Scenario>(std::move(loaded));
}

// What the trace says happened to the servers' disks.
struct DiskStory {
  std::uint64_t crashes_cutting_syncs = 0;
  std::uint64_t messages_dropped_with_sender = 0;
  // Restarts that found a torn record at the end of the log, right after a crash that cut a
  // sync short on the same server.
  std::uint64_t torn_recoveries_after_a_cut_sync = 0;
  std::uint64_t recoveries = 0;
  // Summed over the crashes' disk_loss events: bytes gone, and files left with a torn tail.
  std::uint64_t bytes_lost = 0;
  std::uint64_t torn_files = 0;
};

// "kept 11 of 122 unsynced bytes: 1 file(s) torn mid-write, ..." -> 1
std::uint64_t torn_files_in(const std::string& detail) {
  const std::size_t end = detail.find(" file(s) torn");
  if (end == std::string::npos) return 0;
  const std::size_t begin = detail.rfind(' ', end - 1) + 1;
  return std::stoull(detail.substr(begin, end - begin));
}

DiskStory read_trace(const std::string& jsonl, std::uint32_t servers) {
  DiskStory story;
  // Per server: did its latest crash cut a sync short, and has it restarted since?
  std::map<std::uint32_t, bool> cut_by_last_crash;
  std::istringstream in(jsonl);
  for (std::string line; std::getline(in, line);) {
    const auto event = nlohmann::json::parse(line);
    const auto node = event["node"].get<std::uint32_t>();
    const auto kind = event["kind"].get<std::string>();
    if (node >= servers) continue;
    if (kind == "crash") {
      cut_by_last_crash[node] = false;
    } else if (kind == "disk_loss") {
      story.bytes_lost += event["bytes_lost"].get<std::uint64_t>();
      if (event.contains("detail")) story.torn_files += torn_files_in(event["detail"]);
      if (event["syncs_cut"].get<std::uint64_t>() > 0) {
        ++story.crashes_cutting_syncs;
        cut_by_last_crash[node] = true;
      }
    } else if (kind == "drop" && event["reason"] == "sender_crashed") {
      ++story.messages_dropped_with_sender;
    } else if (kind == "note" && event["detail"].get<std::string>().starts_with("recovery ")) {
      ++story.recoveries;
      if (cut_by_last_crash[node]) ++story.torn_recoveries_after_a_cut_sync;
    }
  }
  return story;
}

TEST(TornTailScenario, CrashesInsideSyncWindowsLeaveTornTailsThatRecoveryCutsOff) {
  const Scenario scenario = torn_tail_scenario();
  std::ostringstream trace;
  const RunResult r = run_scenario(scenario, RunOptions{std::nullopt, "raft", &trace});

  EXPECT_TRUE(r.as_expected) << r.observed;
  for (const PropertyVerdict& v : r.properties) {
    EXPECT_NE(v.verdict, Verdict::fail) << property_name(v.property) << ": " << v.detail;
  }
  EXPECT_GT(r.clients.ok, 0U);

  EXPECT_GE(r.crashes_in_sync_window, 1U);
  EXPECT_GT(r.unsynced_bytes_lost, 0U);
  EXPECT_GE(r.messages_lost_in_crash, 1U);
  const DiskStory story = read_trace(trace.str(), scenario.nodes);
  EXPECT_EQ(story.crashes_cutting_syncs, r.crashes_in_sync_window);
  EXPECT_EQ(story.messages_dropped_with_sender, r.messages_lost_in_crash);
  EXPECT_GE(story.torn_recoveries_after_a_cut_sync, 1U);
  // The host syncs every record it writes, so only a crash that cut a sync short can tear the
  // log: every recovery follows one.
  EXPECT_EQ(story.recoveries, story.torn_recoveries_after_a_cut_sync);

  // The summary and summary.json tell the reader what the disks lost, as the trace does.
  EXPECT_EQ(r.unsynced_bytes_lost, story.bytes_lost);
  EXPECT_GE(story.torn_files, 1U);
  EXPECT_EQ(r.torn_tails, story.torn_files);
  EXPECT_GE(r.crashes_losing_unsynced, r.crashes_in_sync_window);
  std::ostringstream summary;
  reports::print_summary(summary, r, "crash-restart-torn-tail.json");
  EXPECT_NE(summary.str().find(fmt::format(
                "\ndisk       {} crashes found unsynced data, {} cut a sync short: {} bytes lost, "
                "{} torn tail",
                r.crashes_losing_unsynced, story.crashes_cutting_syncs, story.bytes_lost,
                story.torn_files)),
            std::string::npos)
      << summary.str();
  EXPECT_NE(summary.str().find(fmt::format("; {} message", story.messages_dropped_with_sender)),
            std::string::npos)
      << summary.str();
  const nlohmann::ordered_json disk = reports::to_json(r).at("disk");
  EXPECT_EQ(disk.at("unsynced_bytes_lost"), story.bytes_lost);
  EXPECT_EQ(disk.at("torn_tails"), story.torn_files);
  EXPECT_EQ(disk.at("crashes_in_sync_window"), story.crashes_cutting_syncs);
  EXPECT_EQ(disk.at("messages_lost_in_crash"), story.messages_dropped_with_sender);
}

// The same scenario with instantaneous syncs, as the simulator had them before: no crash can
// land inside a sync, so nothing is ever torn and the expectation is not met.
TEST(TornTailScenario, InstantSyncsWouldNeverTearTheLog) {
  Scenario scenario = torn_tail_scenario();
  scenario.disk.sync_latency = sim::LatencyDistribution{
      .kind = sim::LatencyDistribution::Kind::constant, .value = Nanos::zero()};
  std::ostringstream trace;
  const RunResult r = run_scenario(scenario, RunOptions{std::nullopt, "raft", &trace});
  EXPECT_EQ(r.crashes_in_sync_window, 0U);
  EXPECT_EQ(read_trace(trace.str(), scenario.nodes).recoveries, 0U);
  EXPECT_FALSE(r.as_expected);
  std::ostringstream summary;
  reports::print_summary(summary, r, "crash-restart-torn-tail.json");
  EXPECT_NE(summary.str().find("\ndisk       no crash found unsynced data\n"), std::string::npos)
      << summary.str();
}

}  // namespace
}  // namespace torn_tail_scenario_test
}  // namespace lockstep::harness
