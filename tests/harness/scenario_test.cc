// The scenario loader: every malformed file gets one exact line, every valid field lands in the
// Scenario, and a Scenario written back with to_json loads back equal.
#include "harness/scenario.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <array>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "core/duration.h"

namespace lockstep::harness {
namespace scenario_test {
namespace {

constexpr std::array<std::string_view, 3> kKnown = {"raft", "paxos", "zab"};

std::string fixture(std::string_view name) {
  // One format call: GCC 12 warns falsely (-Warray-bounds) on the chain of string additions in
  // some unity batches.
  return fmt::format("{}/tests/harness/malformed/{}", LOCKSTEP_SOURCE_DIR, name);
}

// The error line for `text`, or a failure if it loads.
std::string error_of(std::string_view text) {
  auto result = parse_scenario_text(text, "s.json", kKnown);
  if (const auto* error = std::get_if<LoadError>(&result)) return error->message;
  ADD_FAILURE() << "loaded without error: " << text;
  return {};
}

Scenario load(std::string_view text, std::string_view label = "dir/my-scenario.json") {
  auto result = parse_scenario_text(text, label, kKnown);
  if (const auto* error = std::get_if<LoadError>(&result)) {
    ADD_FAILURE() << error->message;
    return {};
  }
  return std::get<Scenario>(std::move(result));
}

Scenario reload(const Scenario& s) { return load(to_json(s).dump(2), "elsewhere/other-name.json"); }

struct MalformedCase {
  std::string_view file;
  std::string_view message;  // after "FILE: "
};

constexpr MalformedCase kMalformed[] = {
    {"bad_syntax.json",
     "line 4, column 1: syntax error while parsing object key - unexpected '}'; expected string "
     "literal"},
    {"wrong_type.json", "/nodes: expected an integer in 1..9, got \"3\""},
    {"unknown_top_level_field.json",
     "/seeds: expected one of the fields name, description, protocol, nodes, seed, duration, "
     "event_limit, network, clocks, disk, protocol_options, clients, service, resource, faults, "
     "nemesis, checks, "
     "expect, got unknown field \"seeds\" (did you mean \"seed\"?)"},
    {"unknown_network_field.json",
     "/network/los: expected one of the fields latency, loss, duplicate, reorder, "
     "reorder_delay_max, in_flight_max, got unknown field \"los\" (did you mean \"loss\"?)"},
    {"negative_duration.json", "/duration: expected a duration in 1ns..1h, got \"-5s\""},
    {"duration_without_unit.json",
     "/clients/0/interval: expected a duration with a unit (ns, us, ms, s, m, h) like \"150ms\", "
     "got 150"},
    {"node_out_of_range.json", "/faults/3/node: expected a node id in 0..4, got 7"},
    {"unknown_protocol.json", "/protocol: expected one of raft, paxos, zab, all, got \"rafty\""},
    {"unknown_fault_action.json",
     "/faults/0/action: expected one of partition, heal, crash, restart, pause, resume, "
     "clock_jump, clock_drift, clog, set_network, corrupt_disk, got \"explode\""},
    {"probability_above_one.json", "/network/loss: expected a probability in 0..1, got 1.5"},
    {"empty_group.json", "/faults/0/groups/1: expected a non-empty array of node ids, got []"},
    {"overlapping_groups.json",
     "/faults/0/groups/1/0: expected each node in at most one group, got 1 in groups 0 and 1"},
    {"missing_required_field.json",
     "/nodes: expected an integer in 1..9, got nothing: the field is required"},
    {"duplicate_field.json",
     "/faults/0/node: expected each field once, got \"node\" a second time"},
    {"unknown_latency_kind.json",
     "/network/latency/kind: expected one of constant, uniform, lognormal, got \"normal\""},
    {"uniform_max_below_min.json",
     "/network/latency/max: expected a duration in 2ms..1m, got \"500us\""},
    {"unknown_selector.json",
     "/faults/0/node: expected a node id in 0..2, an array of node ids, or one of leader, "
     "follower, minority, majority, random, all, got \"leadr\""},
    {"fault_after_end.json", "/faults/0/at: expected a time within the run, 0s..10s, got \"12s\""},
    {"not_an_object.json", "/: expected an object, got an array"},
    {"expect_unchecked_property.json",
     "/expect/violation: expected one of the checked properties linearizability, got "
     "\"liveness\""},
    {"unknown_protocol_options.json",
     "/protocol_options/rft: expected one of the fields raft, paxos, zab, got unknown field "
     "\"rft\" (did you mean \"raft\"?)"},
    {"field_of_other_fault_action.json",
     "/faults/0/groups: expected one of the fields at, action, node, for, got unknown field "
     "\"groups\""},
};

TEST(ScenarioMalformed, EachFixtureGetsItsExactOneLineError) {
  for (const MalformedCase& c : kMalformed) {
    const std::string path = fixture(c.file);
    auto result = load_scenario_file(path, kKnown);
    ASSERT_TRUE(std::holds_alternative<LoadError>(result)) << c.file << " loaded";
    const std::string& message = std::get<LoadError>(result).message;
    EXPECT_EQ(message, path + ": " + std::string(c.message));
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(ScenarioMalformed, MissingFileSaysWhyItCannotBeOpened) {
  const std::string path = fixture("does-not-exist.json");
  auto result = load_scenario_file(path, kKnown);
  ASSERT_TRUE(std::holds_alternative<LoadError>(result));
  EXPECT_EQ(std::get<LoadError>(result).message, path + ": cannot open: No such file or directory");
}

TEST(ScenarioMalformed, DirectoryIsNotAScenario) {
  const std::string path = fixture("");
  auto result = load_scenario_file(path, kKnown);
  ASSERT_TRUE(std::holds_alternative<LoadError>(result));
  EXPECT_EQ(std::get<LoadError>(result).message, path + ": cannot read: Is a directory");
}

TEST(ScenarioMalformed, SelectorsAreCheckedForWhatTheActionAllows) {
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,"faults":[
      {"at":"1s","action":"restart","node":"leader"}]})"),
            "s.json: /faults/0/node: expected a node id in 0..2, an array of node ids, or all, "
            "got \"leader\"");
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,"faults":[
      {"at":"1s","action":"partition","kind":"bridge","node":[0,1]}]})"),
            "s.json: /faults/0/node: expected a node id in 0..2 or one of leader, follower, "
            "random, got an array");
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,"faults":[
      {"at":"1s","action":"crash","node":[0,2,0]}]})"),
            "s.json: /faults/0/node/2: expected each node id once, got 0 a second time");
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,"faults":[
      {"at":"1s","action":"crash","node":-1}]})"),
            "s.json: /faults/0/node: expected a node id in 0..2, got -1");
}

TEST(ScenarioMalformed, CrossFieldLimitsNameTheirBound) {
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,
      "clients":[{"workload":"append","start":"2s","stop":"1s"}]})"),
            "s.json: /clients/0/stop: expected a duration in 2s..10s, got \"1s\"");
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,
      "clients":[{"workload":"append","count":60},{"workload":"append","count":60}]})"),
            "s.json: /clients/1/count: expected at most 100 clients over all groups, got 120");
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,"nemesis":{"max_down":4}})"),
            "s.json: /nemesis/max_down: expected an integer in 0..3, got 4");
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,"nemesis":{"fault_duration_min":"10s"}})"),
            "s.json: /nemesis/fault_duration_min: expected a duration in 1ns..5s (the default "
            "fault_duration_max), got \"10s\"");
  EXPECT_EQ(error_of(R"({"protocol":["raft","zab","raft"],"nodes":3})"),
            "s.json: /protocol/2: expected each protocol once, got \"raft\" a second time");
  EXPECT_EQ(
      error_of(R"({"protocol":"raft","nodes":3,"faults":[{"at":"1s","action":"set_network"}]})"),
      "s.json: /faults/0: expected at least one of the fields latency, loss, duplicate, "
      "reorder, reorder_delay_max, in_flight_max, got none");
}

TEST(ScenarioDefaults, MinimalScenarioGetsDocumentedDefaults) {
  const Scenario s = load(R"({"protocol": "raft", "nodes": 5})");
  EXPECT_EQ(s.name, "my-scenario");
  EXPECT_EQ(s.description, "");
  EXPECT_EQ(s.protocols, std::vector<std::string>{"raft"});
  EXPECT_EQ(s.nodes, 5U);
  EXPECT_EQ(s.seed, 1U);
  EXPECT_EQ(s.duration, seconds(10));
  EXPECT_EQ(s.event_limit, 50'000'000U);
  EXPECT_EQ(s.network.latency.kind, sim::LatencyDistribution::Kind::constant);
  EXPECT_EQ(s.network.latency.value, microseconds(500));
  EXPECT_EQ(s.network.loss, 0.0);
  EXPECT_EQ(s.clocks.offset_max, Nanos::zero());
  EXPECT_FALSE(s.disk.torn_writes);
  EXPECT_TRUE(s.protocol_options.empty());
  ASSERT_EQ(s.clients.size(), 1U);
  EXPECT_EQ(s.clients[0].count, 3U);
  EXPECT_EQ(std::get<AppendWorkload>(s.clients[0].workload).interval, milliseconds(50));
  EXPECT_EQ(s.clients[0].request_timeout, seconds(1));
  EXPECT_EQ(s.clients[0].stop, std::nullopt);
  EXPECT_TRUE(s.faults.empty());
  EXPECT_FALSE(s.nemesis.enabled);
  EXPECT_EQ(s.checks.properties.size(), std::size(kPropertyNames));
  EXPECT_EQ(s.checks.liveness_bound, seconds(5));
  EXPECT_EQ(s.expect.violation, std::nullopt);
}

TEST(ScenarioDefaults, ProtocolAllExpandsToTheKnownProtocols) {
  EXPECT_EQ(load(R"({"protocol": "all", "nodes": 3})").protocols,
            (std::vector<std::string>{"raft", "paxos", "zab"}));
  EXPECT_EQ(load(R"({"protocol": ["zab", "raft"], "nodes": 3})").protocols,
            (std::vector<std::string>{"zab", "raft"}));
}

TEST(ScenarioDefaults, PresentNemesisBlockIsEnabledUnlessSaidOtherwise) {
  EXPECT_TRUE(load(R"({"protocol":"raft","nodes":3,"nemesis":{}})").nemesis.enabled);
  const Scenario s = load(R"({"protocol":"raft","nodes":5,"nemesis":{"enabled":false,
      "kinds":["crash","clog"],"max_down":2,"stop":"8s"}})");
  EXPECT_FALSE(s.nemesis.enabled);
  EXPECT_EQ(s.nemesis.kinds, (std::vector<NemesisKind>{NemesisKind::crash, NemesisKind::clog}));
  EXPECT_EQ(s.nemesis.max_down, 2U);
  EXPECT_EQ(s.nemesis.stop, seconds(8));
}

TEST(ScenarioFaults, EveryActionParses) {
  const Scenario s = load(R"({"protocol":"raft","nodes":5,"faults":[
    {"at":"1s","action":"partition","kind":"symmetric","groups":[[0,1],[2,3,4]]},
    {"at":"1s","action":"partition","kind":"one_way","from":"leader","to":[1,2]},
    {"at":"1s","action":"partition","kind":"bridge"},
    {"at":"1s","action":"partition","kind":"bridge","node":3},
    {"at":"1s","action":"partition","kind":"majorities_ring"},
    {"at":"1s","action":"partition","kind":"isolate","node":"leader"},
    {"at":"2s","action":"heal"},
    {"at":"2s","action":"crash","node":"follower","for":"1s"},
    {"at":"2s","action":"restart"},
    {"at":"2s","action":"pause","node":"minority"},
    {"at":"2s","action":"resume","node":[1,2]},
    {"at":"3s","action":"clock_jump","node":2,"by":"-2s"},
    {"at":"3s","action":"clock_drift","node":"all","ppm":-250.5},
    {"at":"3s","action":"clog","from":0,"to":"majority","for":"300ms"},
    {"at":"3s","action":"set_network","loss":0.2,
     "latency":{"kind":"lognormal","median":"1ms","p99":"20ms","max":"100ms"}},
    {"at":"3s","action":"corrupt_disk","node":"random"}]})");
  ASSERT_EQ(s.faults.size(), 16U);
  using K = NodeSelector::Kind;
  const auto shape = [&](std::size_t i) { return std::get<Partition>(s.faults[i].action).shape; };
  EXPECT_EQ(std::get<PartitionSymmetric>(shape(0)).groups,
            (std::vector<std::vector<NodeId>>{{NodeId{0}, NodeId{1}},
                                              {NodeId{2}, NodeId{3}, NodeId{4}}}));
  EXPECT_EQ(std::get<PartitionOneWay>(shape(1)),
            (PartitionOneWay{NodeSelector::symbolic(K::leader), NodeSelector::of({1, 2})}));
  EXPECT_EQ(std::get<PartitionBridge>(shape(2)).node, std::nullopt);
  EXPECT_EQ(std::get<PartitionBridge>(shape(3)).node, NodeSelector::of({3}));
  EXPECT_TRUE(std::holds_alternative<PartitionMajoritiesRing>(shape(4)));
  EXPECT_EQ(std::get<PartitionIsolate>(shape(5)).node, NodeSelector::symbolic(K::leader));
  EXPECT_TRUE(std::holds_alternative<Heal>(s.faults[6].action));
  EXPECT_EQ(std::get<Crash>(s.faults[7].action),
            (Crash{NodeSelector::symbolic(K::follower), seconds(1)}));
  EXPECT_EQ(std::get<Restart>(s.faults[8].action).node, NodeSelector::symbolic(K::all));
  EXPECT_EQ(std::get<Pause>(s.faults[9].action),
            (Pause{NodeSelector::symbolic(K::minority), std::nullopt}));
  EXPECT_EQ(std::get<Resume>(s.faults[10].action).node, NodeSelector::of({1, 2}));
  EXPECT_EQ(std::get<ClockJump>(s.faults[11].action),
            (ClockJump{NodeSelector::of({2}), seconds(-2)}));
  EXPECT_EQ(std::get<ClockDrift>(s.faults[12].action),
            (ClockDrift{NodeSelector::symbolic(K::all), -250.5}));
  EXPECT_EQ(std::get<Clog>(s.faults[13].action),
            (Clog{NodeSelector::of({0}), NodeSelector::symbolic(K::majority), milliseconds(300)}));
  const NetworkChange& change = std::get<SetNetwork>(s.faults[14].action).change;
  EXPECT_EQ(change.loss, 0.2);
  ASSERT_TRUE(change.latency.has_value());
  EXPECT_EQ(change.latency->kind, sim::LatencyDistribution::Kind::lognormal);
  EXPECT_EQ(change.latency->p99, milliseconds(20));
  EXPECT_EQ(change.duplicate, std::nullopt);
  EXPECT_EQ(std::get<CorruptDisk>(s.faults[15].action).node, NodeSelector::symbolic(K::random));
  std::vector<std::string_view> names;
  for (const Fault& f : s.faults) names.push_back(fault_action_name(f.action));
  EXPECT_EQ(names, (std::vector<std::string_view>{
                       "partition", "partition", "partition", "partition", "partition", "partition",
                       "heal", "crash", "restart", "pause", "resume", "clock_jump", "clock_drift",
                       "clog", "set_network", "corrupt_disk"}));
}

TEST(ScenarioFaults, LinkPartitionTakesTwoSingleServerEnds) {
  const Scenario s = load(R"({"protocol":"raft","nodes":3,"faults":[
    {"at":"1s","action":"partition","kind":"link","between":[1,"leader"]},
    {"at":"2s","action":"partition","kind":"link","between":["follower","random"]}]})");
  using K = NodeSelector::Kind;
  EXPECT_EQ(std::get<Partition>(s.faults[0].action).shape,
            PartitionShape(PartitionLink{NodeSelector::of({1}), NodeSelector::symbolic(K::leader)}));
  EXPECT_EQ(std::get<Partition>(s.faults[1].action).shape,
            PartitionShape(PartitionLink{NodeSelector::symbolic(K::follower),
                                         NodeSelector::symbolic(K::random)}));
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,"faults":[
      {"at":"1s","action":"partition","kind":"link","between":[1]}]})"),
            "s.json: /faults/0/between: expected an array of two servers, each a node id in 0..2 "
            "or one of leader, follower, random, like [1, \"leader\"], got an array");
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,"faults":[
      {"at":"1s","action":"partition","kind":"link","between":[1,"majority"]}]})"),
            "s.json: /faults/0/between/1: expected a node id in 0..2 or one of leader, follower, "
            "random, got \"majority\"");
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,"faults":[
      {"at":"1s","action":"partition","kind":"link","between":[2,2]}]})"),
            "s.json: /faults/0/between/1: expected a server other than the first end, got 2 again");
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,"faults":[
      {"at":"1s","action":"partition","kind":"link"}]})"),
            "s.json: /faults/0/between: expected an array of two servers, each a node id in 0..2 "
            "or one of leader, follower, random, like [1, \"leader\"], got nothing: the field is "
            "required");
}

TEST(ScenarioExpect, LeaderChangeBoundsStandAloneOrBesideAViolation) {
  const Expectation churn = load(R"({"protocol":"raft","nodes":3,
      "expect":{"leader_changes_min":10,"leader_changes_after":"2s"}})")
                                .expect;
  EXPECT_EQ(churn.violation, std::nullopt);
  EXPECT_EQ(churn.leader_changes_min, 10U);
  EXPECT_EQ(churn.leader_changes_max, std::nullopt);
  EXPECT_EQ(churn.leader_changes_after, seconds(2));
  const Expectation both = load(R"({"protocol":"raft","nodes":3,
      "expect":{"violation":"liveness","leader_changes_min":0,"leader_changes_max":0}})")
                               .expect;
  EXPECT_EQ(both.violation, Property::liveness);
  EXPECT_EQ(both.leader_changes_max, 0U);
  EXPECT_EQ(both.leader_changes_after, Nanos::zero());
  EXPECT_FALSE(load(R"({"protocol":"raft","nodes":3,"expect":"pass"})").expect.bounds_leader_changes());
}

TEST(ScenarioExpect, AProtocolsOverrideReplacesOnlyTheFieldsItNames) {
  const Scenario s = load(R"({"protocol":["raft","paxos"],"nodes":3,
      "expect":{"leader_changes_min":1,"leader_changes_max":2,"leader_changes_after":"1s",
                "paxos":{"leader_changes_max":5}}})");
  EXPECT_EQ(s.expectation("raft").leader_changes_max, 2U);
  const Expectation& paxos = s.expectation("paxos");
  EXPECT_EQ(paxos.leader_changes_min, 1U);
  EXPECT_EQ(paxos.leader_changes_max, 5U);
  EXPECT_EQ(paxos.leader_changes_after, seconds(1));
  EXPECT_EQ(reload(s), s);

  const Scenario churn = load(R"({"protocol":["raft","paxos"],"nodes":3,
      "expect":{"violation":"liveness","paxos":"pass"}})");
  EXPECT_EQ(churn.expectation("raft").violation, Property::liveness);
  EXPECT_EQ(churn.expectation("paxos"), Expectation{});
  EXPECT_EQ(reload(churn), churn);

  // Only the override: the scenario itself is expected to pass.
  const Scenario only = load(R"({"protocol":["raft","paxos"],"nodes":3,
      "expect":{"paxos":{"leader_changes_min":3}}})");
  EXPECT_EQ(only.expectation("raft"), Expectation{});
  EXPECT_EQ(only.expectation("paxos").leader_changes_min, 3U);
  EXPECT_EQ(reload(only), only);
}

TEST(ScenarioExpect, AnOverrideMustNameAProtocolTheScenarioRuns) {
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,"expect":{"paxos":"pass"}})"),
            "s.json: /expect/paxos: expected one of the fields violation, leader_changes_min, "
            "leader_changes_max, leader_changes_after, unsynced_tail_lost, at_least, at_most, "
            "raft, got unknown field \"paxos\"");
  EXPECT_EQ(error_of(R"({"protocol":["raft","paxos"],"nodes":3,"expect":{"paxos":{}}})"),
            "s.json: /expect/paxos: expected \"pass\" or an object with violation, "
            "leader_changes_min, leader_changes_max, unsynced_tail_lost, at_least and/or at_most, "
            "got {}");
  EXPECT_EQ(error_of(R"({"protocol":["raft","paxos"],"nodes":3,
      "expect":{"paxos":{"leader_changes":1}}})"),
            "s.json: /expect/paxos/leader_changes: expected one of the fields violation, "
            "leader_changes_min, leader_changes_max, leader_changes_after, unsynced_tail_lost, "
            "at_least, at_most, got unknown field \"leader_changes\" (did you mean "
            "\"leader_changes_min\"?)");
}

TEST(ScenarioExpect, MalformedBoundsNameTheirField) {
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,"expect":{}})"),
            "s.json: /expect: expected \"pass\" or an object with violation, "
            "leader_changes_min, leader_changes_max, unsynced_tail_lost, at_least and/or at_most "
            "(and per protocol, e.g. \"paxos\": {...}), got {}");
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,
      "expect":{"leader_changes_min":5,"leader_changes_max":2}})"),
            "s.json: /expect/leader_changes_max: expected an integer in 5..1000000000, got 2");
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,"expect":{"leader_changes_after":"1s"}})"),
            "s.json: /expect/leader_changes_after: expected leader_changes_min or "
            "leader_changes_max beside it, got neither: leader_changes_after only says from when "
            "they count");
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,
      "expect":{"leader_changes_max":1,"leader_changes_after":"11s"}})"),
            "s.json: /expect/leader_changes_after: expected a duration in 0s..10s, got \"11s\"");
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,"expect":{"leader_changes":3}})"),
            "s.json: /expect/leader_changes: expected one of the fields violation, "
            "leader_changes_min, leader_changes_max, leader_changes_after, unsynced_tail_lost, "
            "at_least, at_most, raft, got "
            "unknown field \"leader_changes\" (did you mean \"leader_changes_min\"?)");
  EXPECT_EQ(error_of(R"({"protocol":"raft","nodes":3,
      "expect":{"leader_changes_max":3,"leader_change_after":"1s"}})"),
            "s.json: /expect/leader_change_after: expected one of the fields violation, "
            "leader_changes_min, leader_changes_max, leader_changes_after, unsynced_tail_lost, "
            "at_least, at_most, raft, got "
            "unknown field \"leader_change_after\" (did you mean \"leader_changes_after\"?)");
}

TEST(ScenarioFaults, SetNetworkChangesOnlyTheFieldsItNames) {
  sim::NetworkConfig config;
  config.duplicate = 0.3;
  NetworkChange change;
  change.loss = 0.1;
  change.apply_to(config);
  EXPECT_EQ(config.loss, 0.1);
  EXPECT_EQ(config.duplicate, 0.3);
}

TEST(ScenarioFaults, SortedByTimeKeepingFileOrderAtEqualTimes) {
  const Scenario s = load(R"({"protocol":"raft","nodes":3,"faults":[
    {"at":"3s","action":"heal"},
    {"at":"1s","action":"crash","node":0},
    {"at":"2s","action":"crash","node":1},
    {"at":"1s","action":"crash","node":2},
    {"at":"500ms","action":"restart","node":0}]})");
  std::vector<std::string> order;
  for (const Fault& f : s.faults) {
    const auto* crash = std::get_if<Crash>(&f.action);
    order.push_back(fmt::format("{} {}{}", format_duration(f.at), fault_action_name(f.action),
                                crash ? fmt::format(" {}", crash->node.ids.front().value) : ""));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"500ms restart", "1s crash 0", "1s crash 2",
                                             "2s crash 1", "3s heal"}));
}

TEST(ScenarioProtocolOptions, KeptAsWrittenWithTheirPointer) {
  const Scenario s = load(R"({"protocol":"raft","nodes":3,
      "protocol_options":{"raft":{"election_timeout":"150ms","pre_vote":true},"zab":{}}})");
  ASSERT_EQ(s.protocol_options.size(), 2U);
  const ProtocolOptions& raft = s.protocol_options.at("raft");
  EXPECT_EQ(raft.pointer, "/protocol_options/raft");
  EXPECT_EQ(raft.value.at("election_timeout"), "150ms");
  // A protocol module reads the block with a JsonReader; its errors point into the file.
  auto options = read_json([&] {
    JsonReader r(raft.value, raft.pointer);
    r.duration("election_timeout", milliseconds(100));
    r.finish();
    return 0;
  });
  ASSERT_TRUE(std::holds_alternative<JsonError>(options));
  EXPECT_EQ(format_error("f.json", std::get<JsonError>(options)),
            "f.json: /protocol_options/raft/pre_vote: expected one of the fields "
            "election_timeout, got unknown field \"pre_vote\"");
}

// The example in scenarios/README.md is a valid scenario.
TEST(ScenarioReadme, FullExampleLoads) {
  std::ifstream in(std::string(LOCKSTEP_SOURCE_DIR) + "/scenarios/README.md");
  const std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t begin = readme.find("```json\n");
  ASSERT_NE(begin, std::string::npos);
  const std::size_t end = readme.find("```", begin + 8);
  const Scenario s = load(std::string_view(readme).substr(begin + 8, end - begin - 8));
  EXPECT_EQ(s.name, "leader-isolated");
  EXPECT_EQ(s.faults.size(), 4U);
}

const char* const kKitchenSink = R"({
  "name": "everything", "description": "every field set away from its default",
  "protocol": ["raft", "zab"], "nodes": 5, "seed": 18446744073709551615, "duration": "90s",
  "event_limit": 1000,
  "network": {"latency": {"kind": "uniform", "min": "100us", "max": "3ms"}, "loss": 0.05,
              "duplicate": 0.01, "reorder": 0.1, "reorder_delay_max": "20ms", "in_flight_max": 500},
  "clocks": {"offset_max": "250ms", "drift_ppm_max": 50.5},
  "disk": {"sync_latency": {"kind": "lognormal", "median": "2ms", "p99": "20ms", "max": "50ms"},
           "torn_writes": true, "torn_corruption": 0.5},
  "protocol_options": {"raft": {"election_timeout": "150ms", "nested": {"a": [1, 2.5, null]}}},
  "clients": [{"workload": "append", "count": 4, "interval": "10ms", "request_timeout": "2s",
               "start": "1s", "stop": "80s"},
              {"workload": "append"}],
  "faults": [
    {"at": "2s", "action": "partition", "kind": "symmetric", "groups": [[0, 1], [2, 3, 4]]},
    {"at": "3s", "action": "partition", "kind": "bridge", "node": "follower"},
    {"at": "4s", "action": "clock_jump", "node": [3, 1], "by": "-1.5s"},
    {"at": "5s", "action": "set_network", "reorder": 0.5, "in_flight_max": 10},
    {"at": "6s", "action": "partition", "kind": "link", "between": ["leader", 2]},
    {"at": "1m", "action": "crash", "node": "leader", "for": "2s"}],
  "nemesis": {"enabled": true, "interval": "750ms", "fault_duration_min": "100ms",
              "fault_duration_max": "1s", "kinds": ["pause", "corrupt_disk"], "max_down": 1,
              "clock_jump_max": "5s", "clock_drift_ppm_max": 20, "start": "10s", "stop": "70s"},
  "checks": {"properties": ["fencing", "liveness"], "liveness_bound": "3s"},
  "expect": {"violation": "fencing", "leader_changes_min": 1, "leader_changes_max": 7,
             "leader_changes_after": "3s", "unsynced_tail_lost": false}
})";


TEST(ScenarioRoundTrip, KitchenSinkLoadsBackEqual) {
  const Scenario s = load(kKitchenSink);
  EXPECT_EQ(s.seed, 18446744073709551615ULL);
  EXPECT_EQ(reload(s), s);
  EXPECT_EQ(to_json(reload(s)), to_json(s));
}

TEST(ScenarioRoundTrip, DefaultsLoadBackEqual) {
  const Scenario s = load(R"({"protocol": "paxos", "nodes": 1})");
  EXPECT_EQ(reload(s), s);
}

// Random scenarios, built as structs, survive to_json and load.
RC_GTEST_PROP(ScenarioRoundTrip, ToJsonThenLoadIsIdentity, ()) {
  Scenario s = load(R"({"protocol": "raft", "nodes": 3})");
  s.nodes = *rc::gen::inRange<std::uint32_t>(1, kNodesMax + 1);
  s.seed = *rc::gen::arbitrary<std::uint64_t>();
  s.duration = milliseconds(*rc::gen::inRange<std::int64_t>(1, 3'600'000));
  s.network.loss = *rc::gen::inRange(0, 101) / 100.0;
  s.clocks.drift_ppm_max = *rc::gen::inRange(0, 100'000);
  const auto node = [&] { return NodeId{*rc::gen::inRange<std::uint32_t>(0, s.nodes)}; };
  const auto selector = [&] {
    const auto kind = static_cast<NodeSelector::Kind>(*rc::gen::inRange(0, 7));
    return kind == NodeSelector::Kind::ids ? NodeSelector{kind, {node()}}
                                           : NodeSelector::symbolic(kind);
  };
  const auto at = [&] { return nanoseconds(*rc::gen::inRange<std::int64_t>(0, s.duration.count)); };
  const int fault_count = *rc::gen::inRange(0, 8);
  for (int i = 0; i < fault_count; ++i) {
    switch (*rc::gen::inRange(0, 7)) {
      case 0:
        s.faults.push_back({at(), Crash{selector(), std::nullopt}});
        break;
      case 1:
        s.faults.push_back(
            {at(), ClockJump{selector(), nanoseconds(*rc::gen::inRange<std::int64_t>(
                                             -3'600'000'000'000, 3'600'000'000'000))}});
        break;
      case 2:
        s.faults.push_back(
            {at(), Clog{selector(), selector(), microseconds(*rc::gen::inRange(1, 10'000'000))}});
        break;
      case 3:
        s.faults.push_back({at(), Partition{PartitionIsolate{selector()}}});
        break;
      case 4:
        if (s.nodes >= 2) {
          const NodeId a = node();
          const NodeId b{(a.value + *rc::gen::inRange<std::uint32_t>(1, s.nodes)) % s.nodes};
          s.faults.push_back({at(), Partition{PartitionLink{NodeSelector{NodeSelector::Kind::ids, {a}},
                                                            NodeSelector{NodeSelector::Kind::ids, {b}}}}});
        }
        break;
      case 5:
        s.faults.push_back(
            {at(), ClockDrift{selector(), *rc::gen::inRange(-100'000, 100'001) / 4.0}});
        break;
      default:
        s.faults.push_back({at(), Heal{}});
        break;
    }
  }
  std::stable_sort(s.faults.begin(), s.faults.end(),
                   [](const Fault& a, const Fault& b) { return a.at < b.at; });
  if (*rc::gen::arbitrary<bool>()) {
    s.expect.leader_changes_max = *rc::gen::inRange<std::uint64_t>(0, 100);
    s.expect.leader_changes_after = at();
  }
  RC_ASSERT(reload(s) == s);
}

}  // namespace
}  // namespace scenario_test
}  // namespace lockstep::harness
