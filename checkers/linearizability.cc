#include "checkers/linearizability.h"

#include <algorithm>
#include <concepts>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "checkers/config_set.h"
#include "checkers/lock_models.h"
#include "core/assert.h"

namespace lockstep::checkers {

namespace {

constexpr std::uint64_t kPollSteps = std::uint64_t{1} << 14;  // steps between budget checks
constexpr std::size_t kRecordedStatesMax = 4096;  // distinct states kept for an explanation

// What a search may still spend. Steps are shared by every search of one check.
struct Budget {
  std::uint64_t steps_max = 0;
  std::uint64_t steps_left = 0;
  std::uint64_t states_max = 0;
  const std::function<bool()>* stop_requested = nullptr;
  std::string ran_out;  // which limit stopped the last search, for the message
};

enum class SearchResult : std::uint8_t { linearizable, not_linearizable, stopped };

// One key's calls as one search sees them: only calls that constrain the order, each with its
// compact operation, call time and return time (Nanos::max() when it stays open).
template <typename Op>
struct Problem {
  std::vector<Op> ops;
  std::vector<Nanos> call;
  std::vector<Nanos> ret;
  std::vector<Role> role;
  std::vector<std::size_t> source;  // index in KeyCalls::calls

  void add(const Compiled<Op>& c, Nanos call_time, Nanos ret_time, std::size_t from) {
    LS_ASSERT(c.role != Role::ignore);
    ops.push_back(c.op);
    call.push_back(call_time);
    ret.push_back(ret_time);
    role.push_back(c.role);
    source.push_back(from);
  }
  std::size_t size() const { return ops.size(); }
};

// The Wing & Gong / Lowe search over one Problem (see linearizability.h). The entry list is kept
// as two doubly linked lists over the same entries: one of the observations' calls and every
// return, one of the updates' calls and every return. Entry 0 is the head of both, entries
// 1..2n hold call and return events in time order, the last is the tail. An entry's word is
// (call index << 1) | is_return.
//
// At each configuration the search first walks the observations' list for one that fits
// (placing one dominates every alternative), and only when there is none walks the updates'.
template <typename M>
class Search {
 public:
  using State = typename M::State;
  using Op = typename M::Op;
  static constexpr bool kMayFitLater = requires(const M& m, State s, const Op& op) {
    { m.may_fit_later(s, op, true) } -> std::same_as<bool>;
  };

  Search(M& model, const Problem<Op>& problem) : model_(model), problem_(problem) {
    const std::size_t n = problem.size();
    struct Event {
      Nanos time;
      std::uint32_t word;
    };
    std::vector<Event> events;
    events.reserve(2 * n);
    std::size_t open = 0;
    for (std::size_t i = 0; i < n; ++i) {
      events.push_back(Event{problem.call[i], static_cast<std::uint32_t>(i << 1)});
      if (problem.ret[i] != Nanos::max()) {
        LS_ASSERT_LE(problem.call[i], problem.ret[i]);
        events.push_back(Event{problem.ret[i], static_cast<std::uint32_t>((i << 1) | 1)});
        ++definite_;
      } else {
        ++open;
      }
    }
    // Calls before returns at equal times: intervals that touch are concurrent.
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
      if (a.time != b.time) return a.time < b.time;
      if ((a.word & 1) != (b.word & 1)) return (a.word & 1) == 0;
      return a.word < b.word;
    });
    const std::size_t entries = events.size();
    word_.resize(entries + 2);
    call_entry_.resize(n);
    return_entry_.assign(n, 0);
    for (std::size_t k = 0; k < entries; ++k) {
      const std::uint32_t w = events[k].word;
      word_[k + 1] = w;
      (w & 1 ? return_entry_ : call_entry_)[w >> 1] = static_cast<std::int32_t>(k + 1);
    }
    const auto tail = static_cast<std::int32_t>(entries + 1);
    for (int list = 0; list < 2; ++list) {
      next_[list].assign(entries + 2, tail);
      prev_[list].assign(entries + 2, 0);
      std::int32_t last = 0;
      for (std::size_t e = 1; e <= entries + 1; ++e) {
        const std::uint32_t w = word_[e];
        if (e <= entries && (w & 1) == 0 && list_of(w >> 1) != list) continue;
        next_[list][static_cast<std::size_t>(last)] = static_cast<std::int32_t>(e);
        prev_[list][e] = last;
        last = static_cast<std::int32_t>(e);
      }
    }
    // Definite calls take the first words of the bitset, open calls the words after them; only
    // definite calls are in the hash (see config_set.h).
    const std::size_t definite_words = std::max<std::size_t>(1, (definite_ + 63) / 64);
    const std::size_t open_words = (open + 63) / 64;
    bit_.resize(n);
    zobrist_.assign(n, 0);
    std::size_t next_definite = 0;
    std::size_t next_open = definite_words * 64;
    for (std::size_t i = 0; i < n; ++i) {
      if (return_entry_[i] != 0) {
        bit_[i] = static_cast<std::uint32_t>(next_definite++);
        zobrist_[i] = mix64(0x9e3779b97f4a7c15ULL * (i + 1));
      } else {
        bit_[i] = static_cast<std::uint32_t>(next_open++);
      }
    }
    bits_.assign(definite_words + open_words, 0);
    set_.emplace(definite_words, open_words);
    reset_position_.assign(n, kNotReset);
    for (std::size_t i = 0; i < n; ++i) {
      if (problem.role[i] == Role::reset) resets_.push_back(static_cast<std::uint32_t>(i));
    }
    std::stable_sort(resets_.begin(), resets_.end(), [&](std::uint32_t a, std::uint32_t b) {
      return problem.call[a] < problem.call[b];
    });
    for (std::size_t k = 0; k < resets_.size(); ++k) {
      reset_position_[resets_[k]] = static_cast<std::uint32_t>(k);
    }
    reset_placed_.assign(resets_.size(), 0);
    stack_.reserve(n);
  }

  std::uint64_t steps() const { return steps_; }
  std::uint64_t states() const { return set_->size(); }

  // The distinct states in which one call was tried, in the order first met.
  struct Recorded {
    std::vector<State> states;
    ConfigSet<State> seen{0, 0};
  };

  // Searches for an order placing every call with a known outcome. When `recorded` is given,
  // every state in which the search tries to place call `target` is added to it (distinct).
  SearchResult run(Budget& budget, std::size_t target = SIZE_MAX, Recorded* recorded = nullptr) {
    State state = model_.initial();
    std::uint64_t hash = 0;
    std::size_t open_definite = definite_;
    std::int32_t cur = next_[kObservations][0];
    bool observers_phase = true;  // walking the observations' list, before the updates'
    const std::int32_t* next_in_phase = next_[kObservations].data();
    const std::int32_t tail = static_cast<std::int32_t>(word_.size() - 1);

    // Takes placements back until one leaves alternatives; false when none is left.
    const auto backtrack = [&]() {
      while (!stack_.empty()) {
        const Frame frame = stack_.back();
        stack_.pop_back();
        state = frame.state;
        hash ^= zobrist_[frame.call];
        flip(frame.call);
        unlift(frame.call);
        if (return_entry_[frame.call] != 0) ++open_definite;
        // A placed observation dominates every alternative at its level (see the header).
        if (problem_.role[frame.call] != Role::observe) {
          observers_phase = false;
          next_in_phase = next_[kUpdates].data();
          cur = next_in_phase[call_entry_[frame.call]];
          return true;
        }
      }
      return false;
    };

    for (;;) {
      if (open_definite == 0) return finish(budget, SearchResult::linearizable);
      if ((++steps_ & (kPollSteps - 1)) == 0) {
        if (steps_ >= budget.steps_left) {
          budget.ran_out = fmt::format("the budget of {} search steps", budget.steps_max);
          return finish(budget, SearchResult::stopped);
        }
        if (budget.stop_requested != nullptr && *budget.stop_requested &&
            (*budget.stop_requested)()) {
          budget.ran_out = "the time limit";
          return finish(budget, SearchResult::stopped);
        }
      }
      LS_ASSERT_NE(cur, tail);
      const std::uint32_t w = word_[static_cast<std::size_t>(cur)];
      if (w & 1) {  // a return: the call returning here must be placed before anything later
        if (observers_phase) {
          observers_phase = false;
          next_in_phase = next_[kUpdates].data();
          cur = next_in_phase[0];
        } else if (!backtrack()) {
          return finish(budget, SearchResult::not_linearizable);
        }
        continue;
      }
      const std::uint32_t i = w >> 1;
      if (recorded != nullptr && i == target) record(*recorded, state);
      State next{};
      // An open call that changes nothing where it stands is never worth placing there: leaving
      // it unplaced keeps every option it would have had.
      if (model_.step(state, problem_.ops[i], next) &&
          (return_entry_[i] != 0 || std::memcmp(&next, &state, sizeof(State)) != 0)) {
        flip(i);
        const std::uint64_t next_hash = hash ^ zobrist_[i];
        if (set_->insert(bits_.data(), next, next_hash ^ ConfigSet<State>::state_hash(next))) {
          if (set_->size() > budget.states_max) {
            budget.ran_out = fmt::format("the limit of {} memoised states", budget.states_max);
            return finish(budget, SearchResult::stopped);
          }
          stack_.push_back(Frame{state, i});
          state = next;
          hash = next_hash;
          lift(i);
          if (return_entry_[i] != 0) --open_definite;
          observers_phase = true;
          next_in_phase = next_[kObservations].data();
          cur = next_in_phase[0];
          continue;
        }
        flip(i);
        if (problem_.role[i] == Role::observe) {  // already searched from there, so from here too
          if (!backtrack()) return finish(budget, SearchResult::not_linearizable);
          continue;
        }
      } else if constexpr (kMayFitLater) {
        // An observation that can never fit: nothing placed from here on can help it. (Not when
        // it is the call whose states are being recorded: those states are the explanation.)
        if (observers_phase && !(recorded != nullptr && i == target) &&
            !model_.may_fit_later(state, problem_.ops[i], reset_possible_before(problem_.ret[i]))) {
          if (!backtrack()) return finish(budget, SearchResult::not_linearizable);
          continue;
        }
      }
      cur = next_in_phase[static_cast<std::size_t>(cur)];
    }
  }

 private:
  struct Frame {
    State state;
    std::uint32_t call;
  };

  SearchResult finish(Budget& budget, SearchResult result) {
    budget.steps_left -= std::min(steps_, budget.steps_left);
    return result;
  }

  void flip(std::uint32_t i) { bits_[bit_[i] >> 6] ^= std::uint64_t{1} << (bit_[i] & 63); }
  static constexpr int kObservations = 0;
  static constexpr int kUpdates = 1;
  int list_of(std::uint32_t i) const {
    return problem_.role[i] == Role::observe ? kObservations : kUpdates;
  }
  void unlink(int list, std::int32_t e) {
    std::vector<std::int32_t>& next = next_[list];
    std::vector<std::int32_t>& prev = prev_[list];
    next[prev[e]] = next[e];
    prev[next[e]] = prev[e];
  }
  void relink(int list, std::int32_t e) {
    std::vector<std::int32_t>& next = next_[list];
    std::vector<std::int32_t>& prev = prev_[list];
    next[prev[e]] = e;
    prev[next[e]] = e;
  }
  void lift(std::uint32_t i) {
    unlink(list_of(i), call_entry_[i]);
    if (const std::int32_t r = return_entry_[i]; r != 0) {
      unlink(kObservations, r);
      unlink(kUpdates, r);
    }
    if (const std::uint32_t k = reset_position_[i]; k != kNotReset) {
      reset_placed_[k] = 1;
      while (first_unplaced_reset_ < resets_.size() && reset_placed_[first_unplaced_reset_]) {
        ++first_unplaced_reset_;
      }
    }
  }
  void unlift(std::uint32_t i) {
    if (const std::int32_t r = return_entry_[i]; r != 0) {
      relink(kUpdates, r);
      relink(kObservations, r);
    }
    relink(list_of(i), call_entry_[i]);
    if (const std::uint32_t k = reset_position_[i]; k != kNotReset) {
      reset_placed_[k] = 0;
      first_unplaced_reset_ = std::min<std::size_t>(first_unplaced_reset_, k);
    }
  }
  // Whether some reset not yet placed was called by `t`, so could still be placed before it.
  bool reset_possible_before(Nanos t) const {
    return first_unplaced_reset_ < resets_.size() &&
           problem_.call[resets_[first_unplaced_reset_]] <= t;
  }

  static void record(Recorded& recorded, const State& state) {
    const std::uint64_t no_bits = 0;
    if (recorded.states.size() < kRecordedStatesMax &&
        recorded.seen.insert(&no_bits, state, ConfigSet<State>::state_hash(state))) {
      recorded.states.push_back(state);
    }
  }

  M& model_;
  const Problem<Op>& problem_;
  std::size_t definite_ = 0;  // calls with a return entry
  std::vector<std::uint32_t> word_;
  std::vector<std::int32_t> next_[2];  // per list: kObservations, kUpdates
  std::vector<std::int32_t> prev_[2];
  std::vector<std::int32_t> call_entry_;
  std::vector<std::int32_t> return_entry_;  // 0 when the call stays open
  std::vector<std::uint32_t> bit_;          // position of each call in bits_
  std::vector<std::uint64_t> zobrist_;      // 0 for open calls
  std::vector<std::uint64_t> bits_;
  std::vector<Frame> stack_;
  std::optional<ConfigSet<State>> set_;
  static constexpr std::uint32_t kNotReset = 0xffffffffu;
  std::vector<std::uint32_t> resets_;          // the resets, by call time
  std::vector<std::uint32_t> reset_position_;  // per call: its index in resets_, or kNotReset
  std::vector<std::uint8_t> reset_placed_;     // per index in resets_
  std::size_t first_unplaced_reset_ = 0;
  std::uint64_t steps_ = 0;
};

// Every call on one key, compiled twice: as it ended, and as it looks while still in flight (an
// ok call may or may not have taken effect yet; a failed one never will).
template <typename M>
struct KeyCalls {
  struct Call {
    std::size_t history = 0;  // index in History::operations
    Compiled<typename M::Op> ended;
    Compiled<typename M::Op> in_flight;
    Nanos call{};
    Nanos ret{};  // Nanos::max() for an unknown outcome
  };
  std::string key;
  std::vector<Call> calls;  // in history order

  KeyCalls(M& model, const History& history, std::string key_name,
           const std::vector<std::size_t>& indices)
      : key(std::move(key_name)) {
    for (const std::size_t h : indices) {
      const Operation& op = history.operations[h];
      Call c;
      c.history = h;
      c.ended = model.compile(op);
      if (op.outcome == Outcome::ok) {
        if constexpr (requires { model.compile(op, Outcome::unknown); }) {
          c.in_flight = model.compile(op, Outcome::unknown);
        } else {
          Operation pending = op;
          pending.outcome = Outcome::unknown;
          c.in_flight = model.compile(pending);
        }
      } else if (op.outcome == Outcome::unknown) {
        c.in_flight = c.ended;
      }
      c.call = op.call;
      c.ret = op.outcome == Outcome::unknown ? Nanos::max() : op.ret;
      // Nanos::max() marks a call open to the end; a call that returned returned before that.
      LS_ASSERT_MSG(op.outcome == Outcome::unknown || op.ret < Nanos::max(), op.origin);
      calls.push_back(std::move(c));
    }
  }

  Problem<typename M::Op> whole() const {
    Problem<typename M::Op> p;
    for (std::size_t k = 0; k < calls.size(); ++k) {
      if (calls[k].ended.role != Role::ignore) p.add(calls[k].ended, calls[k].call, calls[k].ret, k);
    }
    return p;
  }

  // The calls that end with a return that can matter, in event order (time, then history order).
  std::vector<std::size_t> return_order() const {
    std::vector<std::size_t> order;
    for (std::size_t k = 0; k < calls.size(); ++k) {
      if (calls[k].ret != Nanos::max() && calls[k].ended.role != Role::ignore) order.push_back(k);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return calls[a].ret < calls[b].ret; });
    return order;
  }

  // The history up to and including the return of call order[end]: calls made by then, those
  // among order[0..end] as they ended, the rest as in flight.
  Problem<typename M::Op> prefix(const std::vector<std::size_t>& order, std::size_t end) const {
    const Nanos cut = calls[order[end]].ret;
    std::vector<std::uint8_t> returned(calls.size(), 0);
    for (std::size_t r = 0; r <= end; ++r) returned[order[r]] = 1;
    Problem<typename M::Op> p;
    for (std::size_t k = 0; k < calls.size(); ++k) {
      if (calls[k].call > cut) continue;
      if (returned[k]) {
        p.add(calls[k].ended, calls[k].call, calls[k].ret, k);
      } else if (calls[k].in_flight.role != Role::ignore) {
        p.add(calls[k].in_flight, calls[k].call, Nanos::max(), k);
      }
    }
    return p;
  }
};

template <typename M>
std::optional<Violation> explain(M& model, const History& history, const KeyCalls<M>& key,
                                 const CheckOptions& options, std::string& stopped) {
  Budget budget{options.search_steps_max, options.search_steps_max, options.search_states_max,
                &options.stop_requested, {}};
  const std::vector<std::size_t> order = key.return_order();
  LS_ASSERT(!order.empty());
  // Prefixes ending later are illegal when an earlier one is; the whole history is. Find the
  // first illegal one.
  std::size_t lo = 0;
  std::size_t hi = order.size() - 1;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const auto problem = key.prefix(order, mid);
    Search<M> search(model, problem);
    const SearchResult r = search.run(budget);
    if (r == SearchResult::stopped) {
      stopped = fmt::format("{} ran out while looking for the shortest illegal prefix", budget.ran_out);
      return std::nullopt;
    }
    if (r == SearchResult::not_linearizable) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  const std::size_t culprit = order[hi];
  const auto problem = key.prefix(order, hi);
  const std::size_t target =
      static_cast<std::size_t>(std::find(problem.source.begin(), problem.source.end(), culprit) -
                               problem.source.begin());
  LS_ASSERT_LT(target, problem.size());
  typename Search<M>::Recorded recorded;
  Search<M> search(model, problem);
  const SearchResult r = search.run(budget, target, &recorded);
  if (r == SearchResult::stopped) {
    stopped = fmt::format("{} ran out while collecting the states of the violation", budget.ran_out);
    return std::nullopt;
  }
  LS_ASSERT(r == SearchResult::not_linearizable);

  const auto& c = key.calls[culprit];
  Violation v;
  v.key = key.key;
  v.operation = c.history;
  v.needed = model.describe_need(c.ended.op);
  std::vector<std::string> states;
  for (const auto& s : recorded.states) states.push_back(model.describe_state(s));
  std::sort(states.begin(), states.end());
  states.erase(std::unique(states.begin(), states.end()), states.end());
  if (states.size() > kShownStatesMax) {
    v.states_more = states.size() - kShownStatesMax;
    states.resize(kShownStatesMax);
  }
  v.states = std::move(states);

  const Nanos cut = c.ret;
  std::vector<std::size_t> before;  // returned before the culprit was called
  for (std::size_t k = 0; k < key.calls.size(); ++k) {
    const auto& other = key.calls[k];
    if (other.call > cut) continue;
    ++v.prefix_calls;
    const bool returned = other.ret < cut || (other.ret == cut && k <= culprit);
    if (returned) ++v.prefix_completed;
    if (other.ret >= c.call) {
      v.context.push_back(other.history);
    } else {
      before.push_back(k);
    }
  }
  std::stable_sort(before.begin(), before.end(), [&](std::size_t a, std::size_t b) {
    return key.calls[a].ret > key.calls[b].ret;
  });
  if (before.size() > kContextBeforeMax) before.resize(kContextBeforeMax);
  for (const std::size_t k : before) v.context.push_back(key.calls[k].history);
  std::sort(v.context.begin(), v.context.end(), [&](std::size_t a, std::size_t b) {
    const Nanos ca = history.operations[a].call;
    const Nanos cb = history.operations[b].call;
    return ca != cb ? ca < cb : a < b;
  });
  return v;
}

// Checks the operations `selected` picks (all of them by default) against model M, key by key,
// adding to `result`: a second call (the other model of a lock_service history) goes on from the
// first's verdict and search effort.
template <typename M>
void check_with(const History& history, const CheckOptions& options, CheckResult& result,
                const std::function<bool(const Operation&)>& selected = {}) {
  std::map<std::string, std::vector<std::size_t>> by_key;
  for (std::size_t i = 0; i < history.operations.size(); ++i) {
    if (selected && !selected(history.operations[i])) continue;
    LS_ASSERT_MSG(!M::check(history.operations[i]).has_value(), history.operations[i].origin);
    by_key[history.operations[i].key].push_back(i);
  }
  result.keys += by_key.size();
  // Small keys first: a violation in a small key is found before a large key spends the budget.
  std::vector<const std::pair<const std::string, std::vector<std::size_t>>*> keys;
  for (const auto& entry : by_key) keys.push_back(&entry);
  std::stable_sort(keys.begin(), keys.end(),
                   [](const auto* a, const auto* b) { return a->second.size() < b->second.size(); });

  const std::uint64_t steps_left =
      options.search_steps_max - std::min(options.search_steps_max, result.search_steps);
  Budget budget{steps_left, steps_left, options.search_states_max, &options.stop_requested, {}};
  for (const auto* entry : keys) {
    if (options.stop_requested && options.stop_requested()) {
      result.verdict = Verdict::unknown;
      result.stopped = fmt::format("the time limit ran out before key {}", describe_value(entry->first));
      return;
    }
    M model(entry->first);
    const KeyCalls<M> calls(model, history, entry->first, entry->second);
    const auto problem = calls.whole();
    result.calls_searched += problem.size();
    ++result.keys_searched;
    Search<M> search(model, problem);
    const SearchResult r = search.run(budget);
    result.search_steps += search.steps();
    result.search_states += search.states();
    if (r == SearchResult::stopped) {
      result.verdict = Verdict::unknown;
      if (result.stopped.empty()) {
        result.stopped = fmt::format("{} ran out on key {} ({} calls)", budget.ran_out,
                                     describe_value(entry->first), problem.size());
      }
      if (budget.steps_left == 0) return;
      continue;  // another key may still show a violation
    }
    if (r == SearchResult::not_linearizable) {
      result.verdict = Verdict::not_linearizable;
      result.failed_key = entry->first;
      result.stopped.clear();
      if (options.explain) result.violation = explain(model, history, calls, options, result.stopped);
      return;
    }
  }
}

}  // namespace

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::linearizable: return "linearizable";
    case Verdict::not_linearizable: return "not linearizable";
    case Verdict::unknown: return "unknown";
  }
  return "?";
}

CheckResult check_linearizability(const History& history, ModelKind model,
                                  const CheckOptions& options) {
  CheckResult result;
  switch (model) {
    case ModelKind::register_: check_with<RegisterModel>(history, options, result); break;
    case ModelKind::kv: check_with<KvModel>(history, options, result); break;
    case ModelKind::lock: check_with<LockModel>(history, options, result); break;
    case ModelKind::namespace_: check_with<NamespaceModel>(history, options, result); break;
    case ModelKind::lock_service: {
      check_with<LockModel>(history, options, result,
                            [](const Operation& op) { return is_lock_function(op.f); });
      if (result.verdict == Verdict::not_linearizable) break;
      if (result.verdict == Verdict::unknown && result.search_steps >= options.search_steps_max) break;
      check_with<NamespaceModel>(history, options, result,
                                 [](const Operation& op) { return !is_lock_function(op.f); });
      break;
    }
  }
  return result;
}

}  // namespace lockstep::checkers
