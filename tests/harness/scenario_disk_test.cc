// Scenario fields for disks whose syncs take time: disk.sync_latency and
// expect.unsynced_tail_lost load strictly, print back, and the expectation is judged.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "harness/protocols.h"
#include "harness/run.h"
#include "harness/scenario.h"

namespace lockstep::harness {
namespace scenario_disk_test {
namespace {

using Kind = sim::LatencyDistribution::Kind;

std::variant<Scenario, LoadError> parse(std::string_view text) {
  return parse_scenario_text(text, "s.json", known_protocols());
}

Scenario load(std::string_view text) {
  auto result = parse(text);
  if (const auto* error = std::get_if<LoadError>(&result)) {
    ADD_FAILURE() << error->message;
    return {};
  }
  return std::get<Scenario>(std::move(result));
}

std::string error_of(std::string_view text) {
  auto result = parse(text);
  if (const auto* error = std::get_if<LoadError>(&result)) return error->message;
  ADD_FAILURE() << "loaded without error: " << text;
  return {};
}

std::string with_disk(std::string_view disk) {
  return R"({"protocol": "raft", "nodes": 3, "disk": )" + std::string(disk) + "}";
}

TEST(ScenarioDisk, SyncLatencyDefaultsToARealDisk) {
  const Scenario s = load(R"({"protocol": "raft", "nodes": 3})");
  EXPECT_EQ(s.disk.sync_latency.kind, Kind::uniform);
  EXPECT_EQ(s.disk.sync_latency.min, microseconds(100));
  EXPECT_EQ(s.disk.sync_latency.max, milliseconds(1));
}

TEST(ScenarioDisk, SyncLatencyTakesEveryLatencyKind) {
  const auto constant = load(with_disk(R"({"sync_latency": {"kind": "constant", "value": "0s"}})"));
  EXPECT_EQ(constant.disk.sync_latency.kind, Kind::constant);
  EXPECT_EQ(constant.disk.sync_latency.value, Nanos::zero());
  const auto uniform =
      load(with_disk(R"({"sync_latency": {"kind": "uniform", "min": "1ms", "max": "3ms"}})"));
  EXPECT_EQ(uniform.disk.sync_latency.min, milliseconds(1));
  EXPECT_EQ(uniform.disk.sync_latency.max, milliseconds(3));
  const auto lognormal = load(with_disk(
      R"({"sync_latency": {"kind": "lognormal", "median": "500us", "p99": "5ms", "max": "20ms"}})"));
  EXPECT_EQ(lognormal.disk.sync_latency.kind, Kind::lognormal);
  EXPECT_EQ(lognormal.disk.sync_latency.p99, milliseconds(5));
  EXPECT_EQ(lognormal.disk.torn_writes, false);  // the other disk fields keep their defaults
}

TEST(ScenarioDisk, MalformedSyncLatencyNamesItsField) {
  EXPECT_EQ(error_of(with_disk(R"({"sync_latency": {"kind": "uniform", "min": "2ms", "max": "1ms"}})")),
            "s.json: /disk/sync_latency/max: expected a duration in 2ms..1m, got \"1ms\"");
  EXPECT_EQ(error_of(with_disk(R"({"sync_latency": {"value": "1ms"}})")),
            "s.json: /disk/sync_latency/kind: expected one of constant, uniform, lognormal, got "
            "nothing: the field is required");
  EXPECT_EQ(error_of(with_disk(R"({"sync_latency": "1ms"})")),
            "s.json: /disk/sync_latency: expected an object, got \"1ms\"");
  EXPECT_EQ(error_of(with_disk(R"({"sync_latancy": {"kind": "constant", "value": "1ms"}})")),
            "s.json: /disk/sync_latancy: expected one of the fields sync_latency, torn_writes, "
            "torn_corruption, got unknown field \"sync_latancy\" (did you mean \"sync_latency\"?)");
}

TEST(ScenarioDisk, UnsyncedTailLostIsABooleanExpectationOfItsOwn) {
  const auto expect = [](std::string_view e) {
    return R"({"protocol": "raft", "nodes": 3, "expect": )" + std::string(e) + "}";
  };
  EXPECT_EQ(load(expect(R"({"unsynced_tail_lost": true})")).expect.unsynced_tail_lost, true);
  EXPECT_EQ(load(expect(R"({"unsynced_tail_lost": false})")).expect.unsynced_tail_lost, false);
  EXPECT_EQ(load(expect(R"("pass")")).expect.unsynced_tail_lost, std::nullopt);
  EXPECT_EQ(error_of(expect(R"({"unsynced_tail_lost": "yes"})")),
            "s.json: /expect/unsynced_tail_lost: expected true or false, got \"yes\"");
}

TEST(ScenarioDisk, SyncLatencyAndTheExpectationPrintBack) {
  const Scenario s = load(R"({"protocol": "raft", "nodes": 3,
      "disk": {"sync_latency": {"kind": "uniform", "min": "1ms", "max": "3ms"}},
      "expect": {"unsynced_tail_lost": true}})");
  const auto json = to_json(s);
  EXPECT_EQ(json["disk"]["sync_latency"].dump(), R"({"kind":"uniform","min":"1ms","max":"3ms"})");
  EXPECT_EQ(json["expect"].dump(), R"({"unsynced_tail_lost":true})");
  EXPECT_EQ(load(json.dump()), s);
}

// Three servers under write load on slow disks; the leader crashes at 1s, inside a sync window
// unless syncs are instantaneous.
Scenario leader_crash_on(std::string_view sync_latency, std::string_view expect) {
  return load(R"({"protocol": "raft", "nodes": 3, "duration": "2s",
      "disk": {"sync_latency": )" + std::string(sync_latency) + R"(},
      "clients": [{"workload": "append", "count": 4, "interval": "0s"}],
      "faults": [{"at": "1s", "action": "crash", "node": "leader", "for": "200ms"}],
      "checks": {"liveness_bound": "2s"}, "expect": )" + std::string(expect) + "}");
}

RunResult run(const Scenario& s) { return run_scenario(s, RunOptions{std::nullopt, "raft", {}}); }

TEST(RunUnsyncedTailLost, ACrashInsideASyncWindowMeetsTheExpectation) {
  const RunResult r = run(leader_crash_on(R"({"kind": "constant", "value": "5ms"})",
                                          R"({"unsynced_tail_lost": true})"));
  EXPECT_EQ(r.crashes_in_sync_window, 1U);
  EXPECT_GT(r.unsynced_bytes_lost, 0U);
  EXPECT_TRUE(r.as_expected) << r.observed;
  EXPECT_EQ(r.expected, "pass, a crash inside a sync window");
  EXPECT_EQ(r.observed, "pass, 1 crash inside a sync window");
}

TEST(RunUnsyncedTailLost, InstantSyncsLeaveNoWindowSoTheExpectationFails) {
  const RunResult r = run(leader_crash_on(R"({"kind": "constant", "value": "0s"})",
                                          R"({"unsynced_tail_lost": true})"));
  EXPECT_EQ(r.crashes_in_sync_window, 0U);
  EXPECT_EQ(r.messages_lost_in_crash, 0U);
  EXPECT_FALSE(r.as_expected);
  EXPECT_EQ(r.observed, "pass, 0 crashes inside a sync window");
  const RunResult none = run(leader_crash_on(R"({"kind": "constant", "value": "0s"})",
                                             R"({"unsynced_tail_lost": false})"));
  EXPECT_TRUE(none.as_expected);
  EXPECT_EQ(none.expected, "pass, no crash inside a sync window");
}

}  // namespace
}  // namespace scenario_disk_test
}  // namespace lockstep::harness
