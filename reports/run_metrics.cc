#include "reports/run_metrics.h"

#include <algorithm>

#include "core/assert.h"

namespace lockstep::reports {

Availability compute_availability(const harness::RunTimeline& t, Nanos bucket) {
  LS_ASSERT_GT(bucket, Nanos::zero());
  Availability out;
  if (t.duration <= Nanos::zero()) return out;
  const std::int64_t buckets = (t.duration.count + bucket.count - 1) / bucket.count;
  std::vector<std::uint8_t> demand(static_cast<std::size_t>(buckets), 0);
  std::vector<std::uint8_t> progress(static_cast<std::size_t>(buckets), 0);
  const auto index = [&](Nanos at) { return at.count / bucket.count; };
  for (const harness::CallRecord& c : t.calls) {
    if (c.waits || c.invoked >= t.duration) continue;
    // Outstanding over [invoked, returned); a call that never returned is outstanding to the end.
    const Nanos until = c.returned.value_or(t.end);
    const std::int64_t first = index(c.invoked);
    // The bucket holding the last instant before `until`; a call answered at its invocation
    // instant still made a demand in that bucket.
    const std::int64_t last = until > c.invoked ? index(until - Nanos{1}) : first;
    for (std::int64_t k = first; k <= std::min(last, buckets - 1); ++k) {
      demand[static_cast<std::size_t>(k)] = 1;
    }
  }
  for (const harness::CommitPoint& c : t.commits) {
    if (c.at >= t.duration) break;  // by time
    progress[static_cast<std::size_t>(index(c.at))] = 1;
  }
  for (std::size_t k = 0; k < demand.size(); ++k) {
    if (demand[k] == 0) continue;
    ++out.demand_buckets;
    if (progress[k] != 0) ++out.available_buckets;
  }
  return out;
}

namespace {

bool names(const harness::FaultWindow& w, std::uint32_t server) {
  return std::find(w.servers.begin(), w.servers.end(), server) != w.servers.end();
}

bool in(const harness::FaultWindow& w, Nanos at) { return w.from <= at && at < w.until; }

}  // namespace

std::vector<SettledSpan> settled_spans(const harness::RunTimeline& t) {
  std::vector<Nanos> cuts{Nanos::zero()};
  for (const harness::RoleSpan& r : t.roles) cuts.push_back(r.from);
  for (const harness::FaultWindow& w : t.faults) {
    if (w.kind == harness::FaultKind::pause || w.kind == harness::FaultKind::partition) {
      cuts.push_back(w.from);
      cuts.push_back(w.until);
    }
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::erase_if(cuts, [&](Nanos c) { return c >= t.end; });

  // Each server's spans, in time order (the timeline keeps them by node, then time).
  std::vector<std::vector<const harness::RoleSpan*>> by_server(t.servers);
  for (const harness::RoleSpan& r : t.roles) {
    LS_ASSERT_LT(r.node, t.servers);
    by_server[r.node].push_back(&r);
  }
  std::vector<std::size_t> at(t.servers, 0);

  std::vector<SettledSpan> out;
  for (std::size_t i = 0; i < cuts.size(); ++i) {
    const Nanos now = cuts[i];
    const Nanos next = i + 1 < cuts.size() ? cuts[i + 1] : t.end;
    std::vector<const harness::RoleSpan*> role(t.servers, nullptr);
    std::vector<bool> live(t.servers, false);
    for (std::uint32_t s = 0; s < t.servers; ++s) {
      auto& k = at[s];
      while (k < by_server[s].size() && by_server[s][k]->until <= now) ++k;
      if (k == by_server[s].size() || by_server[s][k]->from > now) continue;  // no span: unknown
      role[s] = by_server[s][k];
      bool cut = false;
      for (const harness::FaultWindow& w : t.faults) {
        const bool away = w.kind == harness::FaultKind::pause ||
                          w.kind == harness::FaultKind::partition;
        if (away && in(w, now) && names(w, s)) cut = true;
      }
      live[s] = role[s]->up && !cut;
    }
    // The leader a live leader names for itself, if all live servers agree on it.
    std::optional<std::pair<NodeId, std::uint64_t>> on;
    for (std::uint32_t s = 0; s < t.servers; ++s) {
      if (live[s] && role[s]->role == consensus::Role::leader) {
        if (!on || role[s]->term > on->second) on = std::pair{NodeId{s}, role[s]->term};
      }
    }
    if (on) {
      for (std::uint32_t s = 0; s < t.servers && on; ++s) {
        if (!live[s] || s == on->first.value) continue;
        if (role[s]->leader != on->first || role[s]->term != on->second) on.reset();
      }
    }
    if (!out.empty() && out.back().on == on) {
      out.back().until = next;
    } else {
      out.push_back(SettledSpan{now, next, on});
    }
  }
  return out;
}

std::vector<FailoverEpisode> compute_failovers(const harness::RunTimeline& t) {
  const std::vector<SettledSpan> spans = settled_spans(t);
  std::vector<FailoverEpisode> out;
  const SettledSpan* last = nullptr;  // the latest settled span seen
  for (const SettledSpan& s : spans) {
    if (!s.on) continue;
    if (last != nullptr && *last->on != *s.on) {
      out.push_back(FailoverEpisode{last->on->first, last->on->second, last->until, s.on->first,
                                    s.on->second, s.from});
    }
    last = &s;
  }
  if (last != nullptr && !spans.empty() && !spans.back().on) {
    out.push_back(FailoverEpisode{last->on->first, last->on->second, last->until, std::nullopt, 0,
                                  std::nullopt});
  }
  return out;
}

RunMetrics compute_metrics(const harness::RunResult& result) {
  LS_ASSERT(result.timeline.has_value());  // run with RunOptions::collect_timeline
  const harness::RunTimeline& t = *result.timeline;
  RunMetrics m;
  m.availability = compute_availability(t);
  m.failovers = compute_failovers(t);
  std::vector<Nanos> latencies;
  for (const harness::CallRecord& c : t.calls) {
    if (c.result != harness::CallResult::ok) continue;
    ++m.calls_ok;
    if (!c.waits) latencies.push_back(*c.returned - c.invoked);
  }
  m.latency = harness::summarize_latencies(std::move(latencies));
  if (t.duration > Nanos::zero()) {
    m.throughput_per_s = static_cast<double>(m.calls_ok) / t.duration.seconds();
  }
  m.committed = t.committed;
  if (t.committed > 0) {
    m.messages_per_commit =
        static_cast<double>(result.messages_sent) / static_cast<double>(t.committed);
    m.bytes_per_commit = static_cast<double>(result.bytes_sent) / static_cast<double>(t.committed);
  }
  return m;
}

}  // namespace lockstep::reports
