#include "harness/lock_linearizability.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/decimal.h"
#include "core/join.h"

namespace lockstep::harness {

using checkers::Operation;
using checkers::Outcome;
using checkers::Value;

checkers::History lock_service_history(const LockHistory& h) {
  checkers::History out;
  std::map<std::uint64_t, std::set<std::string>> locks_of;  // session -> locks it called
  // Built in place, in a vector sized for every call: growing it moved each operation (three
  // strings, the arguments, a value) about twice more.
  out.operations.reserve(h.calls.size());
  for (std::size_t i = 0; i < h.calls.size(); ++i) {
    const LockCall& c = h.calls[i];
    if (!c.model) continue;
    const ModelCall& m = *c.model;
    Operation& op = out.operations.emplace_back();
    op.process = c.client;
    op.key = m.path;
    op.f = m.f;
    op.args = m.args;
    op.call = c.invoked;
    // A call whose client died with it may have taken effect: open to the end.
    op.outcome = c.returned ? m.outcome : Outcome::unknown;
    op.result = op.outcome == Outcome::unknown ? Value{} : m.result;
    op.ret = op.outcome == Outcome::unknown ? Nanos::max() : *c.returned;
    // "client {} call {}", built without fmt or temporary strings: one per call of every run.
    op.origin.reserve(32);
    op.origin.append("client ");
    append_decimal(op.origin, c.client);
    op.origin.append(" call ");
    append_decimal(op.origin, i);
    if (checkers::is_lock_function(op.f)) {
      // The owner is the last argument of every lock function.
      locks_of[static_cast<std::uint64_t>(std::get<std::int64_t>(op.args.back()))].insert(op.key);
    }
  }
  for (const AppliedRecord& r : h.applied) {
    if (r.code != service::lock::Code::ok || r.from_record) continue;
    SessionId ended;
    if (const auto* e = std::get_if<service::lock::ExpireSession>(&r.command)) {
      ended = e->session;
    } else if (std::holds_alternative<service::lock::CloseSession>(r.command)) {
      ended = r.session;
    } else {
      continue;
    }
    const auto locks = locks_of.find(ended.value);
    if (locks == locks_of.end()) continue;
    for (const std::string& lock : locks->second) {
      Operation op;
      op.process = kServiceProcess;
      op.key = lock;
      op.f = "expire";
      op.args = {Value{static_cast<std::int64_t>(ended.value)}};
      op.call = op.ret = r.at;
      op.origin = fmt::format("log index {}", r.index);
      out.operations.push_back(std::move(op));
    }
  }
  // Stable by call time: sort (call, position) keys, then move each operation once, rather than
  // let a merge sort move whole operations (strings and argument vectors) around.
  std::vector<std::pair<Nanos, std::size_t>> order;
  order.reserve(out.operations.size());
  for (std::size_t i = 0; i < out.operations.size(); ++i) {
    order.emplace_back(out.operations[i].call, i);
  }
  if (!std::is_sorted(order.begin(), order.end())) {
    std::sort(order.begin(), order.end());
    std::vector<Operation> sorted;
    sorted.reserve(order.size());
    for (const auto& [call, i] : order) sorted.push_back(std::move(out.operations[i]));
    out.operations = std::move(sorted);
  }
  return out;
}

namespace {

std::string describe_call(const checkers::History& history, std::size_t index) {
  const Operation& op = history.operations[index];
  const std::string who =
      op.process == kServiceProcess ? std::string("the service") : fmt::format("client {}", op.process);
  return fmt::format("{} by {} ({} to {})", checkers::describe_operation(op, false), who,
                     checkers::describe_time(op.call, history.time_axis),
                     checkers::describe_time(op.ret, history.time_axis));
}

}  // namespace

LockCheck check_lock_linearizability(const checkers::History& history,
                                     std::uint64_t search_steps_max) {
  if (history.operations.empty()) {
    return LockCheck{Verdict::not_applicable, "no calls on locks or nodes were made"};
  }
  checkers::CheckOptions options;
  options.search_steps_max = search_steps_max;
  options.search_states_max = kRunSearchStatesMax;
  const checkers::CheckResult r =
      checkers::check_linearizability(history, checkers::ModelKind::lock_service, options);
  switch (r.verdict) {
    case checkers::Verdict::linearizable:
      return LockCheck{Verdict::pass,
                       fmt::format("{} calls on {} locks and nodes are linearizable ({} search steps)",
                                   history.operations.size(), r.keys, r.search_steps)};
    case checkers::Verdict::unknown:
      return LockCheck{Verdict::unknown,
                       fmt::format("the search gave up: {} ({} calls on {} locks and nodes)",
                                   r.stopped, history.operations.size(), r.keys)};
    case checkers::Verdict::not_linearizable: break;
  }
  if (!r.violation) {
    return LockCheck{Verdict::fail, fmt::format("{} is not linearizable ({})",
                                                checkers::describe_value(*r.failed_key), r.stopped)};
  }
  const checkers::Violation& v = *r.violation;
  std::string detail = fmt::format("{}: {} cannot be placed: it needed {}",
                                   checkers::describe_value(v.key), describe_call(history, v.operation),
                                   v.needed);
  if (!v.states.empty()) {
    detail += fmt::format("; it could have been placed only in: {}{}", join(v.states, "; "),
                          v.states_more > 0 ? fmt::format(" and {} more", v.states_more) : "");
  } else {
    detail += "; no order of the calls before it allows it";
  }
  return LockCheck{Verdict::fail, std::move(detail)};
}

}  // namespace lockstep::harness
