// Sequential specifications for the linearizability checker: what one object (one key of a
// history) does when its operations run one at a time.
//
// A model is a class the search (linearizability.cc) is instantiated with. It sees the
// operations of one key only, turns each into a compact Op once — interning values, so that the
// search compares integers — and then steps a compact State:
//
//   class MyModel {
//    public:
//     using State = ...;  // trivially copyable and small: the search stores one per memoised
//                         // configuration and compares them bytewise. A model whose state is
//                         // large (a file tree) interns it and uses the id, as KvModel interns
//                         // strings.
//     using Op = ...;
//     explicit MyModel(std::string key);
//     static std::optional<OperationProblem> check(const Operation&);  // fits the model?
//     State initial() const;
//     Compiled<Op> compile(const Operation&);             // only for operations check() accepts
//     bool step(State state, const Op& op, State& next);  // legal in `state`? then `next`
//     std::string describe_state(State state) const;      // "3", "\"x 0 1 y\""
//     std::string describe_need(const Op& op) const;      // "the register to be 3"
//     // Optional: false only if no sequence of updates can take `state` to one in which
//     // observation `op` fits; `resets_possible` says whether a reset (Role::reset) could still
//     // be among them (the search knows which calls are placed). The search then drops the
//     // configuration where `op` waits unplaced (see RegisterModel and KvModel).
//     bool may_fit_later(State state, const Op& op, bool resets_possible) const;
//     // Optional: compile(op) as if op had ended with `outcome` instead (the search compiles an
//     // ok call once more as still in flight); without it, a copy of op is compiled.
//     Compiled<Op> compile(const Operation& op, Outcome outcome);
//   };
//
// step() decides legality from the outcome compile() folded into the Op: an ok call must match
// its result, a failed call is checked as the observation it made and changes nothing, and a call
// with an unknown outcome is always legal. "May have taken effect or not" needs no second branch:
// such a call is open to the end of the history, and placing it after every other call is the same
// as never applying it.
//
// To add a model (the lock model, the service's node namespace): write the class, add its name to
// ModelKind and model_names(), and one case to the dispatch in linearizability.cc and to
// check_operation() below.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "checkers/flat_map.h"
#include "checkers/history.h"

namespace lockstep::checkers {

// lock and namespace: the lock service's models (lock_models.h). lock_service: a lock run's
// history, whose lock calls are checked with the lock model and its namespace calls with the
// namespace model (each per key).
enum class ModelKind : std::uint8_t { register_, kv, lock, namespace_, lock_service };

// "register", "kv", "lock", "namespace", "lock-service": index = ModelKind
std::span<const std::string_view> model_names();
std::string_view model_name(ModelKind kind);
std::optional<ModelKind> model_from_name(std::string_view name);

// Why an operation does not fit a model: the field at fault ("f", "args", "result") and what was
// expected there, for a message such as "/operations/3/args: expected [expected new] for cas (the
// register model)" (the caller names the model).
struct OperationProblem {
  std::string field;
  std::string expected;
};

// Whether `op` is an operation of the model; loaders call this on input from outside, and the
// checker requires it of every operation it is given.
std::optional<OperationProblem> check_operation(ModelKind kind, const Operation& op);

// Whether `f` is a function of the lock model (acquire, release, expire, ...); in a lock_service
// history every other call belongs to the namespace model.
bool is_lock_function(std::string_view f);

// What an operation means to the search.
enum class Role : std::uint8_t {
  update,   // may change the state
  reset,    // an update whose next state does not depend on the state (a write, a put)
  observe,  // never changes the state (a read, a failed compare-and-set): the search may place
            // it as soon as it fits, without trying it later too (see linearizability.cc)
  ignore,   // constrains nothing (a failed write, a read whose outcome is unknown): left out
};

template <typename Op>
struct Compiled {
  Op op{};
  Role role = Role::ignore;
};

// Interns values as dense ids, id 0 being the value given first.
class ValueTable {
 public:
  explicit ValueTable(Value first);
  std::uint32_t intern(const Value& value);
  const Value& value(std::uint32_t id) const { return values_[id]; }

 private:
  // Hashed: the lock service's histories intern a fresh content string per write, and an ordered
  // map compared it with a dozen stored strings (a variant visit each) to place it. Only looked
  // up, never iterated, so its order cannot leak: ids go by first appearance.
  std::unordered_map<Value, std::uint32_t> ids_;
  std::vector<Value> values_;
};

// A single register, initially nil: read, write v, cas [expected new]. Values are any Value.
// A failed cas observed a value other than `expected`. A read of a value that no write (while a
// write could still come first) and no cas can produce is a dead end: may_fit_later().
class RegisterModel {
 public:
  using State = std::uint32_t;  // the interned value
  struct Op {
    enum class Code : std::uint8_t { read, write, cas_ok, cas_failed, cas_unknown };
    Code code = Code::read;
    std::uint32_t a = 0;  // read: the value returned; write: the value; cas: expected
    std::uint32_t b = 0;  // cas: the new value
  };

  explicit RegisterModel(std::string key);
  static std::optional<OperationProblem> check(const Operation& op);
  State initial() const { return 0; }
  Compiled<Op> compile(const Operation& op);
  bool step(State state, const Op& op, State& next) {
    switch (op.code) {
      case Op::Code::read: next = state; return state == op.a;
      case Op::Code::write: next = op.a; return true;
      case Op::Code::cas_ok: next = op.b; return state == op.a;
      case Op::Code::cas_failed: next = state; return state != op.a;
      case Op::Code::cas_unknown: next = state == op.a ? op.b : state; return true;
    }
    return false;
  }
  bool may_fit_later(State state, const Op& op, bool resets_possible) const {
    if (op.code != Op::Code::read) return true;
    return state == op.a || cas_sets_[op.a] || (resets_possible && write_sets_[op.a]);
  }
  std::string describe_state(State state) const;
  std::string describe_need(const Op& op) const;

 private:
  std::uint32_t intern(const Value& value);

  std::string key_;
  ValueTable values_;
  std::vector<std::uint8_t> write_sets_;  // per value: some write (ok or unknown) writes it
  std::vector<std::uint8_t> cas_sets_;    // per value: some cas (ok or unknown) sets it
};

// A key-value store seen one key at a time: the value is a string, initially "" (a missing key
// reads as ""): get, put v, append v, cas [expected new]. A get whose result is nil read "".
//
// Appends make long strings, and the search meets many of them, so a string is never built: it
// is a node, "the string of node `parent` followed by argument `piece`", with its length and a
// polynomial hash of its content. Nodes with the same content are one node (a hash match is
// confirmed by comparing contents, so equal ids mean equal strings), and each (node, piece)
// append is computed once.
//
// Appends only lengthen a string, so a get whose string does not start with the current one can
// only fit after a put (a reset) or a cas: may_fit_later() tells the search so, and a wrong order
// of concurrent appends is dropped as soon as one pending get rules it out, instead of when that
// get returns. This is what makes histories with many concurrent appends fast.
class KvModel {
 public:
  using State = std::uint32_t;  // the node of the string
  struct Op {
    enum class Code : std::uint8_t { get, put, append, cas_ok, cas_failed, cas_unknown };
    Code code = Code::get;
    std::uint32_t a = 0;  // get: the node returned; put: the node; append: the piece; cas: expected
    std::uint32_t b = 0;  // get: its index in get_prefix_hashes_; cas: the new node
  };

  explicit KvModel(std::string key);
  static std::optional<OperationProblem> check(const Operation& op);
  State initial() const { return 0; }
  Compiled<Op> compile(const Operation& op);
  bool step(State state, const Op& op, State& next) {
    switch (op.code) {
      case Op::Code::get: next = state; return state == op.a;
      case Op::Code::put: next = op.a; return true;
      case Op::Code::append: {
        const std::uint32_t known = appended_.find((std::uint64_t{state} << 32) | op.a);
        next = known != FlatMap64::kMissing ? known : append(state, op.a);
        return true;
      }
      case Op::Code::cas_ok: next = op.b; return state == op.a;
      case Op::Code::cas_failed: next = state; return state != op.a;
      case Op::Code::cas_unknown: next = state == op.a ? op.b : state; return true;
    }
    return false;
  }
  bool may_fit_later(State state, const Op& op, bool resets_possible) const {
    if (op.code != Op::Code::get || has_cas_ || resets_possible) return true;
    const std::vector<std::uint64_t>& prefixes = get_prefix_hashes_[op.b];
    const Node& n = nodes_[state];
    return n.length < prefixes.size() && prefixes[n.length] == n.hash;
  }
  std::string describe_state(State state) const;
  std::string describe_need(const Op& op) const;

 private:
  struct Node {
    std::uint32_t parent = 0;
    std::uint32_t piece = 0;
    std::uint64_t length = 0;
    std::uint64_t hash = 0;  // sum of byte_i * kBase^(length-1-i), mod 2^64
  };
  struct Piece {
    std::string text;
    std::uint64_t hash = 0;
    std::uint64_t base_power = 1;  // kBase^length, mod 2^64
  };

  std::uint32_t piece(const std::string& text);
  std::uint32_t node(std::uint32_t parent, std::uint32_t piece);  // the node of their concatenation
  std::uint32_t append(State state, std::uint32_t piece);         // node() memoised in appended_
  std::string text(std::uint32_t node) const;

  std::string key_;
  std::vector<Node> nodes_;  // node 0 is ""
  std::vector<Piece> pieces_;
  std::map<std::string, std::uint32_t> piece_ids_;
  FlatMap64 by_content_;  // mix of (hash, length, attempt) -> node
  FlatMap64 appended_;    // (node << 32) | piece -> node
  // Per get: the hashes of every prefix of the string it returned, by length.
  std::vector<std::vector<std::uint64_t>> get_prefix_hashes_;
  bool has_cas_ = false;  // a cas can set any string, so may_fit_later() cannot rule anything out
};

}  // namespace lockstep::checkers
