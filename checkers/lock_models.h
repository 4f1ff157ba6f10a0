// Sequential specifications of the lock service (service/lock/) for the linearizability checker:
// one lock, and one node of the namespace. They follow the model interface of models.h; the
// history a lock run records (harness/lock_linearizability.h) uses both, split by function
// (ModelKind::lock_service).
//
// LockModel — one lock (the key is its path), Chubby-style with sequencers:
//   acquire [mode owner] -> generation     mode "exclusive" or "shared"; owner the session id
//   try_acquire [mode owner] -> generation
//   campaign [owner] -> generation         an election: the exclusive lock of the node
//   release [owner], resign [owner]
//   expire [owner]                         the service ended the session (expiry or close):
//                                          every hold of `owner` ends, with no client call
// A grant needs the owner not to hold the lock already, no other holder for an exclusive grant
// and no exclusive holder for a shared one, and a generation above every earlier grant's of this
// lock (sequencers strictly increase per lock). An acquire that waited in the queue for a long
// time is linearized at its grant, which may be anywhere in its interval. A failed release or
// resign whose result is "not_held" observed that the owner held nothing; other failures (busy,
// lock-delay, an ended session) constrain nothing, because waiters and lock-delay are not
// modelled. An unknown-outcome grant may take the lock (with an unknown generation); an
// unknown-outcome release may let it go.
//
// NamespaceModel — one node (the key is its path), initially absent; content is a string and
// version counts content changes since creation (0 at creation):
//   create [content]                 ok: it was absent; failed "node_exists": it was present
//   get -> content                   ok: present with that content; failed "no_node": absent
//   set [content] -> version         ok: present, and the new version is the result
//   cas [content expected] -> version     a set on version `expected`; failed "version_mismatch":
//                                    present at another version
//   delete                           ok: it was present
// Failed "no_node" on any of them observed the node absent; other failures constrain nothing.
//
// Both keep their state small by interning it (as KvModel interns strings): the state the search
// stores is an id.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "checkers/models.h"

namespace lockstep::checkers {

class LockModel {
 public:
  using State = std::uint32_t;  // interned Holders
  struct Op {
    enum class Code : std::uint8_t {
      grant,          // an ok acquire: a = owner, b = generation, shared
      grant_unknown,  // an acquire that may or may not have been granted
      release,        // an ok release: the owner held it
      release_maybe,  // an unknown release, or an expiry: the owner's hold (if any) ends
      not_held,       // a failed release: the owner held nothing
    };
    Code code = Code::grant;
    bool shared = false;
    std::uint64_t owner = 0;
    std::uint64_t generation = 0;
  };

  explicit LockModel(std::string key);
  static std::optional<OperationProblem> check(const Operation& op);
  State initial() const { return 0; }
  Compiled<Op> compile(const Operation& op) { return compile(op, op.outcome); }
  // `op` as if it had ended with `outcome` (see models.h): no copy of the operation.
  Compiled<Op> compile(const Operation& op, Outcome outcome);
  bool step(State state, const Op& op, State& next);
  std::string describe_state(State state) const;
  std::string describe_need(const Op& op) const;

 private:
  struct Holders {
    std::vector<std::pair<std::uint64_t, bool>> owners;  // (owner, shared), sorted
    std::uint64_t generation = 0;  // the highest generation granted so far
    auto operator<=>(const Holders&) const = default;
  };
  State intern(Holders holders);

  std::string key_;
  std::vector<Holders> states_;
  std::map<Holders, State> ids_;
};

class NamespaceModel {
 public:
  using State = std::uint32_t;  // interned Node
  struct Op {
    enum class Code : std::uint8_t {
      create, create_maybe, exists, absent, get, set, set_maybe, cas, cas_maybe, cas_mismatch,
      remove, remove_maybe,
    };
    Code code = Code::get;
    std::uint32_t content = 0;   // interned
    std::int64_t version = -1;   // set, cas: the new version the call returned (-1: not known)
    std::uint64_t expected = 0;  // cas: the version it expected
  };

  explicit NamespaceModel(std::string key);
  static std::optional<OperationProblem> check(const Operation& op);
  State initial() const { return 0; }
  Compiled<Op> compile(const Operation& op) { return compile(op, op.outcome); }
  // `op` as if it had ended with `outcome` (see models.h): no copy of the operation.
  Compiled<Op> compile(const Operation& op, Outcome outcome);
  bool step(State state, const Op& op, State& next);
  std::string describe_state(State state) const;
  std::string describe_need(const Op& op) const;

 private:
  struct Node {
    bool exists = false;
    std::uint64_t version = 0;
    std::uint32_t content = 0;
    auto operator<=>(const Node&) const = default;
  };
  State intern(Node node);

  std::string key_;
  ValueTable contents_;
  std::vector<Node> states_;
  std::map<Node, State> ids_;
};

}  // namespace lockstep::checkers
