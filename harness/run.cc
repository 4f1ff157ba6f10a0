#include "harness/run.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/duration.h"
#include "core/join.h"
#include "harness/append_workload.h"
#include "harness/lock_linearizability.h"
#include "harness/lock_run.h"
#include "harness/nemesis.h"
#include "harness/protocols.h"
#include "harness/server_checker.h"
#include "service/append_log.h"
#include "service/replica_host.h"

namespace lockstep::harness {

LatencySummary summarize_latencies(std::vector<Nanos> latencies) {
  LatencySummary s;
  s.count = latencies.size();
  if (latencies.empty()) return s;
  std::sort(latencies.begin(), latencies.end());
  s.p50 = latencies[latencies.size() / 2];
  s.p99 = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
  s.max = latencies.back();
  return s;
}

PropertyOutcome judge_properties(const std::vector<PropertyVerdict>& verdicts,
                                 const std::optional<Property>& expected_violation, bool finished) {
  std::vector<std::string_view> failed;
  std::vector<std::string_view> undecided;
  bool expected_failed = false;
  for (const PropertyVerdict& v : verdicts) {
    if (v.verdict == Verdict::fail) {
      failed.push_back(property_name(v.property));
      expected_failed = expected_failed || v.property == expected_violation;
    }
    if (v.verdict == Verdict::unknown) undecided.push_back(property_name(v.property));
  }
  PropertyOutcome out;
  if (!failed.empty()) {
    out.observed = "violation of " + join(failed, ", ");
  } else if (!finished) {
    out.observed = "incomplete (event limit)";
  } else if (!undecided.empty()) {
    out.observed = fmt::format("undecided: {} unknown", join(undecided, ", "));
  } else {
    out.observed = "pass";
  }
  out.as_expected = expected_violation ? expected_failed
                                       : failed.empty() && undecided.empty() && finished;
  return out;
}

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::pass: return "pass";
    case Verdict::fail: return "FAIL";
    case Verdict::not_applicable: return "n/a";
    case Verdict::unknown: return "unknown";
  }
  return "?";
}

std::optional<std::string> check_protocols(const Scenario& scenario, std::string_view file_label) {
  for (const std::string& name : scenario.protocols) {
    const ProtocolModule* module = find_protocol(name);
    LS_ASSERT(module != nullptr);  // the scenario's names were checked against known_protocols()
    const auto it = scenario.protocol_options.find(name);
    const ProtocolOptions* options = it == scenario.protocol_options.end() ? nullptr : &it->second;
    const auto configured = module->configure(options);
    if (const auto* error = std::get_if<JsonError>(&configured)) {
      return format_error(file_label, *error);
    }
  }
  return std::nullopt;
}

namespace {

std::string leader_changes_text(std::uint64_t n) {
  return fmt::format("{} leader change{}", n, n == 1 ? "" : "s");
}

// " after 2s", or "" when every change counts.
std::string after_text(const Expectation& e) {
  return e.leader_changes_after > Nanos::zero()
             ? " after " + format_duration(e.leader_changes_after)
             : std::string();
}

// "at least 10 leader changes after 2s", "at most 1 leader change", "2..4 leader changes",
// "no leader change".
std::string leader_bounds_text(const Expectation& e) {
  const auto& min = e.leader_changes_min;
  const auto& max = e.leader_changes_max;
  std::string bounds;
  if (max == 0U) {
    bounds = "no leader change";
  } else if (min && max) {
    bounds = *min == *max ? fmt::format("exactly {}", leader_changes_text(*min))
                          : fmt::format("{}..{} leader changes", *min, *max);
  } else if (min) {
    bounds = "at least " + leader_changes_text(*min);
  } else {
    bounds = "at most " + leader_changes_text(*max);
  }
  return bounds + after_text(e);
}

LeadershipVerdict judge_leadership(const Expectation& e, std::uint64_t counted) {
  const bool within = (!e.leader_changes_min || counted >= *e.leader_changes_min) &&
                      (!e.leader_changes_max || counted <= *e.leader_changes_max);
  return LeadershipVerdict{
      within ? Verdict::pass : Verdict::fail, counted,
      fmt::format("{}{} (expected {})", leader_changes_text(counted), after_text(e),
                  leader_bounds_text(e))};
}

// Everything a run owns, so that the world's callbacks can refer to it by reference.
class Run {
 public:
  Run(const Scenario& scenario, const RunOptions& options)
      : scenario_(scenario),
        options_(options),
        expect_(scenario.expectation(options.protocol)),
        seed_(options.seed.value_or(scenario.seed)),
        world_(sim::WorldConfig{seed_, scenario.network, scenario.clocks, scenario.disk}) {}

  RunResult execute();

 private:
  void add_servers();
  void add_clients();
  service::ReplicaHost* host(std::uint32_t server);
  std::optional<NodeId> current_leader();
  void after_step(std::optional<NodeId> node);
  void check_durability_and_agreement();
  void check_liveness(Nanos healed_at);
  ClientStats client_stats() const;
  void verdict(Property p, Verdict v, std::string detail);

  void judge_counters(RunResult& result) const;
  void observe_servers(std::optional<NodeId> node);
  std::vector<CallRecord> call_records() const;

  const Scenario& scenario_;
  const RunOptions& options_;
  const Expectation& expect_;  // the scenario's, or its override for this protocol
  const std::uint64_t seed_;
  // Lock-service workloads only. Before the world: the world's processes (fibers unwinding,
  // observers) use it until the world is gone.
  std::unique_ptr<LockRun> lock_;
  // Before the world too: the world's trace taps it until the run detaches it.
  std::unique_ptr<TimelineRecorder> recorder_;
  sim::World world_;
  std::optional<ServerChecker> checker_;
  std::vector<consensus::RoleChange> roles_seen_;    // each server's role after its last step
  std::uint64_t steps_checked_ = 0;
  std::optional<consensus::Violation> violation_;
  std::optional<std::pair<NodeId, std::uint64_t>> leader_;  // (leader, term) last seen
  std::uint64_t leader_changes_ = 0;
  std::uint64_t leader_changes_counted_ = 0;  // at or after expect.leader_changes_after
  AppendHistory history_;
  std::map<Property, PropertyVerdict> verdicts_;
};

service::ReplicaHost* Run::host(std::uint32_t server) {
  // Servers are the first nodes and always run a ReplicaHost; nullptr while crashed.
  return static_cast<service::ReplicaHost*>(world_.process(NodeId{server}));
}

void Run::add_servers() {
  const ProtocolModule* module = find_protocol(options_.protocol);
  LS_ASSERT(module != nullptr);
  const auto it = scenario_.protocol_options.find(options_.protocol);
  const auto configured =
      module->configure(it == scenario_.protocol_options.end() ? nullptr : &it->second);
  LS_ASSERT_MSG(std::holds_alternative<ReplicaMaker>(configured), "check_protocols first");
  const ReplicaMaker maker = std::get<ReplicaMaker>(configured);
  checker_.emplace(scenario_.nodes, module->make_checker());
  std::vector<NodeId> members;
  for (std::uint32_t i = 0; i < scenario_.nodes; ++i) members.push_back(NodeId{i});
  for (std::uint32_t i = 0; i < scenario_.nodes; ++i) {
    world_.add_node(fmt::format("server{}", i), [this, maker, members](NodeId) -> std::unique_ptr<Process> {
      service::ReplicaFactory replica = [maker, members](NodeId self, std::uint64_t seed) {
        return maker(self, members, seed);
      };
      if (lock_) return lock_->make_server(std::move(replica));
      return std::make_unique<service::ReplicaHost>(
          std::move(replica), [] { return std::make_unique<service::AppendLog>(); });
    });
  }
}

void Run::add_clients() {
  if (lock_) {
    lock_->add_nodes();
    return;
  }
  std::uint32_t index = 0;
  for (const ClientGroup& group : scenario_.clients) {
    const auto* append = std::get_if<AppendWorkload>(&group.workload);
    LS_ASSERT(append != nullptr);  // the loader keeps workload kinds apart
    AppendClientSettings settings{scenario_.nodes, *append, group.request_timeout, group.start,
                                  std::min(group.stop.value_or(scenario_.duration),
                                           scenario_.duration)};
    for (std::uint32_t c = 0; c < group.count; ++c, ++index) {
      world_.add_node(fmt::format("client{}", index), [this, settings](NodeId) {
        return std::make_unique<sim::FiberHost>(std::vector<sim::FiberBody>{
            append_client(settings, [this] { return world_.now(); }, &history_)});
      });
    }
  }
}

std::optional<NodeId> Run::current_leader() {
  std::optional<NodeId> leader;
  std::uint64_t term = 0;
  for (std::uint32_t i = 0; i < scenario_.nodes; ++i) {
    service::ReplicaHost* h = host(i);
    if (h == nullptr || world_.is_paused(NodeId{i})) continue;
    const consensus::RoleChange& role = h->role();
    if (role.role == consensus::Role::leader && (!leader || role.term > term)) {
      leader = NodeId{i};
      term = role.term;
    }
  }
  return leader;
}

void Run::after_step(std::optional<NodeId> node) {
  if (node && node->value >= scenario_.nodes) return;  // a client's step: no server changed
  ++steps_checked_;
  if (auto violation = checker_->after_step(world_, node)) {
    violation_ = std::move(violation);
    world_.request_stop();
    return;
  }
  if (recorder_) observe_servers(node);
  // Who leads changes only with some server's role: after a step on one server whose role is
  // what it was, the leader is too.
  if (node) {
    const service::ReplicaHost* h = host(node->value);
    const consensus::RoleChange now = h == nullptr ? consensus::RoleChange{} : h->role();
    consensus::RoleChange& before = roles_seen_[node->value];
    const bool same = before.role == now.role && before.term == now.term && before.leader == now.leader;
    before = now;
    if (same) return;
  } else {
    for (std::uint32_t i = 0; i < scenario_.nodes; ++i) {
      const service::ReplicaHost* h = host(i);
      roles_seen_[i] = h == nullptr ? consensus::RoleChange{} : h->role();
    }
  }
  if (const auto l = current_leader()) {
    const std::uint64_t term = host(l->value)->role().term;
    if (!leader_ || leader_->first != *l || leader_->second != term) {
      if (leader_) {
        ++leader_changes_;
        if (world_.now() >= expect_.leader_changes_after) ++leader_changes_counted_;
      }
      leader_ = std::make_pair(*l, term);
    }
  }
}

void Run::observe_servers(std::optional<NodeId> node) {
  const auto observe = [this](std::uint32_t i) {
    const service::ReplicaHost* h = host(i);
    recorder_->observe_server(i, h != nullptr, h == nullptr ? consensus::RoleChange{} : h->role(),
                              h == nullptr ? 0 : h->applied_index());
  };
  if (node) {
    observe(node->value);
  } else {
    for (std::uint32_t i = 0; i < scenario_.nodes; ++i) observe(i);
  }
}

std::vector<CallRecord> Run::call_records() const {
  std::vector<CallRecord> out;
  if (lock_) {
    for (const LockCall& call : lock_->history().calls) {
      const CallResult result = !call.returned ? CallResult::unknown
                                : call.ok      ? CallResult::ok
                                               : CallResult::failed;
      out.push_back(CallRecord{call.client, call.op, call.invoked, call.returned, result,
                               call.waits});
    }
  } else {
    for (const AppendCall& call : history_.calls) {
      out.push_back(CallRecord{static_cast<std::uint32_t>(call.client), "append", call.invoked,
                               call.returned,
                               call.outcome == CallOutcome::ok ? CallResult::ok
                                                               : CallResult::unknown,
                               false});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const CallRecord& a, const CallRecord& b) {
    return a.invoked < b.invoked;
  });
  return out;
}

void Run::verdict(Property p, Verdict v, std::string detail) {
  verdicts_[p] = PropertyVerdict{p, v, std::move(detail)};
}

void Run::check_durability_and_agreement() {
  // Every acknowledged append must sit at the index it was acknowledged at, on every replica
  // that has applied that far; and replicas must agree wherever both have applied.
  std::vector<std::pair<std::uint32_t, const service::AppendLog*>> logs;
  for (std::uint32_t i = 0; i < scenario_.nodes; ++i) {
    if (service::ReplicaHost* h = host(i)) {
      logs.emplace_back(i, static_cast<const service::AppendLog*>(&h->state_machine()));
    }
  }
  // The acknowledged calls in index order (ties in history order), so that each server's log is
  // walked once instead of searched per call. What is reported is what a scan in history order,
  // server by server, would find first: the failure with the least (call, server) position.
  std::vector<std::size_t> acked;
  for (std::size_t i = 0; i < history_.calls.size(); ++i) {
    if (history_.calls[i].outcome == CallOutcome::ok) acked.push_back(i);
  }
  std::stable_sort(acked.begin(), acked.end(), [this](std::size_t a, std::size_t b) {
    return history_.calls[a].index < history_.calls[b].index;
  });
  std::optional<std::pair<std::size_t, std::size_t>> first_failure;  // (call, position in logs)
  for (std::size_t s = 0; s < logs.size(); ++s) {
    const auto& entries = logs[s].second->entries();
    std::size_t at = 0;
    for (const std::size_t i : acked) {
      const AppendCall& call = history_.calls[i];
      if (entries.empty() || entries.back().index < call.index) break;  // not applied that far
      while (entries[at].index < call.index) ++at;
      const service::AppendLog::Entry& e = entries[at];
      if (e.index != call.index || e.client != call.client || e.request != call.request) {
        first_failure = std::min(first_failure.value_or(std::pair{i, s}), std::pair{i, s});
      }
    }
  }
  if (first_failure) {
    const AppendCall& call = history_.calls[first_failure->first];
    const auto& [server, log] = logs[first_failure->second];
    const auto& entries = log->entries();
    const auto it = std::lower_bound(
        entries.begin(), entries.end(), call.index,
        [](const service::AppendLog::Entry& e, std::uint64_t index) { return e.index < index; });
    verdict(Property::durability, Verdict::fail,
            fmt::format("client {} request {} was acknowledged at index {}, but server {} "
                        "has {} there",
                        call.client, call.request, call.index, server,
                        it->index == call.index
                            ? fmt::format("client {} request {}", it->client, it->request)
                            : std::string("nothing")));
    return;
  }
  for (std::size_t a = 0; a + 1 < logs.size(); ++a) {
    const auto& x = logs[a].second->entries();
    const auto& y = logs[a + 1].second->entries();
    const std::size_t common = std::min(x.size(), y.size());
    for (std::size_t k = 0; k < common; ++k) {
      if (x[k] != y[k]) {
        verdict(Property::durability, Verdict::fail,
                fmt::format("servers {} and {} disagree at their entry {}: index {} vs index {}",
                            logs[a].first, logs[a + 1].first, k + 1, x[k].index, y[k].index));
        return;
      }
    }
  }
  verdict(Property::durability, Verdict::pass,
          fmt::format("{} acknowledged appends in place on every server that applied them; "
                      "servers' logs agree",
                      acked.size()));
}

void Run::check_liveness(Nanos healed_at) {
  const Nanos bound = scenario_.checks.liveness_bound;
  std::uint64_t pending_at_heal = 0;
  for (const AppendCall& call : history_.calls) {
    const bool pending = call.invoked <= healed_at && (!call.returned || *call.returned > healed_at);
    if (!pending) continue;
    ++pending_at_heal;
    if (!call.returned || *call.returned > healed_at + bound) {
      verdict(Property::liveness, Verdict::fail,
              fmt::format("client {} request {} (invoked at {}) was still pending {} after the "
                          "final heal at {}",
                          call.client, call.request, format_duration(call.invoked),
                          format_duration(bound), format_duration(healed_at)));
      return;
    }
  }
  verdict(Property::liveness, Verdict::pass,
          fmt::format("{} calls pending at the final heal ({}) all finished within {}",
                      pending_at_heal, format_duration(healed_at), format_duration(bound)));
}

ClientStats Run::client_stats() const {
  ClientStats stats;
  for (const ClientGroup& g : scenario_.clients) stats.clients += g.count;
  std::vector<Nanos> latencies;
  for (const AppendCall& call : history_.calls) {
    ++stats.calls;
    if (call.outcome == CallOutcome::ok) {
      ++stats.ok;
      latencies.push_back(*call.returned - call.invoked);
    } else {
      ++stats.unknown;
    }
  }
  const LatencySummary all = summarize_latencies(std::move(latencies));
  stats.latency_p50 = all.p50;
  stats.latency_p99 = all.p99;
  stats.latency_max = all.max;
  return stats;
}

RunResult Run::execute() {
  if (options_.trace_sink != nullptr) world_.trace().set_sink(options_.trace_sink);
  world_.set_event_limit(scenario_.event_limit);
  if (scenario_.runs_lock_service()) lock_ = std::make_unique<LockRun>(scenario_, world_);
  add_servers();
  roles_seen_.assign(scenario_.nodes, consensus::RoleChange{});
  add_clients();
  if (options_.collect_timeline) {
    recorder_ = std::make_unique<TimelineRecorder>(world_, scenario_.nodes, options_.protocol,
                                                   options_.window_events);
    world_.trace().set_tap(recorder_.get());
  }
  FaultInjector injector(world_, scenario_.nodes, [this] { return current_leader(); },
                         world_.derive_rng(kFaultStream));
  if (lock_) {
    injector.set_clients(lock_->first_client(), lock_->clients(),
                         [this](NodeSelector::Kind kind) { return lock_->pick(kind); });
  }
  injector.schedule(scenario_.faults);
  NemesisDriver nemesis(scenario_.nemesis, injector, world_.derive_rng("nemesis"),
                        scenario_.duration);
  nemesis.start();
  world_.set_step_observer([this](std::optional<NodeId> node) { after_step(node); });

  RunResult result;
  result.stop = world_.run_until(scenario_.duration);
  const Nanos healed_at = world_.now();
  if (result.stop == sim::StopReason::time_reached) {
    if (!scenario_.faults.empty() || scenario_.nemesis.enabled) injector.heal_all();
    result.stop = world_.run_until(scenario_.duration + scenario_.checks.liveness_bound);
  }

  const std::vector<std::string> names = checker_->checker().properties();
  std::string all_names;
  for (const auto& n : names) all_names += (all_names.empty() ? "" : ", ") + n;
  const LockRun::HostOf host_of = [this](std::uint32_t i) { return host(i); };
  const std::vector<std::string> service_broken =
      lock_ ? lock_->service_invariants(host_of) : std::vector<std::string>{};
  if (violation_) {
    verdict(Property::invariants, Verdict::fail,
            fmt::format("{} at {}: {}", violation_->property, format_duration(world_.now()),
                        violation_->detail));
  } else if (!service_broken.empty()) {
    verdict(Property::invariants, Verdict::fail,
            fmt::format("lock service at the end: {}", service_broken.front()));
  } else {
    verdict(Property::invariants, Verdict::pass,
            fmt::format("{} held after each of {} server events{}", all_names, steps_checked_,
                        lock_ ? "; the lock service's on every live server at the end" : ""));
  }
  const bool finished = result.stop == sim::StopReason::time_reached;
  if (!finished) {
    const std::string why = result.stop == sim::StopReason::stopped
                                ? "not checked: the run stopped at the invariant violation"
                                : "not checked: the run hit its event limit";
    verdict(Property::durability, Verdict::not_applicable, why);
    verdict(Property::liveness, Verdict::not_applicable, why);
  }
  if (lock_) {
    lock_->judge(finished, healed_at, host_of, verdicts_);
  } else {
    if (finished) {
      check_durability_and_agreement();
      check_liveness(healed_at);
    }
    for (Property p : {Property::linearizability, Property::mutual_exclusion, Property::fencing,
                       Property::session_safety, Property::at_most_once, Property::watch_delivery,
                       Property::lock_handoff}) {
      verdict(p, Verdict::not_applicable, "the append workload has no reads or locks to judge");
    }
  }

  result.scenario = scenario_.name;
  result.protocol = options_.protocol;
  result.seed = seed_;
  result.duration = scenario_.duration;
  result.simulated = world_.now();
  result.events = world_.stats().events;
  result.messages_sent = world_.stats().messages_sent;
  result.messages_delivered = world_.stats().messages_delivered;
  result.bytes_sent = world_.stats().bytes_sent;
  result.trace_hash = world_.trace().hash();
  result.leader_changes = leader_changes_;
  result.crashes_in_sync_window = world_.stats().crashes_cutting_syncs;
  result.unsynced_bytes_lost = world_.stats().unsynced_bytes_lost;
  result.messages_lost_in_crash = world_.stats().messages_lost_in_crash;
  result.crashes_losing_unsynced = world_.stats().crashes_losing_unsynced;
  result.torn_tails = world_.stats().torn_tails;
  result.faults = injector.log();
  result.faults_applied = injector.applied();
  if (scenario_.nemesis.enabled) result.nemesis = nemesis.describe();
  result.clients = lock_ ? lock_->client_stats() : client_stats();
  if (lock_) result.history = lock_service_history(lock_->history());
  if (recorder_) {
    world_.trace().set_tap(nullptr);
    result.timeline = recorder_->finish(
        scenario_.duration, world_.now(), call_records(),
        violation_ ? std::optional<Nanos>(world_.now()) : std::nullopt);
  }

  for (Property p : scenario_.checks.properties) {
    const auto it = verdicts_.find(p);
    LS_ASSERT(it != verdicts_.end());
    result.properties.push_back(it->second);
  }
  result.expected = expect_.violation
                        ? fmt::format("violation of {}", property_name(*expect_.violation))
                        : "pass";
  PropertyOutcome outcome =
      judge_properties(result.properties, expect_.violation, finished);
  result.observed = std::move(outcome.observed);
  result.as_expected = outcome.as_expected;
  if (expect_.bounds_leader_changes()) {
    result.leadership = judge_leadership(expect_, leader_changes_counted_);
    result.expected += ", " + leader_bounds_text(expect_);
    result.observed += ", " + leader_changes_text(leader_changes_counted_) +
                       after_text(expect_);
    result.as_expected = result.as_expected && result.leadership->verdict == Verdict::pass;
  }
  if (const auto lost = expect_.unsynced_tail_lost) {
    const std::uint64_t crashes = result.crashes_in_sync_window;
    result.expected += *lost ? ", a crash inside a sync window" : ", no crash inside a sync window";
    result.observed += fmt::format(", {} crash{} inside a sync window", crashes,
                                   crashes == 1 ? "" : "es");
    result.as_expected = result.as_expected && (crashes > 0) == *lost;
  }
  if (expect_.bounds_counters()) judge_counters(result);
  return result;
}

// ", at least 1 sessions_expired" / ", 2 sessions_expired": the counters the scenario bounds.
void Run::judge_counters(RunResult& result) const {
  LS_ASSERT(lock_ != nullptr);  // the loader allows counters in lock runs only
  const std::map<Counter, std::uint64_t> counted = lock_->counters();
  std::set<Counter> bounded;
  for (const auto& [c, n] : expect_.at_least) {
    bounded.insert(c);
    result.expected += fmt::format(", at least {} {}", n, counter_name(c));
    result.as_expected = result.as_expected && counted.at(c) >= n;
  }
  for (const auto& [c, n] : expect_.at_most) {
    bounded.insert(c);
    result.expected += fmt::format(", at most {} {}", n, counter_name(c));
    result.as_expected = result.as_expected && counted.at(c) <= n;
  }
  for (Counter c : bounded) result.observed += fmt::format(", {} {}", counted.at(c), counter_name(c));
}

}  // namespace

RunResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  Run run(scenario, options);
  return run.execute();
}

}  // namespace lockstep::harness
