#include "sim/network.h"

#include <algorithm>
#include <utility>

#include "core/duration.h"

namespace lockstep::sim {
namespace {

std::string node_list(std::span<const NodeId> nodes) {
  std::string out = "{";
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(nodes[i].value);
  }
  out += '}';
  return out;
}

std::optional<std::string> check_probability(std::string_view field, double p) {
  if (p >= 0.0 && p <= 1.0) return std::nullopt;  // also false for NaN
  return std::string(field) + " is " + std::to_string(p) +
         "; it is a probability: write a number from 0 to 1";
}

}  // namespace

std::string_view to_string(DropReason reason) {
  switch (reason) {
    case DropReason::partitioned: return "partitioned";
    case DropReason::loss: return "loss";
    case DropReason::in_flight_limit: return "in_flight_limit";
    case DropReason::node_down: return "node_down";
    case DropReason::sender_crashed: return "sender_crashed";
  }
  return "?";
}

std::uint64_t LinkStats::dropped_total() const {
  std::uint64_t sum = 0;
  for (const std::uint64_t n : dropped) sum += n;
  return sum;
}

const LinkStats& NetworkStats::link(NodeId from, NodeId to) const {
  LS_ASSERT_LT(from.value, node_count);
  LS_ASSERT_LT(to.value, node_count);
  return links[static_cast<std::size_t>(from.value) * node_count + to.value];
}

std::optional<std::string> validate(const NetworkConfig& config) {
  for (const auto& [field, p] : {std::pair{"loss", config.loss},
                                 std::pair{"duplicate", config.duplicate},
                                 std::pair{"reorder", config.reorder}}) {
    if (auto error = check_probability(field, p)) return error;
  }
  if (auto error = check_delay("reorder_delay_max", config.reorder_delay_max)) return error;
  if (config.in_flight_max == 0) {
    return std::string("in_flight_max is 0; it must be at least 1 or no message can be sent");
  }
  return validate("latency", config.latency);
}

Network::Network(std::uint32_t node_count, NetworkConfig config, Rng rng)
    : node_count_(node_count), config_(config) {
  LS_ASSERT_GE(node_count, 1u);
  LS_ASSERT_LE(node_count, kNetworkNodesMax);
  const std::size_t links = static_cast<std::size_t>(node_count) * node_count;
  blocked_.assign(links, 0);
  up_.assign(node_count, 1);
  links_.assign(links, LinkState{});
  // One stream per directed link, named by its endpoints and not by the node count, so traffic on
  // other links (a client added to the scenario) never shifts this link's draws.
  const std::uint64_t base = rng.next();
  for (std::uint32_t from = 0; from < node_count; ++from) {
    for (std::uint32_t to = 0; to < node_count; ++to) {
      links_[index(NodeId{from}, NodeId{to})].rng =
          Rng::derive(base, "link", (static_cast<std::uint64_t>(from) << 32) | to);
    }
  }
  stats_.node_count = node_count;
  stats_.links.assign(links, LinkStats{});
  set_config(config);
}

void Network::set_config(NetworkConfig config) {
  const std::optional<std::string> error = validate(config);
  LS_ASSERT_MSG(!error, *error);
  config_ = config;
  latency_ = LatencySampler(config_.latency);
}

Nanos Network::schedule_copy(Nanos now, LinkState& link) {
  const Nanos arrive = now + latency_.sample(link.rng);
  if (link.rng.chance(config_.reorder)) {
    return arrive + Nanos{link.rng.between(0, config_.reorder_delay_max.count)};
  }
  link.fifo_last = std::max(arrive, link.fifo_last);
  return link.fifo_last;
}

void Network::drop(LinkStats& link_stats, DropReason reason, std::size_t bytes) {
  for (LinkStats* s : {&link_stats, &stats_.total}) {
    ++s->dropped[static_cast<std::size_t>(reason)];
    s->dropped_bytes += bytes;
  }
}

void Network::finish_copy(LinkStats& link_stats) {
  LS_ASSERT_GT(link_stats.in_flight, 0u);
  --link_stats.in_flight;
  --stats_.total.in_flight;
}

SendDecision Network::on_send(Nanos now, NodeId from, NodeId to, std::size_t bytes) {
  const std::size_t i = index(from, to);
  LinkStats& link_stats = stats_.links[i];
  for (LinkStats* s : {&link_stats, &stats_.total}) {
    ++s->sent;
    s->sent_bytes += bytes;
  }
  SendDecision decision;
  if (blocked_[i] != 0) {
    decision.reason = DropReason::partitioned;
  } else if (stats_.total.in_flight >= config_.in_flight_max) {
    decision.reason = DropReason::in_flight_limit;
  } else if (links_[i].rng.chance(config_.loss)) {
    decision.reason = DropReason::loss;
  } else {
    LinkState& link = links_[i];
    decision.deliver_at[0] = schedule_copy(now, link);
    decision.copies = 1;
    // Drawn even when the limit forbids the copy, so the limit does not shift later draws.
    if (link.rng.chance(config_.duplicate) && stats_.total.in_flight + 1 < config_.in_flight_max) {
      decision.deliver_at[1] = schedule_copy(now, link);
      decision.copies = 2;
      ++link_stats.duplicated;
      ++stats_.total.duplicated;
    }
    link_stats.in_flight += decision.copies;
    stats_.total.in_flight += decision.copies;
    return decision;
  }
  drop(link_stats, decision.reason, bytes);
  return decision;
}

ArrivalDecision Network::on_arrival(Nanos now, NodeId from, NodeId to, std::size_t bytes,
                                    ArrivalAttempt attempt) {
  const std::size_t i = index(from, to);
  LinkState& link = links_[i];
  LinkStats& link_stats = stats_.links[i];
  LS_ASSERT_MSG(link_stats.in_flight > 0, "on_arrival for a copy on_send never scheduled");
  ArrivalDecision decision;
  if (attempt == ArrivalAttempt::after_hold) {
    LS_ASSERT_MSG(link.held > 0, "on_arrival after_hold for a copy that was not held");
    --link.held;
  } else if (blocked_[i] == 0 && (now < link.clog_until || link.held > 0)) {
    // Held behind the clog, or behind copies held earlier on this link: they are released at
    // release_last at the latest, and a copy held now is scheduled after them, so it cannot
    // overtake them. When clogged, clog_until > now; otherwise release_last >= now because a
    // held copy's release is still pending.
    decision.kind = ArrivalKind::hold;
    decision.hold_until = std::max(link.clog_until, link.release_last);
    LS_ASSERT_GE(decision.hold_until, now);
    link.release_last = decision.hold_until;
    ++link.held;
    ++link_stats.held;
    ++stats_.total.held;
    return decision;
  }
  finish_copy(link_stats);
  if (blocked_[i] != 0 || up_[to.value] == 0) {
    decision.kind = ArrivalKind::drop;
    decision.reason = blocked_[i] != 0 ? DropReason::partitioned : DropReason::node_down;
    drop(link_stats, decision.reason, bytes);
    return decision;
  }
  for (LinkStats* s : {&link_stats, &stats_.total}) {
    ++s->delivered;
    s->delivered_bytes += bytes;
  }
  return decision;
}

void Network::clear_partition() { std::fill(blocked_.begin(), blocked_.end(), 0); }

void Network::block(NodeId from, NodeId to) {
  if (from != to) blocked_[index(from, to)] = 1;
}

void Network::check_distinct(std::span<const NodeId> nodes,
                             std::vector<std::uint8_t>& seen) const {
  for (const NodeId n : nodes) {
    LS_ASSERT_LT(n.value, node_count_);
    LS_ASSERT_MSG(seen[n.value] == 0, "node " + std::to_string(n.value) +
                                          " named twice in one partition; the caller must "
                                          "validate node lists");
    seen[n.value] = 1;
  }
}

void Network::set_partition_description(std::string description) {
  const bool any = std::find(blocked_.begin(), blocked_.end(), 1) != blocked_.end();
  partition_description_ = any ? std::move(description) : "connected";
}

void Network::partition_symmetric(std::span<const std::vector<NodeId>> groups) {
  std::vector<std::uint8_t> seen(node_count_, 0);
  for (const auto& group : groups) check_distinct(group, seen);
  clear_partition();
  std::string description;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (std::size_t h = 0; h < groups.size(); ++h) {
      if (g == h) continue;
      for (const NodeId a : groups[g]) {
        for (const NodeId b : groups[h]) block(a, b);
      }
    }
    if (g > 0) description += " | ";
    description += node_list(groups[g]);
  }
  set_partition_description(std::move(description));
}

void Network::partition_one_way(std::span<const NodeId> from, std::span<const NodeId> to) {
  std::vector<std::uint8_t> seen(node_count_, 0);
  check_distinct(from, seen);
  check_distinct(to, seen);
  clear_partition();
  for (const NodeId a : from) {
    for (const NodeId b : to) block(a, b);
  }
  set_partition_description(node_list(from) + " -> " + node_list(to) + " blocked");
}

void Network::bridge(std::span<const NodeId> nodes, NodeId bridge_node) {
  std::vector<std::uint8_t> seen(node_count_, 0);
  check_distinct(nodes, seen);
  LS_ASSERT_LT(bridge_node.value, node_count_);
  LS_ASSERT_MSG(seen[bridge_node.value] != 0, "bridge: the bridge node must be one of `nodes`");
  std::vector<NodeId> others;
  for (const NodeId n : nodes) {
    if (n != bridge_node) others.push_back(n);
  }
  const auto half = static_cast<std::ptrdiff_t>(others.size() / 2);
  const std::span<const NodeId> first(others.begin(), others.begin() + half);
  const std::span<const NodeId> second(others.begin() + half, others.end());
  clear_partition();
  for (const NodeId a : first) {
    for (const NodeId b : second) {
      block(a, b);
      block(b, a);
    }
  }
  set_partition_description(node_list(first) + " | " + node_list(second) + " bridged by " +
                            std::to_string(bridge_node.value));
}

void Network::majorities_ring(std::span<const NodeId> nodes) {
  std::vector<std::uint8_t> seen(node_count_, 0);
  check_distinct(nodes, seen);
  clear_partition();
  const std::size_t n = nodes.size();
  const std::size_t reach = (n / 2 + 1) / 2;  // ceil(floor(n / 2) / 2)
  std::string description = "majorities ring ";
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t gap = i > j ? i - j : j - i;
      if (std::min(gap, n - gap) > reach) block(nodes[i], nodes[j]);
    }
    if (i > 0) description += '-';
    description += std::to_string(nodes[i].value);
  }
  set_partition_description(std::move(description));
}

void Network::isolate(NodeId node) {
  LS_ASSERT_LT(node.value, node_count_);
  clear_partition();
  for (std::uint32_t other = 0; other < node_count_; ++other) {
    block(node, NodeId{other});
    block(NodeId{other}, node);
  }
  set_partition_description("isolated " + std::to_string(node.value));
}

void Network::cut_link(NodeId a, NodeId b) {
  LS_ASSERT_LT(a.value, node_count_);
  LS_ASSERT_LT(b.value, node_count_);
  LS_ASSERT_NE(a.value, b.value);
  clear_partition();
  block(a, b);
  block(b, a);
  set_partition_description("link " + std::to_string(a.value) + " <-> " +
                            std::to_string(b.value) + " cut");
}

void Network::clog(NodeId from, NodeId to, Nanos until) {
  LinkState& link = links_[index(from, to)];
  link.clog_until = std::max(link.clog_until, until);
}

void Network::heal() {
  clear_partition();
  for (LinkState& link : links_) link.clog_until = Nanos::zero();
  partition_description_ = "connected";
}

void Network::set_node_up(NodeId node, bool up) {
  LS_ASSERT_LT(node.value, node_count_);
  up_[node.value] = up ? 1 : 0;
}

bool Network::node_up(NodeId node) const {
  LS_ASSERT_LT(node.value, node_count_);
  return up_[node.value] != 0;
}

}  // namespace lockstep::sim
