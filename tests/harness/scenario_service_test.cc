// The lock-service parts of a scenario file: the four lock workloads, the service and resource
// blocks, client fault selectors, handoff bounds and counter expectations. Every field lands in
// the Scenario and loads back equal from to_json; every bad value gets one line naming its place.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>

#include "harness/scenario.h"

namespace lockstep::harness {
namespace scenario_service_test {
namespace {

constexpr std::array<std::string_view, 1> kKnown = {"raft"};

Scenario load(std::string_view text) {
  auto result = parse_scenario_text(text, "s.json", kKnown);
  if (const auto* error = std::get_if<LoadError>(&result)) {
    ADD_FAILURE() << error->message;
    return {};
  }
  return std::get<Scenario>(std::move(result));
}

std::string error_of(std::string_view text) {
  auto result = parse_scenario_text(text, "s.json", kKnown);
  if (const auto* error = std::get_if<LoadError>(&result)) return error->message;
  ADD_FAILURE() << "loaded without error: " << text;
  return {};
}

const char* const kServiceSink = R"({
  "protocol": "raft", "nodes": 5, "duration": "20s",
  "clients": [
    {"workload": "lock_counter", "count": 4, "locks": 8, "hold": "5ms", "interval": "0s",
     "acquire_timeout": "3s", "presence": true, "own_lock": true, "use_resource": false,
     "request_timeout": "300ms"},
    {"workload": "election", "count": 3, "elections": 2, "term": "0s", "work_interval": "20ms",
     "campaign_timeout": "9s", "start": "1s"},
    {"workload": "config", "count": 2, "keys": 7, "interval": "5ms", "watch": false,
     "reads": "stale", "read_only": true, "stop": "15s"},
    {"workload": "mix", "count": 1, "locks": 3, "keys": 2, "hold": "1ms", "interval": "2ms",
     "acquire_timeout": "1s"}
  ],
  "service": {"cell": "east-1", "session_ttl": "3s", "session_grace": "4s", "lock_delay": "250ms",
              "event_history_max": 99, "wait_resend": "400ms"},
  "resource": {"mode": "naive"},
  "faults": [
    {"at": "2s", "action": "pause", "node": "lock_holder", "for": "1s"},
    {"at": "3s", "action": "crash", "node": {"client": [0, 9]}},
    {"at": "4s", "action": "crash", "node": "elected"}
  ],
  "checks": {"handoff_p50_max": "4ms", "handoff_max": "50ms"},
  "expect": {"violation": "mutual_exclusion",
             "at_least": {"handoffs": 10, "watch_resumes": 1},
             "at_most": {"sessions_expired": 0}}
})";

TEST(ScenarioService, EveryFieldLands) {
  const Scenario s = load(kServiceSink);
  ASSERT_EQ(s.clients.size(), 4U);
  const auto& counter = std::get<LockCounterWorkload>(s.clients[0].workload);
  EXPECT_EQ(counter.locks, 8U);
  EXPECT_EQ(counter.hold, milliseconds(5));
  EXPECT_EQ(counter.interval, Nanos::zero());
  EXPECT_EQ(counter.acquire_timeout, seconds(3));
  EXPECT_TRUE(counter.presence);
  EXPECT_TRUE(counter.own_lock);
  EXPECT_FALSE(counter.use_resource);
  EXPECT_EQ(s.clients[0].request_timeout, milliseconds(300));
  const auto& election = std::get<ElectionWorkload>(s.clients[1].workload);
  EXPECT_EQ(election.elections, 2U);
  EXPECT_EQ(election.term, Nanos::zero());
  EXPECT_EQ(election.work_interval, milliseconds(20));
  EXPECT_EQ(election.campaign_timeout, seconds(9));
  const auto& config = std::get<ConfigWorkload>(s.clients[2].workload);
  EXPECT_EQ(config.keys, 7U);
  EXPECT_FALSE(config.watch);
  EXPECT_EQ(config.reads, ReadConsistency::stale);
  EXPECT_TRUE(config.read_only);
  const auto& mix = std::get<MixWorkload>(s.clients[3].workload);
  EXPECT_EQ(mix.locks, 3U);
  EXPECT_EQ(mix.keys, 2U);
  EXPECT_EQ(s.service.cell, "east-1");
  EXPECT_EQ(s.service.session_ttl, seconds(3));
  EXPECT_EQ(s.service.session_grace, seconds(4));
  EXPECT_EQ(s.service.lock_delay, milliseconds(250));
  EXPECT_EQ(s.service.event_history_max, 99U);
  EXPECT_EQ(s.service.wait_resend, milliseconds(400));
  EXPECT_EQ(s.resource.mode, service::ResourceMode::naive);
  ASSERT_EQ(s.faults.size(), 3U);
  const auto& crash = std::get<Crash>(s.faults[1].action);
  EXPECT_EQ(crash.node.kind, NodeSelector::Kind::client);
  EXPECT_EQ(crash.node.ids, (std::vector<NodeId>{NodeId{0}, NodeId{9}}));
  EXPECT_EQ(std::get<Crash>(s.faults[2].action).node.kind, NodeSelector::Kind::elected);
  EXPECT_EQ(s.checks.handoff_p50_max, milliseconds(4));
  EXPECT_EQ(s.checks.handoff_max, milliseconds(50));
  EXPECT_EQ(s.expect.violation, Property::mutual_exclusion);
  EXPECT_EQ(s.expect.at_least.at(Counter::handoffs), 10U);
  EXPECT_EQ(s.expect.at_least.at(Counter::watch_resumes), 1U);
  EXPECT_EQ(s.expect.at_most.at(Counter::sessions_expired), 0U);
  EXPECT_TRUE(s.runs_lock_service());
}

TEST(ScenarioService, LoadsBackEqualFromJson) {
  const Scenario s = load(kServiceSink);
  const Scenario again = load(to_json(s).dump(2));
  EXPECT_EQ(again, s);
}

TEST(ScenarioService, LockWorkloadDefaultsAreTheDocumentedOnes) {
  const Scenario s = load(R"({"protocol": "raft", "nodes": 3,
                              "clients": [{"workload": "lock_counter"}]})");
  const auto& w = std::get<LockCounterWorkload>(s.clients[0].workload);
  EXPECT_EQ(w.locks, 1U);
  EXPECT_EQ(w.hold, milliseconds(10));
  EXPECT_EQ(w.interval, milliseconds(50));
  EXPECT_EQ(w.acquire_timeout, seconds(5));
  EXPECT_FALSE(w.presence);
  EXPECT_FALSE(w.own_lock);
  EXPECT_TRUE(w.use_resource);
  EXPECT_EQ(s.service, ServiceSettings{});
  EXPECT_EQ(s.resource.mode, service::ResourceMode::fencing);
  const Scenario c = load(R"({"protocol": "raft", "nodes": 3, "clients": [{"workload": "config"}]})");
  EXPECT_EQ(std::get<ConfigWorkload>(c.clients[0].workload).reads, ReadConsistency::linearizable);
  EXPECT_FALSE(std::get<ConfigWorkload>(c.clients[0].workload).read_only);
}

struct BadCase {
  std::string_view text;
  std::string_view message;
};

TEST(ScenarioService, BadValuesNameTheirPlace) {
  const BadCase cases[] = {
      {R"({"protocol": "raft", "nodes": 3, "clients": [{"workload": "lock_countr"}]})",
       "s.json: /clients/0/workload: expected one of append, lock_counter, election, config, mix, "
       "got \"lock_countr\""},
      {R"({"protocol": "raft", "nodes": 3,
           "clients": [{"workload": "lock_counter", "own_lock": "yes"}]})",
       "s.json: /clients/0/own_lock: expected true or false, got \"yes\""},
      {R"({"protocol": "raft", "nodes": 3, "clients": [{"workload": "config"}],
           "service": {"cell": ".."}})",
       "s.json: /service/cell: expected a cell name of letters, digits, '.', '_' and '-' (not "
       "\".\" or \"..\"), got \"..\""},
      {R"({"protocol": "raft", "nodes": 3, "clients": [{"workload": "config"}],
           "resource": {"mode": "careful"}})",
       "s.json: /resource/mode: expected one of fencing, naive, got \"careful\""},
      {R"({"protocol": "raft", "nodes": 3, "clients": [{"workload": "config", "reads": "fast"}]})",
       "s.json: /clients/0/reads: expected one of linearizable, stale, got \"fast\""},
      {R"({"protocol": "raft", "nodes": 3, "clients": [{"workload": "lock_counter", "count": 2}],
           "faults": [{"at": "1s", "action": "crash", "node": {"client": 2}}]})",
       "s.json: /faults/0/node/client: expected a client index in 0..1 (clients count over all "
       "groups), got 2"},
      {R"({"protocol": "raft", "nodes": 3, "clients": [{"workload": "lock_counter"}],
           "checks": {"handoff_p50_max": "10ms", "handoff_max": "5ms"}})",
       "s.json: /checks/handoff_max: expected a duration in 10ms..1h, got \"5ms\""},
  };
  for (const BadCase& c : cases) EXPECT_EQ(error_of(c.text), c.message) << c.text;
}

}  // namespace
}  // namespace scenario_service_test
}  // namespace lockstep::harness
