#include "harness/shrink_edits.h"

#include <algorithm>
#include <type_traits>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "core/assert.h"

namespace lockstep::harness::shrink_edits {

namespace {

// Drops from an id selector the servers at or above `servers`; false when it names none then.
// Symbolic selectors (leader, minority, ...) adapt to any size, and client selectors name no
// server: both stay.
bool keep_servers(NodeSelector& selector, std::uint32_t servers) {
  if (selector.kind != NodeSelector::Kind::ids) return true;
  std::erase_if(selector.ids, [servers](NodeId n) { return n.value >= servers; });
  return !selector.ids.empty();
}

bool keep_servers(PartitionShape& shape, std::uint32_t servers) {
  return std::visit(
      [servers](auto& p) {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, PartitionSymmetric>) {
          for (auto& group : p.groups) {
            std::erase_if(group, [servers](NodeId n) { return n.value >= servers; });
          }
          std::erase_if(p.groups, [](const auto& group) { return group.empty(); });
          return !p.groups.empty();
        } else if constexpr (std::is_same_v<P, PartitionOneWay>) {
          return keep_servers(p.from, servers) && keep_servers(p.to, servers);
        } else if constexpr (std::is_same_v<P, PartitionBridge>) {
          return !p.node || keep_servers(*p.node, servers);
        } else if constexpr (std::is_same_v<P, PartitionMajoritiesRing>) {
          return true;
        } else if constexpr (std::is_same_v<P, PartitionIsolate>) {
          return keep_servers(p.node, servers);
        } else {
          static_assert(std::is_same_v<P, PartitionLink>);
          return keep_servers(p.a, servers) && keep_servers(p.b, servers);
        }
      },
      shape);
}

// Whether the fault still names someone once only `servers` servers exist (edited in place).
bool keep_servers(FaultAction& action, std::uint32_t servers) {
  return std::visit(
      [servers](auto& a) {
        using A = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<A, Partition>) {
          return keep_servers(a.shape, servers);
        } else if constexpr (std::is_same_v<A, Heal> || std::is_same_v<A, SetNetwork>) {
          return true;
        } else if constexpr (std::is_same_v<A, Clog>) {
          return keep_servers(a.from, servers) && keep_servers(a.to, servers);
        } else {
          return keep_servers(a.node, servers);
        }
      },
      action);
}

// Drops client indexes at or above `clients` from a client selector; false when it names none.
bool keep_clients(NodeSelector& selector, std::uint32_t clients) {
  if (selector.kind != NodeSelector::Kind::client) return true;
  std::erase_if(selector.ids, [clients](NodeId n) { return n.value >= clients; });
  return !selector.ids.empty();
}

// Only crash, pause and clock faults may name clients (harness/scenario.h).
bool keep_clients(FaultAction& action, std::uint32_t clients) {
  return std::visit(
      [clients](auto& a) {
        using A = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<A, Crash> || std::is_same_v<A, Pause> ||
                      std::is_same_v<A, ClockJump> || std::is_same_v<A, ClockDrift> ||
                      std::is_same_v<A, Restart> || std::is_same_v<A, Resume>) {
          return keep_clients(a.node, clients);
        } else {
          return true;
        }
      },
      action);
}

std::uint32_t total_clients(const Scenario& s) {
  std::uint32_t n = 0;
  for (const ClientGroup& g : s.clients) n += g.count;
  return n;
}

void drop_absent_clients(Scenario& s) {
  const std::uint32_t clients = total_clients(s);
  std::erase_if(s.faults, [clients](Fault& f) { return !keep_clients(f.action, clients); });
}

Edit edit(std::string label, std::function<bool(Scenario&)> apply) {
  return Edit{std::move(label), std::move(apply)};
}

// Sets `field` to `value`; false when it already was.
template <typename T, typename U>
bool set(T& field, const U& value) {
  if (field == value) return false;
  field = value;
  return true;
}

// The workload of group `g`, if it is a W.
template <typename W>
W* workload_of(Scenario& s, std::size_t g) {
  return g < s.clients.size() ? std::get_if<W>(&s.clients[g].workload) : nullptr;
}

// An edit of one field of group `g`'s workload of kind W.
template <typename W, typename T, typename U>
Edit workload_edit(std::size_t g, std::string label, T W::*field, U value) {
  return edit(fmt::format("client group {}: {}", g, label), [g, field, value](Scenario& s) {
    W* w = workload_of<W>(s, g);
    return w != nullptr && set(w->*field, value);
  });
}

}  // namespace

std::vector<std::vector<std::size_t>> fault_units(const std::vector<Fault>& faults) {
  std::vector<std::vector<std::size_t>> units;
  std::vector<bool> taken(faults.size(), false);
  for (std::size_t i = 0; i < faults.size(); ++i) {
    if (taken[i]) continue;
    taken[i] = true;
    std::vector<std::size_t> unit{i};
    if (std::holds_alternative<Partition>(faults[i].action)) {
      for (std::size_t j = i + 1; j < faults.size(); ++j) {
        if (std::holds_alternative<Partition>(faults[j].action)) break;  // replaced before a heal
        if (std::holds_alternative<Heal>(faults[j].action) && !taken[j]) {
          taken[j] = true;
          unit.push_back(j);
          break;
        }
      }
    }
    units.push_back(std::move(unit));
  }
  return units;
}

std::vector<Fault> pick_faults(const std::vector<Fault>& faults,
                               const std::vector<std::size_t>& keep) {
  std::vector<Fault> out;
  out.reserve(keep.size());
  for (std::size_t i : keep) {
    LS_ASSERT_LT(i, faults.size());
    out.push_back(faults[i]);
  }
  return out;
}

Scenario with_duration(const Scenario& s, Nanos duration) {
  LS_ASSERT_GT(duration, Nanos::zero());
  LS_ASSERT_LE(duration, s.duration);
  Scenario out = s;
  out.duration = duration;
  std::erase_if(out.faults, [duration](const Fault& f) { return f.at > duration; });
  std::erase_if(out.clients, [duration](const ClientGroup& g) { return g.start > duration; });
  for (ClientGroup& g : out.clients) {
    if (g.stop) g.stop = std::min(*g.stop, duration);
  }
  if (out.clients.size() != s.clients.size()) drop_absent_clients(out);
  out.nemesis.start = std::min(out.nemesis.start, duration);
  if (out.nemesis.stop) out.nemesis.stop = std::min(*out.nemesis.stop, duration);
  out.expect.leader_changes_after = std::min(out.expect.leader_changes_after, duration);
  for (auto& [_, e] : out.expect_for) e.leader_changes_after = std::min(e.leader_changes_after, duration);
  return out;
}

Scenario with_servers(const Scenario& s, std::uint32_t servers) {
  LS_ASSERT(servers >= 1 && servers < s.nodes);
  Scenario out = s;
  out.nodes = servers;
  std::erase_if(out.faults, [servers](Fault& f) { return !keep_servers(f.action, servers); });
  return out;
}

Scenario without_client_group(const Scenario& s, std::size_t group) {
  LS_ASSERT_LT(group, s.clients.size());
  Scenario out = s;
  out.clients.erase(out.clients.begin() + static_cast<std::ptrdiff_t>(group));
  drop_absent_clients(out);
  return out;
}

Scenario with_client_count(const Scenario& s, std::size_t group, std::uint32_t count) {
  LS_ASSERT_LT(group, s.clients.size());
  LS_ASSERT_GE(count, 1u);
  Scenario out = s;
  out.clients[group].count = count;
  drop_absent_clients(out);
  return out;
}

std::vector<Edit> workload_edits(const Scenario& s) {
  std::vector<Edit> edits;
  for (std::size_t g = 0; g < s.clients.size(); ++g) {
    std::visit(
        [&](const auto& w) {
          using W = std::decay_t<decltype(w)>;
          if constexpr (std::is_same_v<W, LockCounterWorkload>) {
            edits.push_back(workload_edit(g, "one lock", &W::locks, 1u));
            edits.push_back(workload_edit(g, "no presence nodes", &W::presence, false));
          } else if constexpr (std::is_same_v<W, ElectionWorkload>) {
            edits.push_back(workload_edit(g, "one election", &W::elections, 1u));
          } else if constexpr (std::is_same_v<W, ConfigWorkload>) {
            edits.push_back(workload_edit(g, "one key", &W::keys, 1u));
            edits.push_back(workload_edit(g, "no watches", &W::watch, false));
          } else if constexpr (std::is_same_v<W, MixWorkload>) {
            edits.push_back(workload_edit(g, "one lock", &W::locks, 1u));
            edits.push_back(workload_edit(g, "one key", &W::keys, 1u));
          }
        },
        s.clients[g].workload);
  }
  return edits;
}

std::vector<Edit> environment_edits() {
  using Latency = sim::LatencyDistribution;
  std::vector<Edit> edits;
  edits.push_back(edit("no message loss", [](Scenario& s) { return set(s.network.loss, 0.0); }));
  edits.push_back(
      edit("no duplicates", [](Scenario& s) { return set(s.network.duplicate, 0.0); }));
  edits.push_back(edit("no reordering", [](Scenario& s) { return set(s.network.reorder, 0.0); }));
  edits.push_back(edit("constant latency", [](Scenario& s) {
    const Latency& l = s.network.latency;
    if (l.kind == Latency::Kind::constant) return false;
    // The typical delay of the distribution: a uniform's low end, a lognormal's median.
    const Nanos typical = l.kind == Latency::Kind::uniform ? l.min : l.median;
    s.network.latency = Latency{.kind = Latency::Kind::constant, .value = typical};
    return true;
  }));
  edits.push_back(edit("no clock offsets",
                       [](Scenario& s) { return set(s.clocks.offset_max, Nanos::zero()); }));
  edits.push_back(
      edit("no clock drift", [](Scenario& s) { return set(s.clocks.drift_ppm_max, 0.0); }));
  edits.push_back(edit("no torn writes", [](Scenario& s) {
    const bool changed = s.disk.torn_writes || s.disk.torn_corruption != 0.0;
    s.disk.torn_writes = false;
    s.disk.torn_corruption = 0.0;
    return changed;
  }));
  edits.push_back(edit("default disk sync latency", [](Scenario& s) {
    return set(s.disk.sync_latency, sim::DiskConfig{}.sync_latency);
  }));
  return edits;
}

}  // namespace lockstep::harness::shrink_edits
