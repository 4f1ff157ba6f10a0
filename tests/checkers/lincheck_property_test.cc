// The checker against a brute force on random small histories (STYLE.md 11): up to 8 calls on the
// register and the kv model, with failed and unknown outcomes and touching intervals. The brute
// force shares no code with the checker: it tries every order of the calls that respects real
// time, with each unknown-outcome call either placed somewhere after its call or left out, and
// runs each order against its own plain model on Values.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "checkers/history_formats.h"
#include "checkers/linearizability.h"
#include "core/json_reader.h"

namespace lockstep::checkers {
namespace lincheck_property_test {
namespace {

constexpr std::size_t kCallsMax = 8;
// Histories per property case: rapidcheck's default 100 cases are too few to meet the rarer
// interleavings (a deliberately broken dominance rule survived 100 and fell after ~300).
constexpr int kHistoriesPerCase = 20;

// ---- the brute force ------------------------------------------------------------------------------

bool is_nil(const Value& v) { return std::holds_alternative<std::monostate>(v); }

// The value of one key: a register starts nil, a kv string "" (a nil get result reads "").
struct PlainModel {
  ModelKind kind;
  Value initial() const { return kind == ModelKind::kv ? Value{std::string()} : Value{}; }
  Value normal(const Value& v) const {
    return kind == ModelKind::kv && is_nil(v) ? Value{std::string()} : v;
  }
  // Applies `op` (which takes effect here); false when its result or observation does not fit.
  bool apply(Value& state, const Operation& op) const {
    if (op.f == "read" || op.f == "get") return op.outcome != Outcome::ok || state == normal(op.result);
    if (op.f == "write" || op.f == "put") {
      state = op.args[0];
      return true;
    }
    if (op.f == "append") {
      state = std::get<std::string>(state) + std::get<std::string>(op.args[0]);
      return true;
    }
    // cas: ok must match and sets; failed observed a mismatch; unknown sets when it matches.
    const bool matches = state == normal(op.args[0]);
    if (op.outcome == Outcome::failed) return !matches;
    if (matches) state = op.args[1];
    return matches || op.outcome == Outcome::unknown;
  }
};

// Whether a call leaves a trace: failed calls take no effect (a failed cas still observes),
// and a read whose outcome is unknown observed nothing.
bool participates(const Operation& op) {
  if (op.outcome == Outcome::failed) return op.f == "cas";
  if (op.outcome == Outcome::unknown) return op.f != "read" && op.f != "get";
  return true;
}

class BruteForce {
 public:
  BruteForce(const std::vector<Operation>& ops, ModelKind kind) : ops_(ops), model_{kind} {
    for (const Operation& op : ops_) {
      if (participates(op)) calls_.push_back(&op);
    }
  }

  bool linearizable() {
    std::vector<bool> placed(calls_.size(), false);
    std::map<std::string, Value> state;
    return search(placed, state);
  }

 private:
  static bool open(const Operation* op) { return op->outcome == Outcome::unknown; }
  // a must come before b: a returned strictly before b was called.
  static bool precedes(const Operation* a, const Operation* b) { return !open(a) && a->ret < b->call; }

  bool search(std::vector<bool>& placed, std::map<std::string, Value>& state) {
    bool all_definite_placed = true;
    for (std::size_t i = 0; i < calls_.size(); ++i) {
      if (!placed[i] && !open(calls_[i])) all_definite_placed = false;
    }
    if (all_definite_placed) return true;  // open calls left out never took effect
    for (std::size_t i = 0; i < calls_.size(); ++i) {
      if (placed[i]) continue;
      bool ready = true;
      for (std::size_t j = 0; j < calls_.size(); ++j) {
        if (!placed[j] && j != i && precedes(calls_[j], calls_[i])) ready = false;
      }
      if (!ready) continue;
      const Operation& op = *calls_[i];
      auto [it, inserted] = state.try_emplace(op.key, model_.initial());
      const Value saved = it->second;
      if (model_.apply(it->second, op)) {
        placed[i] = true;
        if (search(placed, state)) return true;
        placed[i] = false;
      }
      state[op.key] = saved;
    }
    return false;
  }

  const std::vector<Operation>& ops_;
  PlainModel model_;
  std::vector<const Operation*> calls_;
};

// ---- random histories ---------------------------------------------------------------------------

// A value in [lo, hi), uniform whatever rapidcheck's current size (which would otherwise keep most
// histories tiny); it still shrinks towards lo.
template <typename T>
T uniform(T lo, T hi) {
  return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(lo, hi));
}

// Up to 8 calls with times in 0..12 (so that intervals often touch), random functions, values
// from a small domain, and outcomes. Half the histories take their results from a real sequential
// run at random points inside the intervals, so that many are linearizable; a few of those then
// get one result changed.
History random_history(ModelKind kind) {
  const auto n = uniform<std::size_t>(0, kCallsMax + 1);
  const std::vector<std::string> keys = kind == ModelKind::kv ? std::vector<std::string>{"a", "b"}
                                                              : std::vector<std::string>{"", "r"};
  const std::vector<Value> values =
      kind == ModelKind::kv ? std::vector<Value>{std::string("p"), std::string("q"), std::string("pq")}
                            : std::vector<Value>{Value{}, Value{std::int64_t{1}}, Value{std::int64_t{2}}};
  const std::vector<std::string> functions = kind == ModelKind::kv
                                                 ? std::vector<std::string>{"get", "put", "append", "cas"}
                                                 : std::vector<std::string>{"read", "write", "cas"};
  const auto pick = [](const auto& from) {
    return from[uniform<std::size_t>(0, from.size())];
  };
  History h;
  for (std::size_t i = 0; i < n; ++i) {
    Operation op;
    op.process = static_cast<std::uint32_t>(i);
    op.key = uniform<int>(0, 4) == 0 ? keys[1] : keys[0];
    op.f = pick(functions);
    if (op.f == "write" || op.f == "put" || op.f == "append") op.args = {pick(values)};
    if (op.f == "cas") op.args = {pick(values), pick(values)};
    if (op.f == "read" || op.f == "get") op.result = pick(values);
    const int outcome = uniform<int>(0, 10);
    op.outcome = outcome < 6 ? Outcome::ok : outcome < 8 ? Outcome::failed : Outcome::unknown;
    op.call = Nanos{uniform<std::int64_t>(0, 10)};
    op.ret = op.call + Nanos{uniform<std::int64_t>(0, 4)};
    op.origin = json_pointer_child("/operations", i);
    h.operations.push_back(std::move(op));
  }
  if (*rc::gen::arbitrary<bool>()) {
    // A sequential run: each call at a random point in its interval (open calls anywhere after).
    std::vector<std::pair<std::int64_t, std::size_t>> points;
    for (std::size_t i = 0; i < n; ++i) {
      const Operation& op = h.operations[i];
      const std::int64_t end = op.outcome == Outcome::unknown ? op.call.count + 6 : op.ret.count;
      points.emplace_back(uniform<std::int64_t>(op.call.count, end + 1), i);
    }
    std::sort(points.begin(), points.end());
    const PlainModel plain{kind};
    std::map<std::string, Value> state;
    for (const auto& [t, i] : points) {
      Operation& op = h.operations[i];
      Value& s = state.try_emplace(op.key, plain.initial()).first->second;
      if (op.f == "read" || op.f == "get") {
        op.result = s;
      } else if (op.f == "cas" && op.outcome != Outcome::unknown) {
        op.outcome = s == plain.normal(op.args[0]) ? Outcome::ok : Outcome::failed;
      }
      if (op.outcome != Outcome::failed) plain.apply(s, op);
    }
    if (n > 0 && uniform<int>(0, 4) == 0) {
      Operation& op = h.operations[uniform<std::size_t>(0, n)];
      if (op.f == "read" || op.f == "get") op.result = pick(values);
    }
  }
  return h;
}

// The calls of `key` as they were known when the return of `culprit` (a call of that key) was
// seen: calls made later are left out, calls still in flight become unknown outcomes (a failed
// one never takes effect, so it is left out).
std::vector<Operation> prefix_until(const History& h, const std::string& key, std::size_t culprit,
                                    bool including) {
  const Operation& c = h.operations[culprit];
  std::vector<Operation> out;
  for (std::size_t i = 0; i < h.operations.size(); ++i) {
    Operation op = h.operations[i];
    if (op.key != key || op.call > c.ret) continue;
    const bool returned = op.outcome != Outcome::unknown &&
                          (op.ret < c.ret || (op.ret == c.ret && (i < culprit || (i == culprit && including))));
    if (!returned) {
      if (op.outcome == Outcome::failed) continue;
      op.outcome = Outcome::unknown;
    }
    out.push_back(std::move(op));
  }
  return out;
}

void check_against_brute_force(ModelKind kind) {
  const History h = random_history(kind);
  const CheckResult r = check_linearizability(h, kind);
  const bool expected = BruteForce(h.operations, kind).linearizable();
  RC_ASSERT(r.verdict != Verdict::unknown);
  RC_ASSERT((r.verdict == Verdict::linearizable) == expected);
  if (expected) return;
  // The explanation: the prefix ending at the culprit's return is illegal, the one just before
  // that return is not.
  RC_ASSERT(r.violation.has_value());
  const Violation& v = *r.violation;
  RC_ASSERT(v.operation < h.operations.size());
  RC_ASSERT(h.operations[v.operation].key == v.key);
  RC_ASSERT(!BruteForce(prefix_until(h, v.key, v.operation, true), kind).linearizable());
  RC_ASSERT(BruteForce(prefix_until(h, v.key, v.operation, false), kind).linearizable());
  RC_ASSERT(std::find(v.context.begin(), v.context.end(), v.operation) != v.context.end());
}

RC_GTEST_PROP(LincheckProperty, RegisterAgreesWithBruteForce, ()) {
  for (int i = 0; i < kHistoriesPerCase; ++i) check_against_brute_force(ModelKind::register_);
}

RC_GTEST_PROP(LincheckProperty, KvAgreesWithBruteForce, ()) {
  for (int i = 0; i < kHistoriesPerCase; ++i) check_against_brute_force(ModelKind::kv);
}

RC_GTEST_PROP(LincheckProperty, LockstepFormatRoundTrips, ()) {
  const ModelKind kind = *rc::gen::arbitrary<bool>() ? ModelKind::kv : ModelKind::register_;
  History h = random_history(kind);
  for (Operation& op : h.operations) {
    if (op.outcome == Outcome::unknown && *rc::gen::arbitrary<bool>()) op.ret = Nanos::max();
    // Only reads return something; the lockstep format keeps `result` for them alone.
    if (op.f != "read" && op.f != "get") op.result = Value{};
  }
  const std::string text = history_to_json(h, kind).dump();
  HistoryResult back = parse_lockstep_history(text, std::nullopt);
  RC_ASSERT(std::holds_alternative<LoadedHistory>(back));
  const LoadedHistory& loaded = std::get<LoadedHistory>(back);
  RC_ASSERT(loaded.model == kind);
  RC_ASSERT(loaded.history.operations.size() == h.operations.size());
  for (std::size_t i = 0; i < h.operations.size(); ++i) {
    const Operation& a = h.operations[i];
    const Operation& b = loaded.history.operations[i];
    RC_ASSERT(a.process == b.process && a.key == b.key && a.f == b.f && a.args == b.args &&
              a.result == b.result && a.outcome == b.outcome && a.call == b.call);
    const Nanos ret_expected = a.ret == Nanos::max() ? b.call : a.ret;
    RC_ASSERT(b.ret == ret_expected);
    RC_ASSERT(b.origin == a.origin);
  }
}

}  // namespace
}  // namespace lincheck_property_test
}  // namespace lockstep::checkers
