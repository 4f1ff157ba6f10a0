// The fault schedule of a scenario: node selectors, the fault actions, and writing them back.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>

#include "core/json_reader.h"
#include "harness/scenario.h"
#include "harness/scenario_parse.h"

namespace lockstep::harness {

NodeSelector NodeSelector::of(std::initializer_list<std::uint32_t> ids) {
  NodeSelector s;
  for (std::uint32_t id : ids) s.ids.emplace_back(id);
  return s;
}

std::string_view fault_action_name(const FaultAction& action) {
  return detail::kFaultActionNames[action.index()];
}

namespace detail {

namespace {

constexpr Nanos kClockJumpMax = kDurationMax;

std::string node_id_expectation(std::uint32_t nodes) {
  return fmt::format("a node id in 0..{}", nodes - 1);
}

std::string selector_expectation(std::uint32_t nodes, SelectorUse use, std::uint32_t clients = 0) {
  std::string servers;
  switch (use) {
    case SelectorUse::one:
      servers = node_id_expectation(nodes) + " or one of leader, follower, random";
      break;
    case SelectorUse::stopped:
      servers = node_id_expectation(nodes) + ", an array of node ids, or all";
      break;
    case SelectorUse::any:
      servers = node_id_expectation(nodes) + ", an array of node ids, or one of " +
                join_names(kSelectorNames);
      break;
  }
  if (clients == 0) return servers;
  std::string client_forms = fmt::format("{{\"client\": i}} or {{\"client\": [i, ...]}} with i in 0..{}",
                                         clients - 1);
  if (use != SelectorUse::stopped) client_forms += ", or one of " + join_names(kClientSelectorNames);
  return servers + "; or clients: " + client_forms;
}

NodeSelector read_client_selector(const JsonReader& value, std::uint32_t clients) {
  JsonReader object = value;
  JsonReader field = object.require("client", "a client index or an array of them");
  NodeSelector s{NodeSelector::Kind::client, {}};
  const auto index = [&](const JsonReader& v) {
    const std::optional<std::uint64_t> i = unsigned_value(v.value());
    if (!i || *i >= clients) {
      v.fail_expected(fmt::format("a client index in 0..{} (clients count over all groups)",
                                  clients - 1));
    }
    return NodeId{static_cast<std::uint32_t>(*i)};
  };
  if (field.value().is_array() && !field.value().empty()) {
    for (const JsonReader& v : field.as_array()) {
      const NodeId n = index(v);
      if (std::find(s.ids.begin(), s.ids.end(), n) != s.ids.end()) {
        v.fail(fmt::format("expected each client once, got {} a second time", n.value));
      }
      s.ids.push_back(n);
    }
  } else {
    s.ids.push_back(index(field));
  }
  object.finish();
  return s;
}

bool allowed(NodeSelector::Kind kind, SelectorUse use) {
  using Kind = NodeSelector::Kind;
  switch (use) {
    case SelectorUse::any:
      return true;
    case SelectorUse::one:
      return kind == Kind::leader || kind == Kind::follower || kind == Kind::random;
    case SelectorUse::stopped:
      return kind == Kind::all;
  }
  return false;
}

// A node id: "expected a node id in 0..4, got 7" rather than the integer reader's wording.
NodeId read_node_id(const JsonReader& v, std::uint32_t nodes) {
  const std::optional<std::uint64_t> id = unsigned_value(v.value());
  if (id && *id < nodes) return NodeId{static_cast<std::uint32_t>(*id)};
  v.fail_expected(node_id_expectation(nodes));
}

NodeSelector selector_field(JsonReader& r, std::string_view key, std::uint32_t nodes,
                            SelectorUse use, std::uint32_t clients = 0) {
  return read_selector(r.require(key, selector_expectation(nodes, use, clients)), nodes, use,
                       clients);
}

Nanos read_for(JsonReader& r) { return r.required_duration("for", nanoseconds(1), kDurationMax); }

std::optional<Nanos> read_optional_for(JsonReader& r) {
  auto field = r.find("for");
  if (!field) return std::nullopt;
  return field->as_duration(nanoseconds(1), kDurationMax);
}

// Groups of a symmetric partition: non-empty, each node in at most one group.
std::vector<std::vector<NodeId>> read_groups(JsonReader& r, std::uint32_t nodes) {
  constexpr std::string_view kExpected =
      "a non-empty array of groups of node ids, like [[0, 1], [2]]";
  JsonReader field = r.require("groups", kExpected);
  if (!field.value().is_array() || field.value().empty()) field.fail_expected(kExpected);
  std::vector<std::vector<NodeId>> groups;
  std::map<std::uint32_t, std::size_t> group_of;
  for (const JsonReader& g : field.as_array()) {
    if (!g.value().is_array() || g.value().empty())
      g.fail_expected("a non-empty array of node ids");
    std::vector<NodeId> group;
    for (const JsonReader& id : g.as_array()) {
      const NodeId n = read_node_id(id, nodes);
      const auto [it, fresh] = group_of.emplace(n.value, groups.size());
      if (!fresh) {
        id.fail(fmt::format("expected each node in at most one group, got {} in groups {} and {}",
                            n.value, it->second, groups.size()));
      }
      group.push_back(n);
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

// "between": [a, b], two single-server selectors; two equal ids are an error here, while
// symbolic ends can only be compared when the fault fires.
PartitionLink read_link(JsonReader& r, std::uint32_t nodes) {
  const std::string expected = "an array of two servers, each " +
                               selector_expectation(nodes, SelectorUse::one) +
                               ", like [1, \"leader\"]";
  JsonReader field = r.require("between", expected);
  if (!field.value().is_array() || field.value().size() != 2) field.fail_expected(expected);
  const std::vector<JsonReader> ends = field.as_array();
  PartitionLink link{read_selector(ends[0], nodes, SelectorUse::one),
                     read_selector(ends[1], nodes, SelectorUse::one)};
  if (link.a.kind == NodeSelector::Kind::ids && link.a == link.b) {
    ends[1].fail(fmt::format("expected a server other than the first end, got {} again",
                             link.b.ids.front().value));
  }
  return link;
}

PartitionShape read_partition(JsonReader& r, std::uint32_t nodes) {
  switch (r.required_enum("kind", kPartitionKindNames)) {
    case 0:  // symmetric
      return PartitionSymmetric{read_groups(r, nodes)};
    case 1: {  // one_way
      PartitionOneWay p;
      p.from = selector_field(r, "from", nodes, SelectorUse::any);
      p.to = selector_field(r, "to", nodes, SelectorUse::any);
      return p;
    }
    case 2: {  // bridge
      PartitionBridge p;
      if (auto node = r.find("node")) p.node = read_selector(*node, nodes, SelectorUse::one);
      return p;
    }
    case 3:  // majorities_ring
      return PartitionMajoritiesRing{};
    case 4:  // isolate
      return PartitionIsolate{selector_field(r, "node", nodes, SelectorUse::any)};
    default:  // link
      return read_link(r, nodes);
  }
}

FaultAction read_action(JsonReader& r, std::size_t action, std::uint32_t nodes,
                        std::uint32_t clients) {
  const auto node = [&](SelectorUse use) { return selector_field(r, "node", nodes, use); };
  // Crash, pause and clock faults may also name lock-service clients.
  const auto any_node = [&] { return selector_field(r, "node", nodes, SelectorUse::any, clients); };
  const auto stopped_node = [&] {
    auto field = r.find("node");
    return field ? read_selector(*field, nodes, SelectorUse::stopped, clients)
                 : NodeSelector::symbolic(NodeSelector::Kind::all);
  };
  switch (action) {
    case 0:  // partition
      return Partition{read_partition(r, nodes)};
    case 1:  // heal
      return Heal{};
    case 2: {  // crash
      Crash c{any_node(), {}};
      c.restart_after = read_optional_for(r);
      return c;
    }
    case 3:  // restart
      return Restart{stopped_node()};
    case 4: {  // pause
      Pause p{any_node(), {}};
      p.resume_after = read_optional_for(r);
      return p;
    }
    case 5:  // resume
      return Resume{stopped_node()};
    case 6: {  // clock_jump
      ClockJump j{any_node(), {}};
      j.by = r.required_duration("by", -kClockJumpMax, kClockJumpMax);
      return j;
    }
    case 7: {  // clock_drift
      ClockDrift d{any_node(), 0.0};
      d.ppm = r.require("ppm", fmt::format("a number in {}..{}", -kDriftPpmMax, kDriftPpmMax))
                  .as_number(-kDriftPpmMax, kDriftPpmMax);
      return d;
    }
    case 8: {  // clog
      Clog c;
      c.from = selector_field(r, "from", nodes, SelectorUse::any);
      c.to = selector_field(r, "to", nodes, SelectorUse::any);
      c.duration = read_for(r);
      return c;
    }
    case 9: {  // set_network
      SetNetwork s{read_network_change(r)};
      if (s.change == NetworkChange{}) {
        r.fail(
            "expected at least one of the fields latency, loss, duplicate, reorder, "
            "reorder_delay_max, in_flight_max, got none");
      }
      return s;
    }
    default:  // corrupt_disk
      return CorruptDisk{node(SelectorUse::any)};
  }
}

Fault read_fault(JsonReader& r, const FaultLimits& limits) {
  r.expect_object();
  Fault f;
  f.at = r.required_duration("at", Nanos::zero(), kDurationMax);
  if (f.at > limits.duration) {
    r.find("at")->fail_expected("a time within the run, 0s.." + duration_text(limits.duration));
  }
  f.action = read_action(r, r.required_enum("action", kFaultActionNames), limits.nodes,
                         limits.lock_clients);
  r.finish();
  return f;
}

}  // namespace

NodeSelector read_selector(const JsonReader& value, std::uint32_t nodes, SelectorUse use,
                           std::uint32_t clients) {
  const nlohmann::json& j = value.value();
  if (clients > 0 && j.is_object()) return read_client_selector(value, clients);
  if (clients > 0 && use != SelectorUse::stopped && j.is_string()) {
    const auto& name = j.get_ref<const std::string&>();
    for (std::size_t i = 0; i < std::size(kClientSelectorNames); ++i) {
      if (kClientSelectorNames[i] == name) {
        return NodeSelector::symbolic(static_cast<NodeSelector::Kind>(
            static_cast<std::size_t>(NodeSelector::Kind::client) + 1 + i));
      }
    }
  }
  if (j.is_number_integer())
    return NodeSelector{NodeSelector::Kind::ids, {read_node_id(value, nodes)}};
  if (j.is_array() && !j.empty() && use != SelectorUse::one) {
    NodeSelector s;
    for (const JsonReader& id : value.as_array()) {
      const NodeId n = read_node_id(id, nodes);
      if (std::find(s.ids.begin(), s.ids.end(), n) != s.ids.end()) {
        id.fail(fmt::format("expected each node id once, got {} a second time", n.value));
      }
      s.ids.push_back(n);
    }
    return s;
  }
  if (j.is_string()) {
    const auto& name = j.get_ref<const std::string&>();
    for (std::size_t i = 0; i < std::size(kSelectorNames); ++i) {
      const auto kind = static_cast<NodeSelector::Kind>(i + 1);
      if (kSelectorNames[i] == name && allowed(kind, use)) return NodeSelector::symbolic(kind);
    }
  }
  value.fail_expected(selector_expectation(nodes, use, clients));
}

std::vector<Fault> read_faults(JsonReader& scenario, const FaultLimits& limits) {
  std::vector<Fault> faults;
  for (JsonReader& r : scenario.array("faults", 0, kFaultsMax)) {
    faults.push_back(read_fault(r, limits));
  }
  std::stable_sort(faults.begin(), faults.end(),
                   [](const Fault& a, const Fault& b) { return a.at < b.at; });
  return faults;
}

nlohmann::ordered_json selector_json(const NodeSelector& selector) {
  if (selector.kind == NodeSelector::Kind::client) {
    nlohmann::ordered_json out;
    if (selector.ids.size() == 1) {
      out["client"] = selector.ids.front().value;
    } else {
      out["client"] = nlohmann::ordered_json::array();
      for (NodeId n : selector.ids) out["client"].push_back(n.value);
    }
    return out;
  }
  if (selector.names_clients()) {
    return std::string(kClientSelectorNames[static_cast<std::size_t>(selector.kind) -
                                            static_cast<std::size_t>(NodeSelector::Kind::client) -
                                            1]);
  }
  if (selector.kind != NodeSelector::Kind::ids) {
    return std::string(kSelectorNames[static_cast<std::size_t>(selector.kind) - 1]);
  }
  if (selector.ids.size() == 1) return selector.ids.front().value;
  nlohmann::ordered_json ids = nlohmann::ordered_json::array();
  for (NodeId n : selector.ids) ids.push_back(n.value);
  return ids;
}

namespace {

struct ActionJson {
  nlohmann::ordered_json& out;

  void operator()(const Partition& p) const {
    out["kind"] = std::string(kPartitionKindNames[p.shape.index()]);
    if (const auto* s = std::get_if<PartitionSymmetric>(&p.shape)) {
      nlohmann::ordered_json groups = nlohmann::ordered_json::array();
      for (const auto& g : s->groups) {
        nlohmann::ordered_json group = nlohmann::ordered_json::array();
        for (NodeId n : g) group.push_back(n.value);
        groups.push_back(std::move(group));
      }
      out["groups"] = std::move(groups);
    } else if (const auto* o = std::get_if<PartitionOneWay>(&p.shape)) {
      out["from"] = selector_json(o->from);
      out["to"] = selector_json(o->to);
    } else if (const auto* b = std::get_if<PartitionBridge>(&p.shape)) {
      if (b->node) out["node"] = selector_json(*b->node);
    } else if (const auto* i = std::get_if<PartitionIsolate>(&p.shape)) {
      out["node"] = selector_json(i->node);
    } else if (const auto* l = std::get_if<PartitionLink>(&p.shape)) {
      out["between"] = {selector_json(l->a), selector_json(l->b)};
    }
  }
  void operator()(const Heal&) const {}
  void operator()(const Crash& c) const {
    out["node"] = selector_json(c.node);
    if (c.restart_after) out["for"] = duration_text(*c.restart_after);
  }
  void operator()(const Restart& r) const { out["node"] = selector_json(r.node); }
  void operator()(const Pause& p) const {
    out["node"] = selector_json(p.node);
    if (p.resume_after) out["for"] = duration_text(*p.resume_after);
  }
  void operator()(const Resume& r) const { out["node"] = selector_json(r.node); }
  void operator()(const ClockJump& j) const {
    out["node"] = selector_json(j.node);
    out["by"] = duration_text(j.by);
  }
  void operator()(const ClockDrift& d) const {
    out["node"] = selector_json(d.node);
    out["ppm"] = d.ppm;
  }
  void operator()(const Clog& c) const {
    out["from"] = selector_json(c.from);
    out["to"] = selector_json(c.to);
    out["for"] = duration_text(c.duration);
  }
  void operator()(const SetNetwork& s) const {
    const nlohmann::ordered_json fields = network_change_json(s.change);
    for (const auto& [key, value] : fields.items()) out[key] = value;
  }
  void operator()(const CorruptDisk& c) const { out["node"] = selector_json(c.node); }
};

}  // namespace

nlohmann::ordered_json fault_json(const Fault& fault) {
  nlohmann::ordered_json out;
  out["at"] = duration_text(fault.at);
  out["action"] = std::string(fault_action_name(fault.action));
  std::visit(ActionJson{out}, fault.action);
  return out;
}

}  // namespace detail
}  // namespace lockstep::harness
