// The lock service's models under the checker against a brute force on random small histories
// (STYLE.md 11), as lincheck_property_test.cc does for the register and kv models. The lock: up
// to 7 calls of acquire (exclusive or shared, ok with a generation, failed, or unknown), release
// (ok, failed not_held, or unknown) and expire, by 3 owners on one lock. The namespace: create,
// get, set, cas and delete on one node, with versions and the errors the service answers. The
// brute force shares no code with the models: it tries every real-time order, each unknown call
// placed somewhere after its call or left out, against a plain lock (a map of holders and the
// last generation) or a plain node (present, version, content).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

#include "checkers/linearizability.h"

namespace lockstep::checkers {
namespace lock_model_property_test {
namespace {

constexpr std::size_t kCallsMax = 7;
constexpr int kHistoriesPerCase = 20;

struct PlainLock {
  std::map<std::int64_t, bool> holders;  // owner -> shared
  std::int64_t generation = 0;
};

std::int64_t owner_of(const Operation& op) { return std::get<std::int64_t>(op.args.back()); }

// Whether a call can matter: failed acquires change nothing and observe nothing here, failed
// releases observe only when the error is not_held.
bool participates(const Operation& op) {
  if (op.outcome != Outcome::failed) return true;
  return op.f == "release" && op.result == Value{std::string("not_held")};
}

// Applies `op` at this point; false when it cannot happen here.
bool apply(PlainLock& lock, const Operation& op) {
  const std::int64_t owner = owner_of(op);
  const bool holds = lock.holders.contains(owner);
  if (op.f == "acquire") {
    const bool shared = std::get<std::string>(op.args[0]) == "shared";
    bool compatible = !holds;
    for (const auto& [other, other_shared] : lock.holders) {
      if (!shared || !other_shared) compatible = false;
    }
    if (op.outcome == Outcome::unknown) {
      if (compatible) lock.holders[owner] = shared;
      return true;
    }
    const std::int64_t generation = std::get<std::int64_t>(op.result);
    if (!compatible || generation <= lock.generation) return false;
    lock.holders[owner] = shared;
    lock.generation = generation;
    return true;
  }
  if (op.outcome == Outcome::failed) return !holds;  // release failed not_held
  if (op.f == "release" && op.outcome == Outcome::ok && !holds) return false;
  lock.holders.erase(owner);
  return true;
}

struct LockRules {
  using State = PlainLock;
  static bool participates(const Operation& op) {
    return lock_model_property_test::participates(op);
  }
  static bool apply(PlainLock& lock, const Operation& op) {
    return lock_model_property_test::apply(lock, op);
  }
};

struct PlainNode {
  bool exists = false;
  std::int64_t version = 0;
  std::string content;
};

std::string error_of(const Operation& op) {
  return op.outcome == Outcome::failed && std::holds_alternative<std::string>(op.result)
             ? std::get<std::string>(op.result)
             : std::string();
}

struct NodeRules {
  using State = PlainNode;
  // Failures observe only as no_node, node_exists (create) and version_mismatch (cas); gets
  // whose outcome is unknown observed nothing.
  static bool participates(const Operation& op) {
    if (op.outcome == Outcome::failed) {
      const std::string e = error_of(op);
      return e == "no_node" || (e == "node_exists" && op.f == "create") ||
             (e == "version_mismatch" && op.f == "cas");
    }
    return !(op.outcome == Outcome::unknown && op.f == "get");
  }
  static bool apply(PlainNode& node, const Operation& op) {
    const std::string e = error_of(op);
    if (e == "no_node") return !node.exists;
    if (e == "node_exists") return node.exists;
    const bool unknown = op.outcome == Outcome::unknown;
    const auto write = [&](const Value& content) {
      if (!unknown && std::holds_alternative<std::int64_t>(op.result) &&
          std::get<std::int64_t>(op.result) != node.version + 1) {
        return false;
      }
      node.version += 1;
      node.content = std::get<std::string>(content);
      return true;
    };
    if (op.f == "get") return node.exists && Value{node.content} == op.result;
    if (op.f == "create") {
      if (node.exists) return unknown;
      node = PlainNode{true, 0, std::get<std::string>(op.args[0])};
      return true;
    }
    if (op.f == "delete") {
      if (!node.exists) return unknown;
      node = PlainNode{};
      return true;
    }
    if (op.f == "set") return node.exists ? write(op.args[0]) : unknown;
    // cas
    const bool matches = node.exists && node.version == std::get<std::int64_t>(op.args[1]);
    if (e == "version_mismatch") return node.exists && !matches;
    return matches ? write(op.args[0]) : unknown;
  }
};

template <typename Rules>
class BruteForce {
 public:
  using State = typename Rules::State;
  explicit BruteForce(const std::vector<Operation>& ops) {
    for (const Operation& op : ops) {
      if (Rules::participates(op)) calls_.push_back(&op);
    }
  }
  bool linearizable() {
    std::vector<bool> placed(calls_.size(), false);
    return search(placed, State{});
  }

 private:
  static bool open(const Operation* op) { return op->outcome == Outcome::unknown; }
  static bool precedes(const Operation* a, const Operation* b) { return !open(a) && a->ret < b->call; }

  bool search(std::vector<bool>& placed, const State& state) {
    bool all_definite_placed = true;
    for (std::size_t i = 0; i < calls_.size(); ++i) {
      if (!placed[i] && !open(calls_[i])) all_definite_placed = false;
    }
    if (all_definite_placed) return true;
    for (std::size_t i = 0; i < calls_.size(); ++i) {
      if (placed[i]) continue;
      bool ready = true;
      for (std::size_t j = 0; j < calls_.size(); ++j) {
        if (!placed[j] && j != i && precedes(calls_[j], calls_[i])) ready = false;
      }
      if (!ready) continue;
      State next = state;
      if (!Rules::apply(next, *calls_[i])) continue;
      placed[i] = true;
      if (search(placed, next)) return true;
      placed[i] = false;
    }
    return false;
  }

  std::vector<const Operation*> calls_;
};

template <typename T>
T uniform(T lo, T hi) {
  return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(lo, hi));
}

History random_lock_history() {
  const auto n = uniform<std::size_t>(0, kCallsMax + 1);
  History h;
  for (std::size_t i = 0; i < n; ++i) {
    Operation op;
    op.process = static_cast<std::uint32_t>(i);
    op.key = "L";
    const Value owner{uniform<std::int64_t>(1, 4)};
    const int kind = uniform<int>(0, 10);
    const int outcome = uniform<int>(0, 10);
    op.outcome = outcome < 6 ? Outcome::ok : outcome < 8 ? Outcome::failed : Outcome::unknown;
    if (kind < 5) {
      op.f = "acquire";
      op.args = {Value{std::string(uniform<int>(0, 3) == 0 ? "shared" : "exclusive")}, owner};
      if (op.outcome == Outcome::ok) op.result = Value{uniform<std::int64_t>(1, 6)};
      if (op.outcome == Outcome::failed) op.result = Value{std::string("lock_busy")};
    } else if (kind < 9) {
      op.f = "release";
      op.args = {owner};
      if (op.outcome == Outcome::failed) op.result = Value{std::string("not_held")};
    } else {
      op.f = "expire";
      op.args = {owner};
      op.outcome = Outcome::ok;
    }
    op.call = Nanos{uniform<std::int64_t>(0, 10)};
    op.ret = op.call + Nanos{uniform<std::int64_t>(0, 4)};
    op.origin = fmt::format("/operations/{}", i);
    h.operations.push_back(std::move(op));
  }
  return h;
}

RC_GTEST_PROP(LincheckProperty, LockAgreesWithBruteForce, ()) {
  for (int i = 0; i < kHistoriesPerCase; ++i) {
    const History h = random_lock_history();
    for (const Operation& op : h.operations) RC_ASSERT(!check_operation(ModelKind::lock, op));
    const CheckResult r = check_linearizability(h, ModelKind::lock);
    RC_ASSERT(r.verdict != Verdict::unknown);
    RC_ASSERT((r.verdict == Verdict::linearizable) ==
              BruteForce<LockRules>(h.operations).linearizable());
  }
}

// Contents from a small set and versions near the truth, so that many histories fit.
History random_node_history() {
  const auto n = uniform<std::size_t>(0, kCallsMax + 1);
  const std::vector<std::string> functions = {"create", "get", "get", "set", "cas", "delete"};
  const std::vector<std::string> contents = {"", "a", "b"};
  History h;
  for (std::size_t i = 0; i < n; ++i) {
    Operation op;
    op.process = static_cast<std::uint32_t>(i);
    op.key = "N";
    op.f = functions[uniform<std::size_t>(0, functions.size())];
    const Value content{contents[uniform<std::size_t>(0, contents.size())]};
    const int outcome = uniform<int>(0, 10);
    op.outcome = outcome < 6 ? Outcome::ok : outcome < 8 ? Outcome::failed : Outcome::unknown;
    if (op.f == "create" || op.f == "set") op.args = {content};
    if (op.f == "cas") op.args = {content, Value{uniform<std::int64_t>(0, 3)}};
    if (op.outcome == Outcome::ok) {
      if (op.f == "get") op.result = content;
      if ((op.f == "set" || op.f == "cas") && uniform<int>(0, 2) == 0) {
        op.result = Value{uniform<std::int64_t>(1, 4)};
      }
    } else if (op.outcome == Outcome::failed) {
      const std::vector<std::string> errors = {"no_node", "node_exists", "version_mismatch", "node_busy"};
      op.result = Value{errors[uniform<std::size_t>(0, errors.size())]};
    }
    op.call = Nanos{uniform<std::int64_t>(0, 10)};
    op.ret = op.call + Nanos{uniform<std::int64_t>(0, 4)};
    op.origin = fmt::format("/operations/{}", i);
    h.operations.push_back(std::move(op));
  }
  return h;
}

RC_GTEST_PROP(LincheckProperty, NamespaceAgreesWithBruteForce, ()) {
  for (int i = 0; i < kHistoriesPerCase; ++i) {
    const History h = random_node_history();
    for (const Operation& op : h.operations) RC_ASSERT(!check_operation(ModelKind::namespace_, op));
    const CheckResult r = check_linearizability(h, ModelKind::namespace_);
    RC_ASSERT(r.verdict != Verdict::unknown);
    RC_ASSERT((r.verdict == Verdict::linearizable) ==
              BruteForce<NodeRules>(h.operations).linearizable());
  }
}

}  // namespace
}  // namespace lock_model_property_test
}  // namespace lockstep::checkers
