// The linearizability checker: is there one order of the operations of a history, respecting
// real time (a call that returned before another was called comes first), in which every
// operation, run one at a time against the model (models.h), gives the result it gave?
//
// The search is Wing & Gong's, with Lowe's memoisation ("Testing for linearizability",
// Concurrency and Computation 2017, section 3), on the entry list of Porcupine (Athalye 2017):
// the history is one list of call and return events in time order; the search walks it from
// the front, and at a call tries to place that operation next (apply it to the model, "lift" its
// call and return out of the list, start again from the front); reaching a return means the
// operation returning there was not placed in time, so it takes the last placement back and
// tries the next candidate. Each configuration (set of placed operations, model state) is
// searched at most once: a hash set remembers every configuration entered, as a bitset of the
// placed operations plus the model state, keyed by an incrementally updated Zobrist hash.
//
// Around that core:
// - P-compositionality (Herlihy & Wing 1990, locality): the operations on each key form an
//   independent history, checked on its own, smallest first; the history is linearizable when
//   every key is, and the first key that is not decides the verdict.
// - Unknown outcomes: such a call has no return event. It may be placed anywhere after its call;
//   the search succeeds once every call with a known outcome is placed (the rest go last). It is
//   never placed where it changes nothing, and the memo table keys configurations by the definite
//   calls placed and the state only: one with a superset of the open calls placed is dominated by
//   one already searched (config_set.h).
// - Observations (reads, failed compare-and-sets) never change the state. If one fits where it
//   stands, placing it there loses nothing: any order placing it later still works with it moved
//   forward. So each configuration first looks for an observation that fits (the entry list is
//   split into an observations' list and an updates' list, each with every return), and when the
//   search takes such a placement back it does not try the alternatives at that level either; when
//   the configuration after it was already searched, it backtracks at once.
// - A model may say that an observation can no longer fit, given whether a reset (a write, a put)
//   could still be placed before it (a read of a value nothing left can write; a get whose string
//   does not extend the current one when only appends can come first: models.h); the
//   configuration is then dropped.
// - A budget of search steps (over the whole history) and memoised configurations (per key), and
//   an optional stop callback (the CLI's wall-clock limit): when one runs out, the verdict is
//   `unknown`, never a hang.
//
// On a violation the checker explains it: the shortest illegal prefix (the prefixes ending at
// each return event, with calls still in flight treated as unknown outcomes, are illegal from
// some point on; binary search finds it), the operation whose return ends it — the one that
// cannot be placed — what it needed, and the states in which it could have been placed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checkers/history.h"
#include "checkers/models.h"

namespace lockstep::checkers {

enum class Verdict : std::uint8_t { linearizable, not_linearizable, unknown };
std::string_view verdict_name(Verdict verdict);  // "linearizable", "not linearizable", "unknown"

inline constexpr std::uint64_t kSearchStepsMaxDefault = 200'000'000;  // about 5-10 s
inline constexpr std::uint64_t kSearchStatesMaxDefault = 2'000'000;   // at most ~200 MB
inline constexpr std::size_t kShownStatesMax = 16;   // states listed in an explanation
inline constexpr std::size_t kContextBeforeMax = 4;  // calls shown that returned before the culprit

struct CheckOptions {
  // Steps of the search (one per list entry visited), over all keys; then the verdict is unknown.
  std::uint64_t search_steps_max = kSearchStepsMaxDefault;
  // Configurations memoised for one key at a time; a bound on memory.
  std::uint64_t search_states_max = kSearchStatesMaxDefault;
  // On a violation, find the shortest illegal prefix (a few more searches of that key).
  bool explain = true;
  // Polled every few thousand steps; returning true stops the search with verdict unknown.
  std::function<bool()> stop_requested;
};

// Why the history is not linearizable.
struct Violation {
  std::string key;
  // The call that cannot be placed: its return ends the shortest illegal prefix of its key's
  // history. Index into History::operations.
  std::size_t operation = 0;
  std::string needed;  // what it needed: "the register to be 3"
  // The model states in which the search could place it, at any point of its interval, for some
  // order of the operations before it (sorted; at most kShownStatesMax, `states_more` beyond).
  std::vector<std::string> states;
  std::size_t states_more = 0;
  std::size_t prefix_calls = 0;      // calls of this key made in the prefix
  std::size_t prefix_completed = 0;  // of those, the ones that had returned by its end
  // Calls of this key around it, for the picture: every call whose interval overlaps its own and
  // the last kContextBeforeMax that returned before it was called; by call time.
  std::vector<std::size_t> context;
};

struct CheckResult {
  Verdict verdict = Verdict::linearizable;
  std::size_t keys = 0;             // independent sub-histories
  std::size_t keys_searched = 0;    // of those, the ones searched before the verdict was clear
  std::size_t calls_searched = 0;   // calls that constrain the order, in the keys searched
  std::uint64_t search_steps = 0;   // over all keys, without the explanation
  std::uint64_t search_states = 0;  // configurations memoised, summed over keys
  std::optional<std::string> failed_key;  // not linearizable: the key found to fail first
  std::optional<Violation> violation;     // not linearizable and explained
  std::string stopped;  // unknown: which budget ran out where, or why the explanation is missing
};

// Checks `history` against the model. Every operation must be one check_operation() accepts for
// `model` (loaders check; a violation of this is a bug in the caller).
CheckResult check_linearizability(const History& history, ModelKind model,
                                  const CheckOptions& options = {});

}  // namespace lockstep::checkers
