#include "harness/nemesis.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/assert.h"
#include "core/duration.h"
#include "core/join.h"

namespace lockstep::harness {

namespace {

std::string_view kind_name(NemesisKind kind) {
  switch (kind) {
    case NemesisKind::partition:
      return "partition";
    case NemesisKind::crash:
      return "crash";
    case NemesisKind::pause:
      return "pause";
    case NemesisKind::clock_jump:
      return "clock_jump";
    case NemesisKind::clock_drift:
      return "clock_drift";
    case NemesisKind::clog:
      return "clog";
    case NemesisKind::corrupt_disk:
      return "corrupt_disk";
  }
  return "?";
}

std::string kind_profile(const Nemesis& s, NemesisKind kind) {
  switch (kind) {
    case NemesisKind::partition:
      return "partition (isolate the leader or a server, random halves, one-way, bridge or "
             "majorities ring; then heal)";
    case NemesisKind::crash:
      return "crash (the leader or a random server; then restart)";
    case NemesisKind::pause:
      return "pause (the leader or a random server; then resume)";
    case NemesisKind::clock_jump:
      return fmt::format("clock_jump (a random server by up to ±{}; not undone)",
                         format_duration(s.clock_jump_max));
    case NemesisKind::clock_drift:
      return fmt::format("clock_drift (a random server, up to ±{:g}ppm; then back to its baseline)",
                         s.clock_drift_ppm_max);
    case NemesisKind::clog:
      return "clog (a random server's links to the others, or theirs to it)";
    case NemesisKind::corrupt_disk:
      return "corrupt_disk (one bit of a random server's data; not undone)";
  }
  return std::string(kind_name(kind));
}

NodeSelector one(NodeId n) { return NodeSelector{NodeSelector::Kind::ids, {n}}; }

}  // namespace

std::uint32_t nemesis_max_down(const Nemesis& settings, std::uint32_t servers) {
  return std::min(settings.max_down.value_or((servers - 1) / 2), servers);
}

std::string describe_nemesis(const Nemesis& s, std::uint32_t servers, Nanos end) {
  if (!s.enabled) return "nemesis: off";
  const Nanos stop = std::min(s.stop.value_or(end), end);
  std::vector<std::string> kinds;
  for (NemesisKind k : s.kinds) kinds.push_back(kind_profile(s, k));
  std::string text = fmt::format(
      "nemesis: from {} to {}, a fault every ~{} (exponential gaps), each undone after {}..{}; "
      "kinds: {}; at most {} of {} servers crashed or paused at once",
      format_duration(s.start), format_duration(stop), format_duration(s.interval),
      format_duration(s.fault_duration_min), format_duration(s.fault_duration_max),
      join(kinds, ", "), nemesis_max_down(s, servers), servers);
  if (servers < 2) text += "; partitions and clogs need two servers and are skipped";
  return text;
}

NemesisPlanner::NemesisPlanner(const Nemesis& settings, std::uint32_t servers, Rng rng, Nanos end,
                               std::span<const double> baseline_drift_ppm)
    : settings_(settings),
      servers_(servers),
      rng_(rng),
      stop_(std::min(settings.stop.value_or(end), end)),
      max_down_(nemesis_max_down(settings, servers)),
      baseline_drift_ppm_(baseline_drift_ppm.begin(), baseline_drift_ppm.end()),
      next_start_(stop_),
      down_until_(servers) {
  LS_ASSERT_GE(servers_, 1u);
  LS_ASSERT_GT(settings_.interval, Nanos::zero());
  LS_ASSERT_LE(settings_.fault_duration_min, settings_.fault_duration_max);
  LS_ASSERT_GT(settings_.fault_duration_min, Nanos::zero());
  if (baseline_drift_ppm_.empty()) baseline_drift_ppm_.assign(servers_, 0.0);
  LS_ASSERT_EQ(baseline_drift_ppm_.size(), std::size_t{servers_});
  if (settings_.enabled && !settings_.kinds.empty() && settings_.start < stop_) {
    next_start_ = settings_.start;
    next_start_ = gap();
  }
}

// The start after `next_start_`: an exponential gap, -ln(1 - u) * interval, at least 1ns; stop_
// when it would reach the stop.
Nanos NemesisPlanner::gap() {
  const double draw = -std::log(1.0 - rng_.unit()) * static_cast<double>(settings_.interval.count);
  const auto room = static_cast<double>((stop_ - next_start_).count);
  if (draw >= room) return stop_;
  return next_start_ + Nanos{std::max<std::int64_t>(1, static_cast<std::int64_t>(draw))};
}

NodeId NemesisPlanner::random_server() {
  return NodeId{static_cast<std::uint32_t>(rng_.below(servers_))};
}

void NemesisPlanner::set_undo(std::int64_t key, Nanos at, FaultAction action) {
  for (Undo& u : undo_) {
    if (u.key == key) {
      u.at = at;
      u.action = std::move(action);
      return;
    }
  }
  undo_.push_back(Undo{at, key, std::move(action)});
}

std::optional<Fault> NemesisPlanner::next() {
  while (true) {
    // The earliest undo; ties in the order they were planned.
    auto undo = std::min_element(undo_.begin(), undo_.end(),
                                 [](const Undo& a, const Undo& b) { return a.at < b.at; });
    const bool start_due = next_start_ < stop_;
    if (undo != undo_.end() && (!start_due || undo->at <= next_start_)) {
      Fault f{undo->at, std::move(undo->action)};
      undo_.erase(undo);
      return f;
    }
    if (!start_due) return std::nullopt;
    const Nanos at = next_start_;
    next_start_ = gap();
    if (auto f = draw(at)) return f;
  }
}

FaultAction NemesisPlanner::random_partition() {
  std::vector<NodeId> shuffled;
  for (std::uint32_t i = 0; i < servers_; ++i) shuffled.emplace_back(i);
  switch (rng_.below(6)) {
    case 0:
      return Partition{PartitionIsolate{NodeSelector::symbolic(NodeSelector::Kind::leader)}};
    case 1:
      return Partition{PartitionIsolate{one(random_server())}};
    case 2: {  // random halves: floor(n/2) servers against the rest
      for (std::size_t i = shuffled.size(); i > 1; --i) {
        std::swap(shuffled[i - 1], shuffled[rng_.below(i)]);
      }
      const auto half = static_cast<std::ptrdiff_t>(servers_ / 2);
      std::vector<NodeId> a(shuffled.begin(), shuffled.begin() + half);
      std::vector<NodeId> b(shuffled.begin() + half, shuffled.end());
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      return Partition{PartitionSymmetric{{std::move(a), std::move(b)}}};
    }
    case 3: {  // one-way between one server and the others
      const NodeId x = random_server();
      NodeSelector others;
      for (NodeId n : shuffled) {
        if (n != x) others.ids.push_back(n);
      }
      if (rng_.chance(0.5)) return Partition{PartitionOneWay{one(x), others}};
      return Partition{PartitionOneWay{others, one(x)}};
    }
    case 4:
      return Partition{PartitionBridge{one(random_server())}};
    default:
      return Partition{PartitionMajoritiesRing{}};
  }
}

std::optional<NodeSelector> NemesisPlanner::down_target(Nanos at, Nanos until) {
  // An episode ending exactly at `at` still counts: its restart may fire after this start.
  std::erase_if(leader_down_until_, [at](Nanos end) { return end < at; });
  std::vector<NodeId> candidates;
  std::uint32_t down = static_cast<std::uint32_t>(leader_down_until_.size());
  for (std::uint32_t i = 0; i < servers_; ++i) {
    if (down_until_[i] && *down_until_[i] >= at) {
      ++down;
    } else {
      candidates.emplace_back(i);
    }
  }
  if (down >= max_down_ || candidates.empty()) return std::nullopt;
  if (rng_.chance(0.5)) {
    leader_down_until_.push_back(until);
    return NodeSelector::symbolic(NodeSelector::Kind::leader);
  }
  const NodeId n = candidates[rng_.below(candidates.size())];
  down_until_[n.value] = until;
  return one(n);
}

std::optional<Fault> NemesisPlanner::draw(Nanos at) {
  const NemesisKind kind = settings_.kinds[rng_.below(settings_.kinds.size())];
  const Nanos duration = std::min(
      Nanos{rng_.between(settings_.fault_duration_min.count, settings_.fault_duration_max.count)},
      stop_ - at);
  const Nanos until = at + duration;
  switch (kind) {
    case NemesisKind::partition: {
      if (servers_ < 2) return std::nullopt;
      Fault f{at, random_partition()};
      set_undo(kPartitionKey, until, Heal{});
      return f;
    }
    case NemesisKind::crash:
    case NemesisKind::pause: {
      const std::optional<NodeSelector> target = down_target(at, until);
      if (!target) return std::nullopt;
      if (kind == NemesisKind::crash) return Fault{at, Crash{*target, duration}};
      return Fault{at, Pause{*target, duration}};
    }
    case NemesisKind::clock_jump: {
      const NodeId n = random_server();
      const std::int64_t max = settings_.clock_jump_max.count;
      return Fault{at, ClockJump{one(n), Nanos{rng_.between(-max, max)}}};
    }
    case NemesisKind::clock_drift: {
      const NodeId n = random_server();
      const double ppm = (rng_.unit() * 2.0 - 1.0) * settings_.clock_drift_ppm_max;
      set_undo(n.value, until, ClockDrift{one(n), baseline_drift_ppm_[n.value]});
      return Fault{at, ClockDrift{one(n), ppm}};
    }
    case NemesisKind::clog: {
      if (servers_ < 2) return std::nullopt;
      const NodeId x = random_server();
      NodeSelector others;
      for (std::uint32_t i = 0; i < servers_; ++i) {
        if (i != x.value) others.ids.emplace_back(i);
      }
      if (rng_.chance(0.5)) return Fault{at, Clog{one(x), others, duration}};
      return Fault{at, Clog{others, one(x), duration}};
    }
    case NemesisKind::corrupt_disk:
      return Fault{at, CorruptDisk{one(random_server())}};
  }
  return std::nullopt;
}

NemesisPlan plan_nemesis(const Nemesis& settings, std::uint32_t servers, Rng rng, Nanos end,
                         std::span<const double> baseline_drift_ppm, std::size_t faults_max) {
  NemesisPlanner planner(settings, servers, rng, end, baseline_drift_ppm);
  NemesisPlan plan;
  while (auto f = planner.next()) {
    if (plan.faults.size() == faults_max) {
      plan.complete = false;
      break;
    }
    plan.faults.push_back(std::move(*f));
  }
  return plan;
}

NemesisDriver::NemesisDriver(const Nemesis& settings, FaultInjector& injector, Rng rng, Nanos end)
    : injector_(injector),
      planner_(settings, injector.servers(), rng, end, injector.baseline_drift_ppm()),
      description_(describe_nemesis(settings, injector.servers(), end)) {}

void NemesisDriver::start() { schedule_next(); }

void NemesisDriver::schedule_next() {
  std::optional<Fault> f = planner_.next();
  if (!f) return;
  LS_ASSERT_GE(f->at, injector_.world().now());  // start() before settings.start
  injector_.world().at(f->at, [this, fault = std::move(*f)] {
    fire(fault);
    schedule_next();
  });
}

void NemesisDriver::fire(const Fault& fault) {
  const bool takes_down =
      std::holds_alternative<Crash>(fault.action) || std::holds_alternative<Pause>(fault.action);
  if (takes_down && injector_.servers_down() >= planner_.max_down()) {
    ++skipped_;
    injector_.record_skipped(
        fmt::format("{}: skipped, {} server(s) down already, max_down {}",
                    fault_action_name(fault.action), injector_.servers_down(), planner_.max_down()),
        kNemesisStream);
    return;
  }
  injector_.apply(fault.action, kNemesisStream);
}

}  // namespace lockstep::harness
