#include "harness/lock_checks.h"

#include <algorithm>
#include <deque>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "core/duration.h"
#include "harness/lock_workloads.h"
#include "service/lock/lock_path.h"
#include "service/lock/lock_types.h"

namespace lockstep::harness {

namespace {

using service::lock::Cause;
using service::lock::Code;
using service::lock::EventKind;
using service::lock::kOpenTokenBit;

// "12.3ms", "2.41s": readable, not exact.
std::string approx(Nanos d) { return format_duration_approx(d); }

std::string who(const LockHistory& h, SessionId s) {
  const auto it = h.client_of.find(s);
  return it == h.client_of.end() ? fmt::format("session {}", s.value)
                                 : fmt::format("client {} (session {})", it->second, s.value);
}

bool is_client_session(SessionId s) { return s.value != 0 && (s.value & kOpenTokenBit) == 0; }

template <typename T>
bool is(const Command& c) {
  return std::holds_alternative<T>(c);
}

LockCheck pass(std::string detail) { return LockCheck{Verdict::pass, std::move(detail)}; }
LockCheck fail(std::string detail) { return LockCheck{Verdict::fail, std::move(detail)}; }
LockCheck not_applicable(std::string detail) {
  return LockCheck{Verdict::not_applicable, std::move(detail)};
}

// An exclusive grant as the service made it, in true time.
struct Grant {
  std::uint64_t generation = 0;
  SessionId session;
  Nanos from;
  Nanos until = Nanos::max();  // the apply that released it (release, expiry, close, delete)
};

std::map<std::string, std::vector<Grant>> exclusive_grants(const LockHistory& h) {
  std::map<std::string, std::vector<Grant>> grants;
  for (const AppliedRecord& a : h.applied) {
    for (const Event& e : a.events) {
      if (e.kind == EventKind::lock_acquired && e.mode == service::lock::LockMode::exclusive) {
        grants[e.path].push_back(Grant{e.generation, e.session, a.at});
      } else if (e.kind == EventKind::lock_released) {
        const auto it = grants.find(e.path);
        if (it == grants.end()) continue;
        for (Grant& g : it->second) {
          if (g.session == e.session && g.until == Nanos::max()) g.until = a.at;
        }
      }
    }
  }
  return grants;
}

// The service's half of mutual_exclusion (see lock_checks.h): no exclusive grant of a lock began
// while another was still in force. Grants are in apply order, so each only needs comparing with
// those before it that had not ended.
std::optional<std::string> overlapping_grants(const LockHistory& h) {
  for (const auto& [path, list] : exclusive_grants(h)) {
    const Grant* longest = nullptr;  // of the grants so far, the one in force the longest
    for (const Grant& g : list) {
      if (longest != nullptr && g.from < longest->until) {
        return fmt::format(
            "lock {}: the service granted it to {} under generation {} at {} while {} still held "
            "it under generation {} (granted at {}{}): two exclusive holders at once",
            path, who(h, g.session), g.generation, approx(g.from), who(h, longest->session),
            longest->generation, approx(longest->from),
            longest->until == Nanos::max() ? std::string(", never released")
                                           : ", released at " + approx(longest->until));
      }
      if (longest == nullptr || g.until > longest->until) longest = &g;
    }
  }
  return std::nullopt;
}

}  // namespace

LockCheck check_mutual_exclusion(const LockHistory& h) {
  struct Newest {
    std::uint64_t generation = 0;
    const ResourceRecord* by = nullptr;
  };
  std::map<std::string, Newest> newest;
  std::uint64_t writes = 0;
  for (const ResourceRecord& r : h.resource) {
    const auto& req = r.access.request;
    Newest& n = newest[req.sequencer.path];
    if (req.op == service::ResourceOp::write) {
      ++writes;
      if (r.access.accepted && req.sequencer.generation < n.generation) {
        return fail(fmt::format(
            "lock {}: client {} wrote under generation {} at {}, accepted, after client {} had "
            "used generation {} at {}: two holders' writes interleaved",
            req.sequencer.path, r.client, req.sequencer.generation, approx(r.at), n.by->client,
            n.generation, approx(n.by->at)));
      }
    }
    if (req.sequencer.generation > n.generation) n = Newest{req.sequencer.generation, &r};
  }
  if (h.resource.empty()) return not_applicable("no client wrote to the protected resource");
  if (auto both = overlapping_grants(h)) return fail(std::move(*both));
  return pass(fmt::format("{} writes on {} locks: none accepted under an older generation after "
                          "a newer one had been used; the service never granted a lock to two "
                          "holders at once",
                          writes, newest.size()));
}

LockCheck check_fencing(const LockHistory& h) {
  if (h.resource.empty()) return not_applicable("no client used the protected resource");
  // Grants the service made: (lock, generation) -> session.
  std::map<std::pair<std::string, std::uint64_t>, SessionId> granted;
  for (const AppliedRecord& a : h.applied) {
    for (const Event& e : a.events) {
      if (e.kind == EventKind::lock_acquired) granted[{e.path, e.generation}] = e.session;
    }
  }
  std::map<std::string, const ResourceRecord*> last_accepted;
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  for (const ResourceRecord& r : h.resource) {
    const auto& req = r.access.request;
    if (req.op != service::ResourceOp::write) continue;  // reads are served to anyone
    if (!r.access.accepted) {
      ++rejected;
      continue;
    }
    ++accepted;
    const ResourceRecord*& last = last_accepted[req.sequencer.path];
    if (last != nullptr &&
        req.sequencer.generation < last->access.request.sequencer.generation) {
      return fail(fmt::format(
          "lock {}: the resource accepted generation {} (client {}, {}) after generation {} "
          "(client {}, {}): sequencers went backwards",
          req.sequencer.path, req.sequencer.generation, r.client, approx(r.at),
          last->access.request.sequencer.generation, last->client, approx(last->at)));
    }
    last = &r;
    const auto g = granted.find({req.sequencer.path, req.sequencer.generation});
    if (g == granted.end() || g->second.value != req.session) {
      return fail(fmt::format(
          "lock {}: the resource accepted generation {} from client {} (session {}) at {}, but "
          "the service granted {}",
          req.sequencer.path, req.sequencer.generation, r.client, req.session, approx(r.at),
          g == granted.end() ? std::string("no such generation") : who(h, g->second)));
    }
  }
  return pass(fmt::format("{} accepted writes on {} locks: generations never went backwards, "
                          "each a grant the service made to its writer; {} stale writes rejected",
                          accepted, last_accepted.size(), rejected));
}

LockCheck check_session_safety(const LockHistory& h, const LockCheckContext& c) {
  const Nanos ttl = c.service.session_ttl;
  const Nanos grace = c.service.session_grace;
  // Allowance for clock rates: a leader whose clock runs fast times a TTL short.
  const auto slack = [&](Nanos d) {
    return Nanos{static_cast<std::int64_t>(static_cast<double>(d.count) * 2.0 *
                                           c.drift_ppm_max / 1e6)} +
           microseconds(1);
  };
  std::map<SessionId, Nanos> lease_from;        // last ok KeepAlive or opening, applied
  std::optional<Nanos> leadership_from;         // last BeginLeadership applied
  std::map<std::string, Nanos> delay_from;      // lock released by an expiry
  std::map<SessionId, std::set<std::string>> ephemerals;
  struct Ended {
    Nanos at;
    std::uint64_t index = 0;
    const char* how = "";
  };
  std::map<SessionId, Ended> ended;  // by an expiry or the client's own CloseSession
  std::uint64_t expiries = 0;
  std::uint64_t delays = 0;
  Nanos closest = Nanos::max();  // smallest margin seen over a bound
  for (const AppliedRecord& a : h.applied) {
    // A session that ended accepts nothing more: its client's writes under it must be refused
    // (session_expired), or a holder whose lease was cut could still change the state. A retry
    // answered from the record repeats an answer given while the session lived.
    if (const auto it = ended.find(a.session);
        it != ended.end() && a.code == Code::ok && !a.from_record) {
      return fail(fmt::format("{} ended at {} ({}, index {}), but its request {} ({}) was "
                              "accepted at {} (index {})",
                              who(h, a.session), approx(it->second.at), it->second.how,
                              it->second.index, a.request, service::lock::command_name(a.command),
                              approx(a.at), a.index));
    }
    if (is<service::lock::CloseSession>(a.command) && a.code == Code::ok &&
        is_client_session(a.session)) {
      ended.emplace(a.session, Ended{a.at, a.index, "closed"});
    }
    if (is<service::lock::BeginLeadership>(a.command) && a.code == Code::ok) {
      leadership_from = a.at;
    }
    // A lease runs from the apply that started its timer. A retried KeepAlive answered from the
    // record, or a retried OpenSession answered with the session it opened, restarts nothing
    // (LockStateMachine::keep_alive and open_session run once): counting them would fail an
    // expiry that kept the TTL.
    if (a.code == Code::ok && !a.from_record && is<service::lock::KeepAlive>(a.command)) {
      lease_from[a.session] = a.at;
    }
    if (a.code == Code::ok && a.opened.value != 0) lease_from.emplace(a.opened, a.at);
    const auto* create = std::get_if<service::lock::Create>(&a.command);
    const bool ephemeral_made = create != nullptr && create->ephemeral && a.code == Code::ok &&
                                !a.from_record;
    for (const Event& e : a.events) {
      if (ephemeral_made && e.kind == EventKind::node_created) ephemerals[a.session].insert(e.path);
      if (e.kind == EventKind::node_deleted) {
        for (auto& [owner, paths] : ephemerals) paths.erase(e.path);
      }
      if (e.kind == EventKind::lock_released && e.cause == Cause::session_expired) {
        delay_from[e.path] = a.at;
      }
      if (e.kind == EventKind::lock_acquired) {
        if (const auto it = delay_from.find(e.path); it != delay_from.end()) {
          ++delays;
          const Nanos waited = a.at - it->second;
          if (waited + slack(c.service.lock_delay) < c.service.lock_delay) {
            return fail(fmt::format("lock {} was granted to {} at {}, {} after its holder's "
                                    "session expired: within the lock-delay of {}",
                                    e.path, who(h, e.session), approx(a.at), approx(waited),
                                    approx(c.service.lock_delay)));
          }
          closest = std::min(closest, waited - c.service.lock_delay);
          delay_from.erase(it);
        }
      }
    }
    const auto* expire = std::get_if<service::lock::ExpireSession>(&a.command);
    if (expire == nullptr || a.code != Code::ok) continue;
    ++expiries;
    const SessionId s = expire->session;
    ended.emplace(s, Ended{a.at, a.index, "expired"});
    if (const auto it = lease_from.find(s); it != lease_from.end()) {
      const Nanos lived = a.at - it->second;
      if (lived + slack(ttl) < ttl) {
        return fail(fmt::format("{} expired at {}, {} after its last KeepAlive was applied: "
                                "within its TTL of {}",
                                who(h, s), approx(a.at), approx(lived), approx(ttl)));
      }
      closest = std::min(closest, lived - ttl);
      if (leadership_from && *leadership_from > it->second) {
        const Nanos since = a.at - *leadership_from;
        if (since + slack(ttl + grace) < ttl + grace) {
          return fail(fmt::format("{} expired at {}, {} after a new leader began at {}: within "
                                  "TTL + grace ({})",
                                  who(h, s), approx(a.at), approx(since), approx(*leadership_from),
                                  approx(ttl + grace)));
        }
      }
    }
    if (const auto it = ephemerals.find(s); it != ephemerals.end() && !it->second.empty()) {
      return fail(fmt::format("{} expired at {} but its ephemeral node {} was not deleted",
                              who(h, s), approx(a.at), *it->second.begin()));
    }
  }
  std::string margin = closest == Nanos::max() ? std::string()
                                               : fmt::format(" (closest margin {})", approx(closest));
  return pass(fmt::format("{} sessions expired, none before TTL (+ grace after a failover), "
                          "ephemeral nodes deleted; {} locks re-granted after lock-delay{}; no "
                          "request accepted under an ended session",
                          expiries, delays, margin));
}

LockCheck check_at_most_once(const LockHistory& h) {
  std::map<std::pair<SessionId, std::uint64_t>, std::uint64_t> ran;  // -> index of the first run
  std::uint64_t answered_from_record = 0;
  for (const AppliedRecord& a : h.applied) {
    if (!is_client_session(a.session) || service::lock::is_read(a.command)) continue;
    if (a.from_record) {
      ++answered_from_record;
      continue;
    }
    // Refused before running: the session was gone, or the number was stale.
    if (a.code == Code::session_expired || a.code == Code::session_unknown ||
        a.code == Code::stale_request || a.code == Code::bad_request) {
      continue;
    }
    const auto [it, first] = ran.emplace(std::make_pair(a.session, a.request), a.index);
    if (!first) {
      return fail(fmt::format("{} request {} ({}) ran twice: at index {} and at index {}",
                              who(h, a.session), a.request,
                              service::lock::command_name(a.command), it->second, a.index));
    }
  }
  if (ran.empty()) return not_applicable("no client request was applied");
  return pass(fmt::format("{} client requests ran once each; {} retries answered from the record",
                          ran.size(), answered_from_record));
}

LockCheck check_watch_delivery(const LockHistory& h) {
  if (h.watches.empty()) return not_applicable("no client watched");
  std::vector<const Event*> all;  // in revision order (commit order), not copied
  for (const AppliedRecord& a : h.applied) {
    for (const Event& e : a.events) all.push_back(&e);
  }
  std::uint64_t taken = 0;
  std::uint64_t resyncs = 0;
  for (const WatchRecord& w : h.watches) {
    const auto matches = [&w](const Event& e) {
      return (w.kinds & service::lock::watch_bit(e.kind)) != 0 &&
             (e.path == w.path || (w.recursive && service::lock::is_within(e.path, w.path)));
    };
    Revision after = w.registered;  // the next due event is the first matching one after this
    auto next_due = [&]() -> const Event* {
      const auto it = std::upper_bound(all.begin(), all.end(), after,
                                       [](Revision r, const Event* e) { return r < e->revision; });
      const auto found =
          std::find_if(it, all.end(), [&matches](const Event* e) { return matches(*e); });
      return found == all.end() ? nullptr : *found;
    };
    for (const Event& got : w.taken) {
      if (got.kind == EventKind::resync) {
        ++resyncs;
        after = got.revision;
        continue;
      }
      ++taken;
      const Event* due = next_due();
      if (due == nullptr || due->revision != got.revision) {
        const std::string expected =
            due == nullptr ? std::string("nothing more")
                           : fmt::format("r{} ({} {})", due->revision.value,
                                         service::lock::to_string(due->kind), due->path);
        // At or before the last one taken: a repeat or a reordering. Past the one due: that one
        // was lost. Otherwise it is no event the watch matched.
        const std::string_view what =
            got.revision <= after                               ? "an event twice or out of order"
            : due != nullptr && due->revision < got.revision    ? "an event was lost"
                                                                : "an event the watch was never due";
        return fail(fmt::format("client {}'s watch {} on {} took r{} ({} {}) where {} was due: {}",
                                w.client, w.watch_id, w.path, got.revision.value,
                                service::lock::to_string(got.kind), got.path, expected, what));
      }
      after = got.revision;
    }
  }
  return pass(fmt::format("{} watches took {} events, each the next one due in commit order{}",
                          h.watches.size(), taken,
                          resyncs == 0 ? std::string()
                                       : fmt::format("; {} resyncs", resyncs)));
}

namespace {

struct Handoffs {
  std::uint64_t handoffs = 0;  // grants from a wait queue
  std::uint64_t wakeups = 0;
  std::vector<Nanos> times;  // release call to the next holder's acquire returning
  std::optional<std::string> fifo_broken;
  std::optional<std::string> wake_broken;
};

Handoffs measure_handoffs(const LockHistory& h) {
  struct Waiting {
    SessionId session;
    std::uint64_t request = 0;
    std::uint64_t index = 0;
  };
  Handoffs out;
  std::map<std::string, std::deque<Waiting>> queues;
  const auto drop_session = [&](SessionId s) {
    for (auto& [path, q] : queues) {
      std::erase_if(q, [s](const Waiting& w) { return w.session == s; });
    }
  };
  std::set<std::pair<SessionId, std::uint64_t>> granted_waits;
  // Waits that ended without a grant but with a completion the waiter is woken by: withdrawn by
  // the session's Release or Resign (cancelled), or the node deleted under it (no_node).
  std::set<std::pair<SessionId, std::uint64_t>> ended_waits;
  const auto end_waits = [&](std::deque<Waiting>& q, auto&& which) {
    for (const Waiting& w : q) {
      if (which(w)) ended_waits.insert({w.session, w.request});
    }
    std::erase_if(q, which);
  };
  for (const AppliedRecord& a : h.applied) {
    // Queue changes the command itself makes (before its grants).
    if (!a.from_record && is_client_session(a.session)) {
      if (const auto* acq = std::get_if<service::lock::Acquire>(&a.command);
          acq && a.code == Code::waiting) {
        queues[acq->path].push_back(Waiting{a.session, a.request, a.index});
      } else if (const auto* c = std::get_if<service::lock::Campaign>(&a.command);
                 c && a.code == Code::waiting) {
        queues[c->path].push_back(Waiting{a.session, a.request, a.index});
      }
      const std::string* withdrawn = nullptr;
      if (const auto* r = std::get_if<service::lock::Release>(&a.command)) withdrawn = &r->path;
      if (const auto* r = std::get_if<service::lock::Resign>(&a.command)) withdrawn = &r->path;
      // Only an ok withdraws: a Resign of a wait an Acquire queued is refused (not_held) and the
      // acquire still waits.
      if (withdrawn != nullptr && a.code == Code::ok) {
        end_waits(queues[*withdrawn], [&](const Waiting& w) { return w.session == a.session; });
      }
      if (is<service::lock::CloseSession>(a.command) && a.code == Code::ok) drop_session(a.session);
    }
    if (const auto* e = std::get_if<service::lock::ExpireSession>(&a.command);
        e && a.code == Code::ok) {
      drop_session(e->session);
    }
    const auto* release = std::get_if<service::lock::Release>(&a.command);
    for (const Event& e : a.events) {
      if (e.kind == EventKind::node_deleted) {
        if (const auto q = queues.find(e.path); q != queues.end()) {
          end_waits(q->second, [](const Waiting&) { return true; });
          queues.erase(q);
        }
      }
      if (e.kind != EventKind::lock_acquired) continue;
      std::deque<Waiting>& q = queues[e.path];
      const auto it = std::find_if(q.begin(), q.end(),
                                   [&](const Waiting& w) { return w.session == e.session; });
      if (it == q.end()) continue;  // granted at once, not from the queue
      ++out.handoffs;
      if (it != q.begin() && !out.fifo_broken) {
        out.fifo_broken = fmt::format(
            "lock {}: {} (queued at index {}) was granted at index {} while {} (queued at index "
            "{}) still waited",
            e.path, who(h, it->session), it->index, a.index, who(h, q.front().session),
            q.front().index);
      }
      const std::pair<SessionId, std::uint64_t> waiter{it->session, it->request};
      granted_waits.insert(waiter);
      // Timed when a client's release handed the lock on.
      if (release != nullptr && is_client_session(a.session)) {
        const auto rel = h.requests.find({a.session, a.request});
        const auto acq = h.requests.find(waiter);
        if (rel != h.requests.end() && acq != h.requests.end() && rel->second.first_sent &&
            acq->second.answered_at) {
          out.times.push_back(*acq->second.answered_at - *rel->second.first_sent);
        }
      }
      q.erase(it);
    }
  }
  for (const auto& [waiter, n] : h.wakeups) {
    out.wakeups += n;
    if (out.wake_broken) continue;
    if (n > 1) {
      out.wake_broken = fmt::format("{} was woken {} times for request {}", who(h, waiter.first),
                                    n, waiter.second);
    } else if (!granted_waits.contains(waiter) && !ended_waits.contains(waiter)) {
      out.wake_broken = fmt::format(
          "{} was woken for request {}, which was neither granted nor withdrawn nor left without "
          "its node",
          who(h, waiter.first), waiter.second);
    }
  }
  return out;
}

}  // namespace

LockCheck check_lock_handoff(const LockHistory& h, const LockCheckContext& c) {
  Handoffs m = measure_handoffs(h);
  if (m.fifo_broken) return fail(*m.fifo_broken);
  if (m.wake_broken) return fail(*m.wake_broken);
  if (m.handoffs == 0) return not_applicable("no lock was handed from a waiting queue");
  std::string timing = "not timed";
  if (!m.times.empty()) {
    std::sort(m.times.begin(), m.times.end());
    const Nanos p50 = m.times[m.times.size() / 2];
    const Nanos p99 = m.times[std::min(m.times.size() - 1, m.times.size() * 99 / 100)];
    const Nanos max = m.times.back();
    timing = fmt::format("release to next holder p50 {} p99 {} max {}", approx(p50), approx(p99),
                         approx(max));
    if (c.handoff_p50_max && p50 > *c.handoff_p50_max) {
      return fail(fmt::format("{} handoffs: {}, median above handoff_p50_max {}", m.handoffs,
                              timing, approx(*c.handoff_p50_max)));
    }
    if (c.handoff_max && max > *c.handoff_max) {
      return fail(fmt::format("{} handoffs: {}, above handoff_max {}", m.handoffs, timing,
                              approx(*c.handoff_max)));
    }
    if (c.handoff_p50_max || c.handoff_max) {
      timing += fmt::format(" (bounds: p50 {}, max {})",
                            c.handoff_p50_max ? approx(*c.handoff_p50_max) : std::string("-"),
                            c.handoff_max ? approx(*c.handoff_max) : std::string("-"));
    }
  }
  return pass(fmt::format("{} handoffs in FIFO order, {} wake-ups (at most one each); {}",
                          m.handoffs, m.wakeups, timing));
}

LockCheck check_lock_durability(const LockHistory& h, const std::vector<ServerState>& servers) {
  // h.applied is in index order: the command at an index is found by binary search.
  const auto applied_at = [&h](std::uint64_t index) -> const AppliedRecord* {
    const auto it = std::lower_bound(
        h.applied.begin(), h.applied.end(), index,
        [](const AppliedRecord& a, std::uint64_t i) { return a.index < i; });
    return it != h.applied.end() && it->index == index ? &*it : nullptr;
  };
  std::uint64_t acknowledged = 0;
  for (const auto& [key, r] : h.requests) {
    if (!r.acknowledged_index) continue;
    ++acknowledged;
    const AppliedRecord* at = applied_at(*r.acknowledged_index);
    if (at == nullptr || at->session != key.first || at->request != key.second) {
      return fail(fmt::format(
          "{} request {} was acknowledged at index {}, but the log has {} there", who(h, key.first),
          key.second, *r.acknowledged_index,
          at == nullptr ? std::string("nothing")
                        : fmt::format("session {} request {}", at->session.value, at->request)));
    }
  }
  std::map<std::uint64_t, const ServerState*> first_at;
  for (const ServerState& s : servers) {
    const auto [it, fresh] = first_at.emplace(s.applied_index, &s);
    if (!fresh && !same_bytes(it->second->snapshot, s.snapshot)) {
      return fail(fmt::format("servers {} and {} both applied through index {} but hold "
                              "different states",
                              it->second->server, s.server, s.applied_index));
    }
  }
  return pass(fmt::format("{} acknowledged writes at their index in the log; servers that "
                          "applied the same prefix hold identical state",
                          acknowledged));
}

LockCheck check_lock_liveness(const LockHistory& h, Nanos healed_at, Nanos bound) {
  std::uint64_t pending = 0;
  for (const LockCall& call : h.calls) {
    if (call.waits || h.crashed_clients.contains(call.client)) continue;
    const bool open = call.invoked <= healed_at && (!call.returned || *call.returned > healed_at);
    if (!open) continue;
    ++pending;
    if (!call.returned || *call.returned > healed_at + bound) {
      return fail(fmt::format("client {}'s {} (invoked at {}) was still pending {} after the "
                              "final heal at {}",
                              call.client, call.op, approx(call.invoked), format_duration(bound),
                              approx(healed_at)));
    }
  }
  return pass(fmt::format("{} calls pending at the final heal ({}) all finished within {}",
                          pending, approx(healed_at), format_duration(bound)));
}

std::map<Counter, std::uint64_t> count(const LockHistory& h, const ServiceSettings& service) {
  std::map<Counter, std::uint64_t> n;
  for (std::size_t i = 0; i < std::size(kCounterNames); ++i) n[static_cast<Counter>(i)] = 0;
  for (const AppliedRecord& a : h.applied) {
    if (is<service::lock::ExpireSession>(a.command) && a.code == Code::ok) {
      ++n[Counter::sessions_expired];
    }
    for (const Event& e : a.events) {
      if (e.kind != EventKind::lock_acquired) continue;
      ++n[is_election_path(service, e.path) ? Counter::elections : Counter::lock_grants];
    }
  }
  for (const ResourceRecord& r : h.resource) {
    if (!r.access.accepted) ++n[Counter::stale_writes_rejected];
  }
  for (const auto& [key, r] : h.requests) {
    if (r.attempts > 1) ++n[Counter::retried_requests];
  }
  n[Counter::handoffs] = measure_handoffs(h).handoffs;
  for (const WatchRecord& w : h.watches) n[Counter::watch_events] += w.taken.size();
  n[Counter::session_jeopardy] = h.jeopardies;
  std::set<std::uint64_t> expiry_revisions;
  std::set<std::string> delayed;
  for (const AppliedRecord& a : h.applied) {
    if (a.from_record) ++n[Counter::retries_from_record];
    if (const auto* w = std::get_if<service::lock::Watch>(&a.command);
        w != nullptr && w->start_revision.value != 0 && a.code == Code::ok && !a.from_record) {
      ++n[Counter::watch_resumes];
    }
    const bool expiry = is<service::lock::ExpireSession>(a.command) && a.code == Code::ok;
    for (const Event& e : a.events) {
      if (expiry) expiry_revisions.insert(e.revision.value);
      if (e.kind == EventKind::lock_released && e.cause == Cause::session_expired) {
        delayed.insert(e.path);
      }
      if (e.kind == EventKind::lock_acquired && delayed.erase(e.path) > 0) {
        ++n[Counter::lock_delays_served];
      }
    }
  }
  for (const WatchRecord& w : h.watches) {
    for (const Event& e : w.taken) {
      if (expiry_revisions.contains(e.revision.value)) ++n[Counter::expiry_events_watched];
    }
  }
  std::map<std::string, std::vector<const Holding*>> by_path;
  for (const Holding& hold : h.holdings) by_path[hold.path].push_back(&hold);
  for (const auto& [path, holds] : by_path) {
    // Holdings are recorded in the order they began.
    for (std::size_t i = 0; i < holds.size(); ++i) {
      const Nanos end_i = holds[i]->until.value_or(Nanos::max());
      for (std::size_t j = i + 1; j < holds.size() && holds[j]->from < end_i; ++j) {
        if (holds[i]->client != holds[j]->client) ++n[Counter::overlapping_holders];
      }
    }
  }
  return n;
}

}  // namespace lockstep::harness
