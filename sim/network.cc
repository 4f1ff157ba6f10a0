#include "sim/network.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "core/duration.h"

namespace lockstep::sim {
namespace {

// Portable math for latency sampling. libm's exp and log may differ in the last bit between
// library versions, which would change a rounded nanosecond now and then and break "same seed,
// same trace" across machines. These use only +, -, *, / (correctly rounded by IEEE 754, as long
// as the compiler does not fuse a * b + c: GCC does not in ISO mode, -std=c++20; Clang is told
// below), sqrt (correctly rounded) and frexp/ldexp (exact).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif
constexpr double kLn2 = 0.6931471805599453094;
// ln 2 = kLn2High + kLn2Low, kLn2High with its low 17 bits zero (Cody & Waite), so k * kLn2High
// is exact for every k that portable_exp meets.
constexpr double kLn2High = 0x1.62e42fefa0000p-1;
constexpr double kLn2Low = 0x1.cf79abc9e3b3ap-40;
constexpr double kSqrtHalf = 0.7071067811865475244;
// The standard normal's 99th percentile: a lognormal's p99 is median * exp(sigma * kZ99).
constexpr double kZ99 = 2.3263478740408408;

// Coefficients of the series below, computed at compile time (IEEE division is exact-rounded,
// so the table is the same on every compiler) to keep divisions off the hot path.
constexpr std::array<double, 16> kInverseFactorial = [] {
  std::array<double, 16> t{};
  double f = 1.0;
  for (std::size_t n = 0; n < t.size(); ++n) {
    if (n > 0) f *= static_cast<double>(n);
    t[n] = 1.0 / f;
  }
  return t;
}();
constexpr std::array<double, 12> kInverseOdd = [] {
  std::array<double, 12> t{};
  for (std::size_t k = 0; k < t.size(); ++k) t[k] = 1.0 / static_cast<double>(2 * k + 1);
  return t;
}();

// Natural log for x > 0: x = m * 2^e with m in [sqrt(1/2), sqrt(2)), then
// ln(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...) with s = (m - 1) / (m + 1), |s| < 0.172;
// twelve terms leave an error below 1e-19.
double portable_log(double x) {
  LS_ASSERT(x > 0.0);
  int exponent = 0;
  double m = std::frexp(x, &exponent);
  if (m < kSqrtHalf) {
    m *= 2.0;
    --exponent;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double sum = kInverseOdd.back();
  for (std::size_t k = kInverseOdd.size() - 1; k-- > 0;) sum = sum * s2 + kInverseOdd[k];
  return static_cast<double>(exponent) * kLn2 + 2.0 * s * sum;
}

// e^x: x = k ln2 + r with |r| <= ln2 / 2 (ln2 split in two so that k ln2 is exact), e^r by its
// Taylor series (16 terms leave an error below 1e-17), then scaled by 2^k.
double portable_exp(double x) {
  if (x > 709.0) return HUGE_VAL;
  if (x < -745.0) return 0.0;
  const double k = std::floor(x / kLn2 + 0.5);
  const double r = (x - k * kLn2High) - k * kLn2Low;
  // Even and odd terms as two independent Horner chains in r^2: half the latency of one chain.
  const double r2 = r * r;
  double even = kInverseFactorial[14];
  double odd = kInverseFactorial[15];
  for (std::size_t n = 14; n >= 2; n -= 2) {
    even = even * r2 + kInverseFactorial[n - 2];
    odd = odd * r2 + kInverseFactorial[n - 1];
  }
  return std::ldexp(even + r * odd, static_cast<int>(k));
}

// The standard normal quantile for p in (0, 1): Acklam's rational approximation (relative error
// below 1.2e-9, far finer than a nanosecond of latency).
double normal_quantile(double p) {
  LS_ASSERT(p > 0.0 && p < 1.0);
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double p_low = 0.02425;
  const auto tail = [&](double q) {
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  };
  if (p < p_low) return tail(std::sqrt(-2.0 * portable_log(p)));
  if (p > 1.0 - p_low) return -tail(std::sqrt(-2.0 * portable_log(1.0 - p)));
  const double q = p - 0.5;
  const double r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
}

// No duration in a network config may exceed this, so `now + latency + reorder delay` cannot
// overflow in any run shorter than a century.
constexpr Nanos kNetworkDelayMax = seconds(3600);

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

std::optional<std::string> check_delay(std::string_view field, Nanos d) {
  if (d >= Nanos::zero() && d <= kNetworkDelayMax) return std::nullopt;
  return std::string(field) + " is " + format_duration(d) + "; it must be between 0s and " +
         format_duration(kNetworkDelayMax);
}

}  // namespace

std::string_view to_string(DropReason reason) {
  switch (reason) {
    case DropReason::partitioned: return "partitioned";
    case DropReason::loss: return "loss";
    case DropReason::in_flight_limit: return "in_flight_limit";
    case DropReason::node_down: return "node_down";
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
  const LatencyDistribution& l = config.latency;
  switch (l.kind) {
    case LatencyDistribution::Kind::constant:
      return check_delay("latency.value", l.value);
    case LatencyDistribution::Kind::uniform:
      if (auto error = check_delay("latency.min", l.min)) return error;
      if (auto error = check_delay("latency.max", l.max)) return error;
      if (l.min > l.max) {
        return "latency.min (" + format_duration(l.min) + ") is above latency.max (" +
               format_duration(l.max) + "); a uniform latency needs min <= max";
      }
      return std::nullopt;
    case LatencyDistribution::Kind::lognormal:
      if (auto error = check_delay("latency.median", l.median)) return error;
      if (auto error = check_delay("latency.p99", l.p99)) return error;
      if (auto error = check_delay("latency.max", l.max)) return error;
      if (l.median <= Nanos::zero()) {
        return std::string("latency.median is 0s; a lognormal latency needs a median above 0");
      }
      if (l.p99 < l.median || l.max < l.median) {
        return "a lognormal latency needs median <= p99 and median <= max; found median " +
               format_duration(l.median) + ", p99 " + format_duration(l.p99) + ", max " +
               format_duration(l.max);
      }
      return std::nullopt;
  }
  return std::string("latency.kind is not one of constant, uniform, lognormal");
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
  latency_model_ = LatencyModel{};
  if (config_.latency.kind == LatencyDistribution::Kind::lognormal) {
    latency_model_.sigma =
        portable_log(static_cast<double>(config_.latency.p99.count) /
                     static_cast<double>(config_.latency.median.count)) /
        kZ99;
  }
}

Nanos Network::sample_latency(Rng& rng) {
  const LatencyDistribution& l = config_.latency;
  switch (l.kind) {
    case LatencyDistribution::Kind::constant:
      return l.value;
    case LatencyDistribution::Kind::uniform:
      return Nanos{rng.between(l.min.count, l.max.count)};
    case LatencyDistribution::Kind::lognormal: {
      // unit() is in [0, 1); the half-step shift keeps p strictly inside (0, 1).
      const double p = rng.unit() + 0x1.0p-54;
      const double x = static_cast<double>(l.median.count) *
                       portable_exp(latency_model_.sigma * normal_quantile(p));
      if (!(x < static_cast<double>(l.max.count))) return l.max;
      return Nanos{static_cast<std::int64_t>(x + 0.5)};
    }
  }
  LS_ASSERT_MSG(false, "unknown latency kind");
}

Nanos Network::schedule_copy(Nanos now, LinkState& link) {
  const Nanos arrive = now + sample_latency(link.rng);
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
