#include "harness/faults.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "core/assert.h"
#include "core/duration.h"
#include "core/join.h"
#include "core/overloaded.h"

namespace lockstep::harness {

namespace {

// Selectors that always name exactly one server.
bool selector_is_one(const NodeSelector& s) {
  using Kind = NodeSelector::Kind;
  return s.kind == Kind::leader || s.kind == Kind::follower || s.kind == Kind::random ||
         s.kind == Kind::lock_holder || s.kind == Kind::elected ||
         ((s.kind == Kind::ids || s.kind == Kind::client) && s.ids.size() == 1);
}

bool contains(std::span<const NodeId> nodes, NodeId n) {
  return std::find(nodes.begin(), nodes.end(), n) != nodes.end();
}

// " (leader)" for a symbolic selector, "" for ids.
std::string annotation(const NodeSelector& selector) {
  const std::string_view name = selector_name(selector);
  return name.empty() ? std::string() : fmt::format(" ({})", name);
}

// The selector's name, or the nodes when it is a list of ids.
std::string selector_or_nodes(const NodeSelector& selector, std::span<const NodeId> nodes) {
  return selector.kind == NodeSelector::Kind::ids ? describe_nodes(nodes)
                                                  : std::string(selector_name(selector));
}

// "leader", or "n1" for an id: how a fault names a selector before it resolves it.
std::string selector_text(const NodeSelector& selector) {
  return selector.kind == NodeSelector::Kind::ids ? describe_nodes(selector.ids)
                                                  : std::string(selector_name(selector));
}

std::string latency_text(const sim::LatencyDistribution& l) {
  using Kind = sim::LatencyDistribution::Kind;
  switch (l.kind) {
    case Kind::constant:
      return format_duration(l.value);
    case Kind::uniform:
      return fmt::format("uniform {}..{}", format_duration(l.min), format_duration(l.max));
    case Kind::lognormal:
      return fmt::format("lognormal median {} p99 {} max {}", format_duration(l.median),
                         format_duration(l.p99), format_duration(l.max));
  }
  return "?";
}

std::string describe_change(const NetworkChange& c) {
  std::vector<std::string> parts;
  if (c.latency) parts.push_back("latency=" + latency_text(*c.latency));
  if (c.loss) parts.push_back(fmt::format("loss={:g}", *c.loss));
  if (c.duplicate) parts.push_back(fmt::format("duplicate={:g}", *c.duplicate));
  if (c.reorder) parts.push_back(fmt::format("reorder={:g}", *c.reorder));
  if (c.reorder_delay_max)
    parts.push_back("reorder_delay_max=" + format_duration(*c.reorder_delay_max));
  if (c.in_flight_max) parts.push_back(fmt::format("in_flight_max={}", *c.in_flight_max));
  return join(parts, " ");
}

}  // namespace

std::string describe_nodes(std::span<const NodeId> nodes) {
  if (nodes.size() == 1) return fmt::format("n{}", nodes.front().value);
  std::vector<std::uint32_t> ids;
  for (NodeId n : nodes) ids.push_back(n.value);
  return fmt::format("{{{}}}", join(ids, ","));
}

std::string_view selector_name(const NodeSelector& selector) {
  using Kind = NodeSelector::Kind;
  switch (selector.kind) {
    case Kind::ids:
      return "";
    case Kind::leader:
      return "leader";
    case Kind::follower:
      return "follower";
    case Kind::minority:
      return "minority";
    case Kind::majority:
      return "majority";
    case Kind::random:
      return "random";
    case Kind::all:
      return "all";
    case Kind::client:
      return "client";
    case Kind::lock_holder:
      return "lock_holder";
    case Kind::elected:
      return "elected";
  }
  return "?";
}

FaultInjector::FaultInjector(sim::World& world, std::uint32_t servers, LeaderFn leader, Rng rng)
    : world_(world), servers_(servers), leader_(std::move(leader)), rng_(rng) {
  LS_ASSERT_GE(servers_, 1u);
  LS_ASSERT_LE(servers_, world_.node_count());
  LS_ASSERT(leader_ != nullptr);
  for (NodeId n : all_servers()) baseline_drift_ppm_.push_back(world_.clock(n).drift_ppm());
  pause_epoch_.assign(world_.node_count(), 0);
}

void FaultInjector::set_clients(NodeId first, std::uint32_t count, ClientPicker picker) {
  LS_ASSERT_GE(first.value, servers_);
  LS_ASSERT_LE(first.value + count, world_.node_count());
  first_client_ = first;
  clients_ = count;
  client_picker_ = std::move(picker);
  client_baseline_drift_ppm_.clear();
  for (NodeId n : all_clients()) client_baseline_drift_ppm_.push_back(world_.clock(n).drift_ppm());
}

std::vector<NodeId> FaultInjector::all_clients() const {
  std::vector<NodeId> out;
  for (std::uint32_t i = 0; i < clients_; ++i) out.emplace_back(first_client_.value + i);
  return out;
}

void FaultInjector::schedule(std::span<const Fault> faults) {
  std::vector<Fault> ordered(faults.begin(), faults.end());
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const Fault& a, const Fault& b) { return a.at < b.at; });
  schedules_.push_back(std::move(ordered));
  schedule_next(schedules_.size() - 1, 0);
}

void FaultInjector::schedule_next(std::size_t schedule, std::size_t next) {
  if (next == schedules_[schedule].size()) return;
  world_.at(schedules_[schedule][next].at, [this, schedule, next] {
    apply(schedules_[schedule][next].action);
    schedule_next(schedule, next + 1);
  });
}

std::vector<NodeId> FaultInjector::all_servers() const {
  std::vector<NodeId> out;
  for (std::uint32_t i = 0; i < servers_; ++i) out.emplace_back(i);
  return out;
}

std::uint32_t FaultInjector::servers_down() const {
  std::uint32_t down = 0;
  for (NodeId n : all_servers()) {
    if (!world_.is_up(n) || world_.is_paused(n)) ++down;
  }
  return down;
}

std::vector<NodeId> FaultInjector::pick(std::vector<NodeId> candidates, std::size_t count,
                                        std::span<const NodeId> avoid) {
  // The preferred candidates shuffled, then the avoided ones shuffled; the first `count` win.
  std::vector<NodeId> preferred;
  std::vector<NodeId> avoided;
  for (NodeId n : candidates) (contains(avoid, n) ? avoided : preferred).push_back(n);
  shuffle(preferred);
  shuffle(avoided);
  candidates = std::move(preferred);
  candidates.insert(candidates.end(), avoided.begin(), avoided.end());
  candidates.resize(std::min(count, candidates.size()));
  std::sort(candidates.begin(), candidates.end());
  return candidates;
}

std::optional<std::vector<NodeId>> FaultInjector::resolve(const NodeSelector& selector,
                                                          std::span<const NodeId> avoid,
                                                          std::string& why) {
  using Kind = NodeSelector::Kind;
  const std::uint32_t n = servers_;
  std::vector<NodeId> out;
  switch (selector.kind) {
    case Kind::ids:
      for (NodeId id : selector.ids) LS_ASSERT_LT(id.value, n);  // the loader checks ranges
      out = selector.ids;
      std::sort(out.begin(), out.end());
      break;
    case Kind::leader: {
      const std::optional<NodeId> leader = leader_();
      if (!leader) {
        why = "no leader";
        return std::nullopt;
      }
      LS_ASSERT_LT(leader->value, n);
      out = {*leader};
      break;
    }
    case Kind::follower: {
      const std::optional<NodeId> leader = leader_();
      std::vector<NodeId> live;
      for (NodeId s : all_servers()) {
        if (world_.is_up(s) && s != leader) live.push_back(s);
      }
      out = pick(std::move(live), 1, avoid);
      break;
    }
    case Kind::random:
      out = pick(all_servers(), 1, avoid);
      break;
    case Kind::minority:
      out = pick(all_servers(), (n - 1) / 2, avoid);
      break;
    case Kind::majority:
      out = pick(all_servers(), n / 2 + 1, avoid);
      break;
    case Kind::all:
      out = all_servers();
      break;
    case Kind::client:
      for (NodeId index : selector.ids) {
        LS_ASSERT_LT(index.value, clients_);  // the loader checks ranges
        out.emplace_back(first_client_.value + index.value);
      }
      std::sort(out.begin(), out.end());
      break;
    case Kind::lock_holder:
    case Kind::elected: {
      LS_ASSERT(client_picker_ != nullptr);  // the loader allows client selectors in lock runs only
      out = pick(client_picker_(selector.kind), 1, avoid);
      if (out.empty()) {
        why = selector.kind == Kind::lock_holder ? "no client holds a lock"
                                                 : "no client is elected";
        return std::nullopt;
      }
      break;
    }
  }
  if (out.empty()) {
    why = selector.kind == Kind::follower
              ? "no live follower"
              : fmt::format("{} of {} server(s) is nobody", selector_name(selector), n);
    return std::nullopt;
  }
  return out;
}

FaultInjector::Outcome FaultInjector::skip(std::string_view what, std::string_view why) {
  return Outcome{fmt::format("{}: skipped, {}", what, why), true};
}

void FaultInjector::shuffle(std::vector<NodeId>& nodes) {
  for (std::size_t i = nodes.size(); i > 1; --i) std::swap(nodes[i - 1], nodes[rng_.below(i)]);
}

void FaultInjector::record(std::string description, bool skipped, std::string_view origin) {
  if (!origin.empty()) description = fmt::format("{}: {}", origin, description);
  world_.trace_fault(description);
  log_.push_back(AppliedFault{world_.now(), std::move(description), skipped});
  if (!skipped) ++applied_;
}

void FaultInjector::record_skipped(std::string_view description, std::string_view origin) {
  record(std::string(description), true, origin);
}

void FaultInjector::apply(const FaultAction& action, std::string_view origin) {
  // Restart and resume act on the selected servers that are down (paused), and name only those.
  const auto stopped = [this](std::string_view verb, const NodeSelector& selector,
                              bool (FaultInjector::*wants)(NodeId) const,
                              void (sim::World::*act)(NodeId)) {
    std::string why;
    const auto nodes = resolve(selector, {}, why);
    if (!nodes) return skip(fmt::format("{} {}", verb, selector_name(selector)), why);
    std::vector<NodeId> acted;
    for (NodeId n : *nodes) {
      if (!(this->*wants)(n)) continue;
      (world_.*act)(n);
      acted.push_back(n);
    }
    if (acted.empty()) {
      return Outcome{fmt::format("{} {}{}: skipped, none {}", verb, describe_nodes(*nodes),
                                 annotation(selector), verb == "restart" ? "down" : "paused"),
                     true};
    }
    return Outcome{fmt::format("{} {}{}", verb, describe_nodes(acted), annotation(selector))};
  };
  Outcome outcome = std::visit(
      Overloaded{
          [&](const Partition& p) { return apply_partition(p); },
          [&](const Heal&) {
            world_.network().heal();
            return Outcome{"heal"};
          },
          [&](const Crash& c) { return apply_crash(c, origin); },
          [&](const Restart& r) {
            return stopped("restart", r.node, &FaultInjector::is_down, &sim::World::restart);
          },
          [&](const Pause& p) { return apply_pause(p, origin); },
          [&](const Resume& r) {
            return stopped("resume", r.node, &FaultInjector::is_frozen, &sim::World::resume);
          },
          [&](const ClockJump& j) {
            return for_each_node("clock_jump", j.node, " by " + format_duration(j.by),
                                 [&](NodeId n) { world_.clock_jump(n, j.by); });
          },
          [&](const ClockDrift& d) {
            return for_each_node("clock_drift", d.node, fmt::format(" to {:g}ppm", d.ppm),
                                 [&](NodeId n) { world_.set_clock_drift(n, d.ppm); });
          },
          [&](const Clog& c) { return apply_clog(c); },
          [&](const SetNetwork& s) { return apply_set_network(s); },
          [&](const CorruptDisk& c) {
            std::vector<std::string> files;
            bool any = false;
            Outcome o = for_each_node("corrupt_disk", c.node, "", [&](NodeId n) {
              const std::optional<std::string> file = world_.corrupt_disk(n);
              any = any || file.has_value();
              files.push_back(file.value_or("no durable data"));
              if (!selector_is_one(c.node)) files.back().insert(0, fmt::format("n{} ", n.value));
            });
            if (o.skipped) return o;
            o.description += fmt::format(": {}", join(files, ", "));
            o.skipped = !any;
            return o;
          },
      },
      action);
  record(std::move(outcome.description), outcome.skipped, origin);
}

bool FaultInjector::is_down(NodeId n) const { return !world_.is_up(n); }
bool FaultInjector::is_frozen(NodeId n) const { return world_.is_up(n) && world_.is_paused(n); }

FaultInjector::Outcome FaultInjector::for_each_node(std::string_view verb,
                                                    const NodeSelector& selector,
                                                    std::string_view suffix,
                                                    const std::function<void(NodeId)>& each) {
  std::string why;
  const std::optional<std::vector<NodeId>> nodes = resolve(selector, {}, why);
  if (!nodes) return skip(fmt::format("{} {}", verb, selector_name(selector)), why);
  for (NodeId n : *nodes) each(n);
  return Outcome{
      fmt::format("{} {}{}{}", verb, describe_nodes(*nodes), annotation(selector), suffix)};
}

FaultInjector::Outcome FaultInjector::apply_crash(const Crash& c, std::string_view origin) {
  std::vector<std::pair<NodeId, std::uint32_t>> taken_down;  // node, incarnation
  const std::string suffix = c.restart_after ? " for " + format_duration(*c.restart_after) : "";
  Outcome o = for_each_node("crash", c.node, suffix, [&](NodeId n) {
    if (!world_.is_up(n)) return;
    world_.crash(n);
    taken_down.emplace_back(n, world_.incarnation(n));
  });
  if (o.skipped) return o;
  if (taken_down.empty()) return skip(o.description, "already down");
  if (c.restart_after) {
    // Restart only what this crash took down, and only if nothing restarted it meanwhile.
    world_.at(
        world_.now() + *c.restart_after, [this, taken_down, suffix, origin = std::string(origin)] {
          std::vector<NodeId> restarted;
          for (const auto& [n, incarnation] : taken_down) {
            if (world_.is_up(n) || world_.incarnation(n) != incarnation) continue;
            world_.restart(n);
            restarted.push_back(n);
          }
          if (!restarted.empty()) {
            record(fmt::format("restart {} (after crash{})", describe_nodes(restarted), suffix),
                   false, origin);
          }
        });
  }
  return o;
}

FaultInjector::Outcome FaultInjector::apply_pause(const Pause& p, std::string_view origin) {
  std::vector<std::pair<NodeId, std::uint64_t>> frozen;  // node, pause epoch
  const std::string suffix = p.resume_after ? " for " + format_duration(*p.resume_after) : "";
  Outcome o = for_each_node("pause", p.node, suffix, [&](NodeId n) {
    if (!world_.is_up(n) || world_.is_paused(n)) return;
    world_.pause(n);
    frozen.emplace_back(n, ++pause_epoch_[n.value]);
  });
  if (o.skipped) return o;
  if (frozen.empty()) return skip(o.description, "already down or paused");
  if (p.resume_after) {
    // Resume only what this pause froze and is still frozen by it (a crash ends a pause, and a
    // later pause bumps the epoch).
    world_.at(world_.now() + *p.resume_after, [this, frozen, suffix, origin = std::string(origin)] {
      std::vector<NodeId> resumed;
      for (const auto& [n, epoch] : frozen) {
        if (!is_frozen(n) || pause_epoch_[n.value] != epoch) continue;
        world_.resume(n);
        resumed.push_back(n);
      }
      if (!resumed.empty()) {
        record(fmt::format("resume {} (after pause{})", describe_nodes(resumed), suffix), false,
               origin);
      }
    });
  }
  return o;
}

FaultInjector::Outcome FaultInjector::apply_clog(const Clog& c) {
  std::string why;
  const auto from = resolve(c.from, {}, why);
  if (!from) return skip(fmt::format("clog from {}", selector_name(c.from)), why);
  const auto to = resolve(c.to, *from, why);
  if (!to) return skip(fmt::format("clog to {}", selector_name(c.to)), why);
  const std::string description =
      fmt::format("clog {}{} -> {}{} for {}", describe_nodes(*from), annotation(c.from),
                  describe_nodes(*to), annotation(c.to), format_duration(c.duration));
  std::size_t links = 0;
  for (NodeId f : *from) {
    for (NodeId t : *to) {
      if (f == t) continue;
      world_.network().clog(f, t, world_.now() + c.duration);
      ++links;
    }
  }
  if (links == 0) return skip(description, "no link between two servers");
  return Outcome{description};
}

FaultInjector::Outcome FaultInjector::apply_set_network(const SetNetwork& s) {
  sim::NetworkConfig config = world_.network().config();
  s.change.apply_to(config);
  const std::string description = "set_network " + describe_change(s.change);
  // The loader checks each field; a combination it let through is reported, not asserted on.
  if (const auto error = sim::validate(config)) {
    return skip(description, *error);
  }
  world_.network().set_config(config);
  return Outcome{description};
}

FaultInjector::Outcome FaultInjector::apply_partition(const Partition& p) {
  sim::Network& net = world_.network();
  std::string why;
  // A symmetric partition in which `groups` are listed and the other servers form one more group.
  const auto split = [&](std::vector<std::vector<NodeId>> groups) {
    std::vector<NodeId> rest;
    for (NodeId s : all_servers()) {
      const bool listed = std::any_of(groups.begin(), groups.end(),
                                      [&](const std::vector<NodeId>& g) { return contains(g, s); });
      if (!listed) rest.push_back(s);
    }
    if (!rest.empty()) groups.push_back(std::move(rest));
    net.partition_symmetric(groups);
  };
  std::string note;
  Outcome skipped = std::visit(
      Overloaded{
          [&](const PartitionSymmetric& s) {
            split(s.groups);
            return Outcome{};
          },
          [&](const PartitionOneWay& s) {
            // The side that names one server is resolved first and the other side leaves it
            // out, so "from all to leader" is every other server to the leader; with one server
            // on both sides or neither, `from` goes first.
            const bool to_first = selector_is_one(s.to) && !selector_is_one(s.from);
            std::optional<std::vector<NodeId>> from;
            std::optional<std::vector<NodeId>> to;
            if (to_first) {
              to = resolve(s.to, {}, why);
              if (!to)
                return skip(fmt::format("partition one_way to {}", selector_name(s.to)), why);
              from = resolve(s.from, *to, why);
              if (!from)
                return skip(fmt::format("partition one_way from {}", selector_name(s.from)), why);
              std::erase_if(*from, [&](NodeId n) { return contains(*to, n); });
            } else {
              from = resolve(s.from, {}, why);
              if (!from)
                return skip(fmt::format("partition one_way from {}", selector_name(s.from)), why);
              to = resolve(s.to, *from, why);
              if (!to)
                return skip(fmt::format("partition one_way to {}", selector_name(s.to)), why);
              std::erase_if(*to, [&](NodeId n) { return contains(*from, n); });
            }
            if (from->empty() || to->empty())
              return skip("partition one_way", "`from` and `to` name the same servers");
            net.partition_one_way(*from, *to);
            if (s.from.kind != NodeSelector::Kind::ids || s.to.kind != NodeSelector::Kind::ids) {
              note = fmt::format(" (one_way {} -> {})", selector_or_nodes(s.from, *from),
                                 selector_or_nodes(s.to, *to));
            }
            return Outcome{};
          },
          [&](const PartitionBridge& s) {
            NodeId bridge;
            if (s.node) {
              const auto node = resolve(*s.node, {}, why);
              if (!node)
                return skip(fmt::format("partition bridge {}", selector_name(*s.node)), why);
              bridge = node->front();
              note = annotation(*s.node);
            } else {
              bridge = NodeId{static_cast<std::uint32_t>(rng_.below(servers_))};
            }
            std::vector<NodeId> nodes = all_servers();
            std::erase(nodes, bridge);
            shuffle(nodes);
            nodes.push_back(bridge);
            net.bridge(nodes, bridge);
            return Outcome{};
          },
          [&](const PartitionMajoritiesRing&) {
            std::vector<NodeId> ring = all_servers();
            shuffle(ring);
            net.majorities_ring(ring);
            return Outcome{};
          },
          [&](const PartitionIsolate& s) {
            const auto nodes = resolve(s.node, {}, why);
            if (!nodes)
              return skip(fmt::format("partition isolate {}", selector_name(s.node)), why);
            std::vector<std::vector<NodeId>> groups;
            for (NodeId n : *nodes) groups.push_back({n});
            split(std::move(groups));
            if (s.node.kind != NodeSelector::Kind::ids)
              note = fmt::format(" (isolate {})", selector_name(s.node));
            return Outcome{};
          },
          [&](const PartitionLink& s) {
            // A random end (follower, random) is drawn after the other end, avoiding it.
            const auto is_drawn = [](const NodeSelector& e) {
              return e.kind == NodeSelector::Kind::follower || e.kind == NodeSelector::Kind::random;
            };
            const bool b_first = is_drawn(s.a) && !is_drawn(s.b);
            const NodeSelector& first = b_first ? s.b : s.a;
            const NodeSelector& second = b_first ? s.a : s.b;
            const std::string what = fmt::format("partition link {} <-> {}", selector_text(s.a),
                                                 selector_text(s.b));
            const auto one = resolve(first, {}, why);
            if (!one) return skip(what, why);
            const auto other = resolve(second, *one, why);
            if (!other) return skip(what, why);
            if (one->front() == other->front()) {
              return skip(what, fmt::format("both ends are {}", describe_nodes(*one)));
            }
            const NodeId a = b_first ? other->front() : one->front();
            const NodeId b = b_first ? one->front() : other->front();
            net.cut_link(a, b);
            if (s.a.kind != NodeSelector::Kind::ids || s.b.kind != NodeSelector::Kind::ids)
              note = fmt::format(" ({})", what.substr(std::string_view("partition ").size()));
            return Outcome{};
          },
      },
      p.shape);
  if (skipped.skipped) return skipped;
  return Outcome{"partition " + net.describe_partition() + note};
}

void FaultInjector::heal_all() {
  world_.network().heal();
  std::vector<NodeId> restarted;
  std::vector<NodeId> resumed;
  std::vector<NodeId> drift_reset;
  std::vector<NodeId> nodes = all_servers();
  const std::vector<NodeId> clients = all_clients();
  nodes.insert(nodes.end(), clients.begin(), clients.end());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const NodeId n = nodes[i];
    if (!world_.is_up(n)) {
      world_.restart(n);
      restarted.push_back(n);
    } else if (world_.is_paused(n)) {
      world_.resume(n);
      resumed.push_back(n);
    }
    const double baseline = i < servers_ ? baseline_drift_ppm_[i]
                                         : client_baseline_drift_ppm_[i - servers_];
    if (world_.clock(n).drift_ppm() != baseline) {
      world_.set_clock_drift(n, baseline);
      drift_reset.push_back(n);
    }
  }
  std::string description = "heal_all: network healed";
  if (!restarted.empty()) description += "; restarted " + describe_nodes(restarted);
  if (!resumed.empty()) description += "; resumed " + describe_nodes(resumed);
  if (!drift_reset.empty()) description += "; drift reset " + describe_nodes(drift_reset);
  record(std::move(description), false, {});
}

}  // namespace lockstep::harness
