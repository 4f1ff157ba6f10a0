#include "harness/failover.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/duration.h"
#include "core/rng.h"
#include "harness/append_workload.h"
#include "harness/protocols.h"
#include "harness/server_checker.h"
#include "service/append_log.h"
#include "service/replica_host.h"
#include "sim/fiber.h"
#include "sim/network.h"
#include "sim/world.h"

namespace lockstep::harness {

std::string_view to_string(TrialOutcome outcome) {
  switch (outcome) {
    case TrialOutcome::failed_over: return "failed_over";
    case TrialOutcome::timeout: return "timeout";
    case TrialOutcome::no_leader: return "no_leader";
    case TrialOutcome::invalid: return "invalid";
  }
  return "?";
}

namespace {

std::string options_pointer(std::string_view protocol) {
  return json_pointer_child("/protocol_options", protocol);
}

JsonResult<ReplicaMaker> configure(const ProtocolModule& module, const FailoverSettings& s) {
  const ProtocolOptions options{s.protocol_options, options_pointer(s.protocol)};
  return module.configure(&options);
}

std::optional<std::string> check_duration(std::string_view name, Nanos value, Nanos min,
                                          Nanos max) {
  if (value >= min && value <= max) return std::nullopt;
  return fmt::format("{}: expected a duration in {}..{}, got {}", name, format_duration(min),
                     format_duration(max), value.count < 0 ? "a negative duration"
                                                           : format_duration(value));
}

// One trial: its own world, servers and checker. The world's callbacks refer to it by reference.
class Trial {
 public:
  Trial(const FailoverSettings& settings, const ProtocolModule& module, const ReplicaMaker& maker,
        std::uint32_t index)
      : settings_(settings),
        index_(index),
        seed_(failover_trial_seed(settings.seed, index)),
        world_(sim::WorldConfig{seed_, settings.network, {}, {}}),
        checker_(settings.nodes, module.make_checker()) {
    add_servers(maker);
    add_clients();
    world_.set_event_limit(settings.event_limit);
    world_.set_step_observer([this](std::optional<NodeId> node) { after_step(node); });
  }

  FailoverTrial run();

 private:
  // What every live server agrees on, when it agrees.
  struct Agreement {
    NodeId leader;
    std::uint64_t term = 0;
  };
  enum class Goal : std::uint8_t { none, stable, failed_over };

  void add_servers(const ReplicaMaker& maker);
  void add_clients();
  service::ReplicaHost* host(std::uint32_t server) {
    // Servers are nodes 0..nodes-1 and always run a ReplicaHost; nullptr while crashed.
    return static_cast<service::ReplicaHost*>(world_.process(NodeId{server}));
  }
  std::optional<Agreement> agreement();
  bool goal_met();
  void after_step(std::optional<NodeId> node);
  // Runs until the goal holds (true) or until `deadline`, a violation or the event limit (false).
  bool run_until(Goal goal, Nanos deadline);
  FailoverTrial& fail(TrialOutcome outcome, std::string detail);

  const FailoverSettings& settings_;
  const std::uint32_t index_;
  const std::uint64_t seed_;
  AppendHistory history_;  // of the optional clients; outlives the world that writes it
  sim::World world_;
  ServerChecker checker_;
  std::optional<consensus::Violation> violation_;
  Goal goal_ = Goal::none;
  bool goal_met_ = false;
  sim::StopReason last_stop_ = sim::StopReason::time_reached;
  std::uint64_t crashed_term_ = 0;
  std::optional<Agreement> reached_;  // the agreement that met the goal
  FailoverTrial row_;
};

void Trial::add_servers(const ReplicaMaker& maker) {
  std::vector<NodeId> members;
  for (std::uint32_t i = 0; i < settings_.nodes; ++i) members.push_back(NodeId{i});
  for (std::uint32_t i = 0; i < settings_.nodes; ++i) {
    world_.add_node(fmt::format("server{}", i), [maker, members](NodeId) {
      return std::make_unique<service::ReplicaHost>(
          [maker, members](NodeId self, std::uint64_t seed) { return maker(self, members, seed); },
          [] { return std::make_unique<service::AppendLog>(); });
    });
  }
}

void Trial::add_clients() {
  // The history is not judged here (lockstep run does that); the clients only put load on the
  // replicas, so that a leader crashes with entries in flight.
  AppendClientSettings client{settings_.nodes, AppendWorkload{settings_.client_interval},
                              seconds(1), Nanos::zero(), Nanos::max()};
  for (std::uint32_t c = 0; c < settings_.clients; ++c) {
    world_.add_node(fmt::format("client{}", c), [this, client](NodeId) {
      return std::make_unique<sim::FiberHost>(std::vector<sim::FiberBody>{
          append_client(client, [this] { return world_.now(); }, &history_)});
    });
  }
}

std::optional<Trial::Agreement> Trial::agreement() {
  std::optional<Agreement> agreed;
  for (std::uint32_t i = 0; i < settings_.nodes; ++i) {
    const service::ReplicaHost* h = host(i);
    if (h == nullptr) continue;
    const consensus::Status status = h->replica().status();
    if (!status.leader) return std::nullopt;
    if (agreed && (agreed->leader != *status.leader || agreed->term != status.term)) {
      return std::nullopt;
    }
    agreed = Agreement{*status.leader, status.term};
  }
  if (!agreed) return std::nullopt;
  // The named leader must be alive and say so itself (not merely be remembered by the others).
  const service::ReplicaHost* leader = host(agreed->leader.value);
  if (leader == nullptr) return std::nullopt;
  const consensus::Status own = leader->replica().status();
  if (own.role != consensus::Role::leader || own.term != agreed->term) return std::nullopt;
  return agreed;
}

bool Trial::goal_met() {
  if (goal_ == Goal::none) return false;
  const std::optional<Agreement> a = agreement();
  if (!a) return false;
  if (goal_ == Goal::failed_over && a->term <= crashed_term_) return false;
  reached_ = a;
  return true;
}

void Trial::after_step(std::optional<NodeId> node) {
  if (node && node->value >= settings_.nodes) return;  // a client's step: no server changed
  if (auto violation = checker_.after_step(world_, node)) {
    violation_ = std::move(violation);
    world_.request_stop();
    return;
  }
  if (!goal_met_ && goal_met()) {
    goal_met_ = true;
    world_.request_stop();
  }
}

bool Trial::run_until(Goal goal, Nanos deadline) {
  goal_ = goal;
  goal_met_ = goal_met();
  if (goal_met_) return true;
  last_stop_ = world_.run_until(deadline);
  goal_ = Goal::none;
  return goal_met_ && !violation_;
}

FailoverTrial& Trial::fail(TrialOutcome outcome, std::string detail) {
  if (violation_) {
    outcome = TrialOutcome::invalid;
    detail = fmt::format("invariant {} broke at {}: {}", violation_->property,
                         format_duration(world_.now()), violation_->detail);
  } else if (last_stop_ == sim::StopReason::event_limit) {
    detail = fmt::format("{} (stopped at the event limit of {} events, at {})", detail,
                         settings_.event_limit, format_duration(world_.now()));
  }
  row_.outcome = outcome;
  row_.detail = std::move(detail);
  row_.events = world_.stats().events;
  return row_;
}

FailoverTrial Trial::run() {
  row_.trial = index_;
  row_.seed = seed_;
  Rng rng = Rng::derive(seed_, "failover-crash");
  const auto no_stable_leader = [&] {
    return fmt::format("no stable leader between {} and {}", format_duration(settings_.warmup),
                       format_duration(world_.now()));
  };

  world_.run_until(settings_.warmup);
  if (violation_) return fail(TrialOutcome::invalid, "");
  if (!run_until(Goal::stable, settings_.warmup + settings_.stable_wait_max)) {
    return fail(TrialOutcome::no_leader, no_stable_leader());
  }
  const Nanos delay{rng.between(0, settings_.crash_jitter.count)};
  world_.run_until(world_.now() + delay);
  if (violation_) return fail(TrialOutcome::invalid, "");
  if (!run_until(Goal::stable, world_.now() + settings_.stable_wait_max)) {
    return fail(TrialOutcome::no_leader, no_stable_leader());
  }

  LS_ASSERT(reached_.has_value());
  const Agreement old = *reached_;
  crashed_term_ = old.term;
  row_.crashed_leader = old.leader;
  row_.crashed_term = old.term;
  row_.crash_at = world_.now();
  world_.crash(old.leader);
  // A crash made from here is no event, so the world calls no observer for it: look now, as
  // after any fault, or the checker keeps the crashed replica's pointer until that node's next
  // event (it used to get one soon, a timer wake-up left stale by the crash).
  after_step(std::nullopt);
  if (violation_) return fail(TrialOutcome::invalid, "");

  if (!run_until(Goal::failed_over, row_.crash_at + settings_.max_wait)) {
    return fail(TrialOutcome::timeout,
                fmt::format("no new leader agreed by every live server within {} of the crash",
                            format_duration(settings_.max_wait)));
  }
  row_.outcome = TrialOutcome::failed_over;
  row_.new_leader = reached_->leader;
  row_.new_term = reached_->term;
  row_.failover = world_.now() - row_.crash_at;
  row_.events = world_.stats().events;
  return row_;
}

}  // namespace

std::uint64_t failover_trial_seed(std::uint64_t master_seed, std::uint32_t index) {
  return Rng::derive(master_seed, "failover-trial", index).next();
}

Nanos nearest_rank(const std::vector<Nanos>& sorted, double percent) {
  LS_ASSERT(!sorted.empty());
  LS_ASSERT(percent > 0.0 && percent <= 100.0);
  const double rank = std::ceil(percent / 100.0 * static_cast<double>(sorted.size()));
  const auto index = static_cast<std::size_t>(std::max(rank, 1.0)) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

std::optional<std::string> check_failover_settings(const FailoverSettings& s) {
  const ProtocolModule* module = find_protocol(s.protocol);
  if (module == nullptr) {
    std::vector<std::string_view> runnable;
    for (const ProtocolModule& m : runnable_protocols()) runnable.push_back(m.name);
    return fmt::format("protocol: expected one of {}, got \"{}\"", join_names(runnable),
                       s.protocol);
  }
  if (s.nodes < kFailoverNodesMin || s.nodes > kNodesMax) {
    return fmt::format("nodes: expected {}..{} (a cluster must keep a majority after losing its "
                       "leader), got {}",
                       kFailoverNodesMin, kNodesMax, s.nodes);
  }
  if (s.trials < 1 || s.trials > kFailoverTrialsMax) {
    return fmt::format("trials: expected 1..{}, got {}", kFailoverTrialsMax, s.trials);
  }
  if (s.clients > kFailoverClientsMax) {
    return fmt::format("clients: expected 0..{}, got {}", kFailoverClientsMax, s.clients);
  }
  if (s.event_limit == 0) return std::string("event_limit: expected at least 1, got 0");
  for (const auto& [name, value, min] :
       {std::tuple{"warmup", s.warmup, Nanos::zero()},
        std::tuple{"stable_wait_max", s.stable_wait_max, Nanos::zero()},
        std::tuple{"crash_jitter", s.crash_jitter, Nanos::zero()},
        std::tuple{"max_wait", s.max_wait, nanoseconds(1)},
        std::tuple{"client_interval", s.client_interval, milliseconds(1)}}) {
    if (auto error = check_duration(name, value, min, kFailoverWaitMax)) return error;
  }
  if (auto error = sim::validate(s.network)) return "network: " + *error;
  const auto configured = configure(*module, s);
  if (const auto* error = std::get_if<JsonError>(&configured)) return error->to_string();
  return std::nullopt;
}

FailoverResult run_failover(const FailoverSettings& settings) {
  LS_ASSERT_MSG(!check_failover_settings(settings), "check_failover_settings first");
  return run_failover(settings, *find_protocol(settings.protocol));
}

FailoverResult run_failover(const FailoverSettings& settings, const ProtocolModule& module) {
  const auto configured = configure(module, settings);
  LS_ASSERT_MSG(std::holds_alternative<ReplicaMaker>(configured), "check the protocol options");
  const ReplicaMaker maker = std::get<ReplicaMaker>(configured);

  FailoverResult result;
  std::vector<Nanos> times;
  FailoverSummary& sum = result.summary;
  for (std::uint32_t i = 0; i < settings.trials; ++i) {
    Trial trial(settings, module, maker, i);
    result.trials.push_back(trial.run());
    const FailoverTrial& row = result.trials.back();
    ++sum.trials;
    switch (row.outcome) {
      case TrialOutcome::failed_over:
        ++sum.failed_over;
        times.push_back(*row.failover);
        break;
      case TrialOutcome::timeout: ++sum.timeouts; break;
      case TrialOutcome::no_leader: ++sum.no_leader; break;
      case TrialOutcome::invalid: ++sum.invalid; break;
    }
  }
  if (!times.empty()) {
    std::sort(times.begin(), times.end());
    sum.min = times.front();
    sum.median = nearest_rank(times, 50);
    sum.p99 = nearest_rank(times, 99);
    sum.max = times.back();
  }
  return result;
}

namespace {

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string failover_csv(const FailoverResult& result) {
  std::string out =
      "trial,seed,outcome,crashed_leader,crashed_term,crash_at_ns,new_leader,new_term,"
      "failover_ns,failover_ms,events,detail\n";
  for (const FailoverTrial& t : result.trials) {
    const bool crashed = t.crashed_leader.has_value();
    out += fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{},{}\n", t.trial, t.seed, to_string(t.outcome),
        crashed ? std::to_string(t.crashed_leader->value) : "",
        crashed ? std::to_string(t.crashed_term) : "", crashed ? std::to_string(t.crash_at.count) : "",
        t.new_leader ? std::to_string(t.new_leader->value) : "",
        t.new_leader ? std::to_string(t.new_term) : "",
        t.failover ? std::to_string(t.failover->count) : "",
        t.failover ? fmt::format("{:.6f}", t.failover->millis()) : "", t.events,
        csv_field(t.detail));
  }
  return out;
}

}  // namespace lockstep::harness
