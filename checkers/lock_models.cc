#include "checkers/lock_models.h"

#include <algorithm>

#include <fmt/format.h>

#include "checkers/model_support.h"
#include "core/assert.h"
#include "core/join.h"

namespace lockstep::checkers {

namespace {

using namespace model_support;

bool is_int(const Value& v) { return std::holds_alternative<std::int64_t>(v); }
bool is_owner(const Value& v) { return is_int(v) && std::get<std::int64_t>(v) >= 0; }
bool is_mode(const Value& v) {
  return is_string(v) && (std::get<std::string>(v) == "exclusive" || std::get<std::string>(v) == "shared");
}

// The error a failed call carries in its result ("not_held"), or "" when it names none.
// A view into `op`: compile reads it once per call, and a copy was an allocation each time.
std::string_view failure(const Operation& op, Outcome outcome) {
  if (outcome != Outcome::failed || !is_string(op.result)) return {};
  return std::get<std::string>(op.result);
}

// A failed call may name its error as a string result; an ok or unknown one follows `ok_result`.
std::optional<OperationProblem> check_result(const Operation& op, bool int_result_allowed,
                                             bool string_result_allowed, std::string_view what) {
  if (is_nil(op.result)) return std::nullopt;
  if (op.outcome == Outcome::failed) {
    if (is_string(op.result)) return std::nullopt;
    return problem("result", fmt::format("the error as a string, or nil, for a failed {}", op.f));
  }
  if (int_result_allowed && is_int(op.result)) return std::nullopt;
  if (string_result_allowed && is_string(op.result)) return std::nullopt;
  return problem("result", fmt::format("{} for {}", what, op.f));
}

}  // namespace

// ---- lock ---------------------------------------------------------------------------------------

LockModel::LockModel(std::string key) : key_(std::move(key)) { intern(Holders{}); }

std::optional<OperationProblem> LockModel::check(const Operation& op) {
  if (op.f == "acquire" || op.f == "try_acquire") {
    if (op.args.size() != 2 || !is_mode(op.args[0]) || !is_owner(op.args[1])) {
      return problem("args", fmt::format("[mode owner] (\"exclusive\" or \"shared\", an integer >= 0) for {}", op.f));
    }
    return check_result(op, true, false, "the generation granted (an integer)");
  }
  if (op.f == "campaign" || op.f == "release" || op.f == "resign" || op.f == "expire") {
    if (op.args.size() != 1 || !is_owner(op.args[0])) {
      return problem("args", fmt::format("[owner] (an integer >= 0) for {}", op.f));
    }
    return check_result(op, op.f == "campaign", false,
                        op.f == "campaign" ? "the generation granted (an integer)" : "nil");
  }
  return problem("f", "one of acquire, try_acquire, campaign, release, resign, expire");
}

LockModel::State LockModel::intern(Holders holders) {
  const auto [it, inserted] = ids_.try_emplace(holders, static_cast<State>(states_.size()));
  if (inserted) states_.push_back(std::move(holders));
  return it->second;
}

Compiled<LockModel::Op> LockModel::compile(const Operation& op, Outcome outcome) {
  LS_ASSERT_MSG(!check(op).has_value(), op.f);
  using Code = Op::Code;
  const bool grant = op.f == "acquire" || op.f == "try_acquire" || op.f == "campaign";
  const Value& owner_value = grant && op.f != "campaign" ? op.args[1] : op.args[0];
  Op out;
  out.owner = static_cast<std::uint64_t>(std::get<std::int64_t>(owner_value));
  if (grant) {
    out.shared = op.f != "campaign" && std::get<std::string>(op.args[0]) == "shared";
    // A refused acquire (busy, lock-delay, already held or waiting, cancelled) changed nothing;
    // what it saw depends on waiters and lock-delay, which the model leaves out.
    if (outcome == Outcome::failed) return {};
    if (outcome == Outcome::unknown || !is_int(op.result)) {
      out.code = Code::grant_unknown;
      return {out, Role::update};
    }
    out.code = Code::grant;
    out.generation = static_cast<std::uint64_t>(std::get<std::int64_t>(op.result));
    return {out, Role::update};
  }
  if (op.f == "expire") {
    if (outcome == Outcome::failed) return {};
    out.code = Code::release_maybe;
    return {out, Role::update};
  }
  switch (outcome) {
    case Outcome::ok: out.code = Code::release; return {out, Role::update};
    case Outcome::unknown: out.code = Code::release_maybe; return {out, Role::update};
    case Outcome::failed:
      if (failure(op, outcome) != "not_held") return {};
      out.code = Code::not_held;
      return {out, Role::observe};
  }
  return {};
}

bool LockModel::step(State state, const Op& op, State& next) {
  const Holders& now = states_[state];
  const auto held = std::find_if(now.owners.begin(), now.owners.end(),
                                 [&](const auto& h) { return h.first == op.owner; });
  const bool holds = held != now.owners.end();
  next = state;
  switch (op.code) {
    case Op::Code::grant:
    case Op::Code::grant_unknown: {
      const bool compatible =
          !holds && (op.shared ? std::all_of(now.owners.begin(), now.owners.end(),
                                             [](const auto& h) { return h.second; })
                               : now.owners.empty());
      const bool fresh = op.generation > now.generation;
      if (op.code == Op::Code::grant && !(compatible && fresh)) return false;
      if (!compatible) return true;  // an unknown grant not granted here
      Holders after = now;
      after.owners.emplace_back(op.owner, op.shared);
      std::sort(after.owners.begin(), after.owners.end());
      after.generation = std::max(now.generation, op.generation);
      next = intern(std::move(after));
      return true;
    }
    case Op::Code::release:
    case Op::Code::release_maybe: {
      if (!holds) return op.code == Op::Code::release_maybe;
      Holders after = now;
      after.owners.erase(after.owners.begin() + (held - now.owners.begin()));
      next = intern(std::move(after));
      return true;
    }
    case Op::Code::not_held: return !holds;
  }
  return false;
}

std::string LockModel::describe_state(State state) const {
  const Holders& h = states_[state];
  std::vector<std::string> owners;
  for (const auto& [owner, shared] : h.owners) {
    owners.push_back(fmt::format("{}{}", owner, shared ? " (shared)" : ""));
  }
  const std::string held = owners.empty() ? "free" : fmt::format("held by {}", join(owners, ", "));
  if (h.generation == 0) return held;
  return fmt::format("{}, last generation {}", held, h.generation);
}

std::string LockModel::describe_need(const Op& op) const {
  const std::string name = fmt::format("lock {}", describe_value(key_));
  switch (op.code) {
    case Op::Code::grant:
      return fmt::format("{} to be {} and its last generation below {}", name,
                         op.shared ? "free or held shared by others" : "free", op.generation);
    case Op::Code::release: return fmt::format("{} to be held by {}", name, op.owner);
    case Op::Code::not_held: return fmt::format("{} not to be held by {}", name, op.owner);
    case Op::Code::grant_unknown:
    case Op::Code::release_maybe: break;
  }
  return "nothing (it fits any state)";
}

// ---- namespace ----------------------------------------------------------------------------------

NamespaceModel::NamespaceModel(std::string key) : key_(std::move(key)), contents_(Value{std::string()}) {
  intern(Node{});
}

std::optional<OperationProblem> NamespaceModel::check(const Operation& op) {
  // Compared as a string_view: std::string's == with a literal is an out-of-line compare with a
  // strlen, and every call of a lock-service history is checked (twice: compile asserts it).
  const std::string_view f = op.f;
  const auto content_args = [&](std::size_t n, std::string_view expected) -> std::optional<OperationProblem> {
    const bool fits = op.args.size() == n && (n == 0 || is_string(op.args[0])) &&
                      (n < 2 || (is_int(op.args[1]) && std::get<std::int64_t>(op.args[1]) >= 0));
    if (!fits) return problem("args", fmt::format("{} for {}", expected, op.f));
    return std::nullopt;
  };
  if (f == "create" || f == "delete") {
    const bool create = f == "create";
    if (auto p = content_args(create ? 1 : 0, create ? "[content] (a string)" : "no arguments")) {
      return p;
    }
    return check_result(op, false, false, "nil");
  }
  if (f == "get") {
    if (auto p = content_args(0, "no arguments")) return p;
    return check_result(op, false, true, "the content (a string)");
  }
  if (f == "set") {
    if (auto p = content_args(1, "[content] (a string)")) return p;
    return check_result(op, true, false, "the new version (an integer)");
  }
  if (f == "cas") {
    if (auto p = content_args(2, "[content expected_version] (a string, an integer >= 0)")) return p;
    return check_result(op, true, false, "the new version (an integer)");
  }
  return problem("f", "one of create, get, set, cas, delete");
}

NamespaceModel::State NamespaceModel::intern(Node node) {
  const auto [it, inserted] = ids_.try_emplace(node, static_cast<State>(states_.size()));
  if (inserted) states_.push_back(node);
  return it->second;
}

Compiled<NamespaceModel::Op> NamespaceModel::compile(const Operation& op, Outcome outcome) {
  LS_ASSERT_MSG(!check(op).has_value(), op.f);
  using Code = Op::Code;
  const std::string_view f = op.f;  // as in check()
  Op out;
  if (outcome == Outcome::failed) {
    const std::string_view error = failure(op, outcome);
    if (error == "no_node") return {Op{Code::absent, 0, -1, 0}, Role::observe};
    if (error == "node_exists" && f == "create") return {Op{Code::exists, 0, -1, 0}, Role::observe};
    if (error == "version_mismatch" && f == "cas") {
      return {Op{Code::cas_mismatch, 0, -1, static_cast<std::uint64_t>(std::get<std::int64_t>(op.args[1]))},
              Role::observe};
    }
    return {};
  }
  const bool ok = outcome == Outcome::ok;
  if (f == "get") {
    if (!ok) return {};
    // The result interned where it is, not copied first.
    const std::uint32_t content =
        is_nil(op.result) ? contents_.intern(Value{std::string()}) : contents_.intern(op.result);
    return {Op{Code::get, content, -1, 0}, Role::observe};
  }
  if (f == "delete") return {Op{ok ? Code::remove : Code::remove_maybe, 0, -1, 0}, Role::update};
  out.content = contents_.intern(op.args[0]);
  if (ok && is_int(op.result)) out.version = std::get<std::int64_t>(op.result);
  if (f == "create") {
    out.code = ok ? Code::create : Code::create_maybe;
    return {out, Role::update};
  }
  if (f == "set") {
    out.code = ok ? Code::set : Code::set_maybe;
    return {out, Role::update};
  }
  out.code = ok ? Code::cas : Code::cas_maybe;
  out.expected = static_cast<std::uint64_t>(std::get<std::int64_t>(op.args[1]));
  return {out, Role::update};
}

bool NamespaceModel::step(State state, const Op& op, State& next) {
  const Node now = states_[state];
  next = state;
  const auto write = [&](std::uint32_t content) {
    const Node after{true, now.version + 1, content};
    if (op.version >= 0 && static_cast<std::uint64_t>(op.version) != after.version) return false;
    next = intern(after);
    return true;
  };
  switch (op.code) {
    case Op::Code::create:
    case Op::Code::create_maybe:
      if (now.exists) return op.code == Op::Code::create_maybe;
      next = intern(Node{true, 0, op.content});
      return true;
    case Op::Code::exists: return now.exists;
    case Op::Code::absent: return !now.exists;
    case Op::Code::get: return now.exists && now.content == op.content;
    case Op::Code::set: return now.exists && write(op.content);
    case Op::Code::set_maybe: return !now.exists || write(op.content);
    case Op::Code::cas: return now.exists && now.version == op.expected && write(op.content);
    case Op::Code::cas_maybe:
      return !now.exists || now.version != op.expected || write(op.content);
    case Op::Code::cas_mismatch: return now.exists && now.version != op.expected;
    case Op::Code::remove:
    case Op::Code::remove_maybe:
      if (!now.exists) return op.code == Op::Code::remove_maybe;
      next = intern(Node{});
      return true;
  }
  return false;
}

std::string NamespaceModel::describe_state(State state) const {
  const Node& n = states_[state];
  if (!n.exists) return "absent";
  return fmt::format("{} at version {}", describe_value(contents_.value(n.content)), n.version);
}

std::string NamespaceModel::describe_need(const Op& op) const {
  const std::string name = fmt::format("node {}", describe_value(key_));
  const std::string version =
      op.version >= 0 ? fmt::format(" at version {}", op.version - 1) : std::string();
  switch (op.code) {
    case Op::Code::create: return fmt::format("{} to be absent", name);
    case Op::Code::exists:
    case Op::Code::remove: return fmt::format("{} to exist", name);
    case Op::Code::absent: return fmt::format("{} to be absent", name);
    case Op::Code::get:
      return fmt::format("{} to hold {}", name, describe_value(contents_.value(op.content)));
    case Op::Code::set: return fmt::format("{} to exist{}", name, version);
    case Op::Code::cas: return fmt::format("{} to exist at version {}", name, op.expected);
    case Op::Code::cas_mismatch:
      return fmt::format("{} to exist at a version other than {}", name, op.expected);
    case Op::Code::create_maybe:
    case Op::Code::set_maybe:
    case Op::Code::cas_maybe:
    case Op::Code::remove_maybe: break;
  }
  return "nothing (it fits any state)";
}

}  // namespace lockstep::checkers
