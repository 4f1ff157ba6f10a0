// Readers (and one writer) for operation histories on disk. Each reader is strict: the first
// line it cannot read is reported with its line number, what was expected there and what was
// found, and nothing is guessed.
//
// lockstep — our own JSON history, written by a run and read by `lockstep lincheck`:
//
//   {
//     "lockstep_history": 1,
//     "model": "register",
//     "operations": [
//       {"process": 0, "f": "write", "args": [3], "outcome": "ok", "call_ns": 100, "return_ns": 250},
//       {"process": 1, "f": "read", "result": 3, "outcome": "ok", "call_ns": 120, "return_ns": 300},
//       {"process": 2, "f": "cas", "args": [3, 4], "outcome": "unknown", "call_ns": 130},
//       {"process": 0, "key": "k", "f": "cas", "args": [1, 2], "outcome": "failed",
//        "call_ns": 260, "return_ns": 400}
//     ]
//   }
//
//   lockstep_history  the format version, 1 (required)
//   model             "register", "kv", "lock", "namespace" or "lock-service" (required;
//                     `lockstep lincheck --model` overrides it)
//   operations        one object per call, any order:
//     process    client process id, an integer >= 0 (required)
//     key        the object called (default ""); each key is an independent object
//     f          the function, one the model knows (required): register read, write, cas;
//                kv get, put, append, cas; lock acquire, try_acquire, campaign, release, resign,
//                expire; namespace create, get, set, cas, delete (checkers/lock_models.h);
//                lock-service takes both, the lock's functions by the lock model
//     args       the arguments (default []): write [v], put/append [v], cas [expected, new];
//                acquire [mode, owner], release [owner]; set [content], cas [content, version]
//     result     what an ok read/get returned (default null); null for the other functions of
//                the register and kv models. The lock service's models: the generation an ok
//                acquire got, the version an ok set or cas made, and for a failed call the error
//                the service answered ("not_held", "no_node", "version_mismatch", ...)
//     outcome    "ok" (took effect once, between call and return), "failed" (did not take effect;
//                a failed cas observed a value other than `expected`), "unknown" (may have taken
//                effect at any point after the call, or never) (required)
//     call_ns    true time of the call in nanoseconds (required)
//     return_ns  true time of the return, >= call_ns (required unless the outcome is unknown; for
//                an unknown outcome, when the client gave up, shown but not used by the checker)
//   Values (args, result) are null, integers or strings; the kv model takes strings only.
//   Unknown fields are errors, so a misspelt field is never silently ignored.
//
// jepsen-etcd — the client lines of Jepsen's 2015 etcd logs (see the README beside the data):
//   INFO  jepsen.util - PROC TYPE FN ARG, fields separated by tabs or runs of spaces; time is the
//   line number. `:info` is an unknown outcome, `:fail :cas` an observation, `:fail :read` and
//   other failures no effect. An invoke with no completion by the end is an unknown outcome.
//
// edn-kv — one EDN map per line, as in Porcupine's key-value tests:
//   {:process P, :type :invoke|:ok|:fail|:info, :f :get|:put|:append, :key "K", :value "V"|nil}
//   time is the line number; `:fail` has no effect and `:info` is an unknown outcome.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "checkers/history.h"
#include "checkers/models.h"

namespace lockstep::checkers {

enum class HistoryFormat : std::uint8_t { lockstep, jepsen_etcd, edn_kv };

std::span<const std::string_view> history_format_names();  // "lockstep", "jepsen-etcd", "edn-kv"
std::optional<HistoryFormat> history_format_from_name(std::string_view name);

// What is wrong with a history file, and where.
struct FormatError {
  std::size_t line = 0;  // 1-based; 0 when the message names its place itself (a JSON pointer)
  std::string message;   // "expected ..., got ..."
};

struct LoadedHistory {
  History history;
  ModelKind model = ModelKind::register_;  // the format's model, or the one the file names
};

using HistoryResult = std::variant<LoadedHistory, FormatError>;

// Reads `text` in `format`. `model`, when given, replaces the one the format implies or the file
// names; every operation is checked against the model that applies (check_operation).
HistoryResult parse_history(std::string_view text, HistoryFormat format,
                            std::optional<ModelKind> model = std::nullopt);

HistoryResult parse_lockstep_history(std::string_view text, std::optional<ModelKind> model);
HistoryResult parse_jepsen_etcd(std::string_view text);
HistoryResult parse_edn_kv(std::string_view text);

// The lockstep format of `history`, as parse_lockstep_history reads it back.
nlohmann::ordered_json history_to_json(const History& history, ModelKind model);
// One element of its "operations".
nlohmann::ordered_json operation_to_json(const Operation& op);

}  // namespace lockstep::checkers
