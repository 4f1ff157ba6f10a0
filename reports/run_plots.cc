#include "reports/run_plots.h"

#include <algorithm>
#include <array>
#include <map>

#include <fmt/format.h>

#include "harness/run.h"

namespace lockstep::reports {

namespace {

constexpr std::string_view kCrashColor = "#d62728";
constexpr std::string_view kPauseColor = "#9467bd";
constexpr std::string_view kPartitionColor = "#f4a261";
constexpr std::string_view kClogColor = "#8c564b";
constexpr std::string_view kInstantColor = "#555555";
constexpr std::string_view kDownColor = "#9e9e9e";
// Terms cycle through these, so that consecutive leaders differ in colour.
constexpr std::array<std::string_view, 6> kTermColors = {"#1f77b4", "#2ca02c", "#17becf",
                                                         "#ff7f0e", "#e377c2", "#bcbd22"};

std::string_view fault_color(harness::FaultKind kind) {
  switch (kind) {
    case harness::FaultKind::crash: return kCrashColor;
    case harness::FaultKind::pause: return kPauseColor;
    case harness::FaultKind::partition: return kPartitionColor;
    case harness::FaultKind::clog: return kClogColor;
    case harness::FaultKind::instant: return kInstantColor;
  }
  return kInstantColor;
}

double to_seconds(Nanos t) { return t.seconds(); }

}  // namespace

std::vector<ShadedRange> fault_shading(const harness::RunTimeline& t, bool lane_faults) {
  std::vector<ShadedRange> out;
  for (const harness::FaultWindow& w : t.faults) {
    const bool in_lane = w.kind == harness::FaultKind::crash ||
                         w.kind == harness::FaultKind::pause;
    if (in_lane && !lane_faults && !w.servers.empty()) continue;
    out.push_back(ShadedRange{to_seconds(w.from), to_seconds(w.until), w.label,
                              std::string(fault_color(w.kind))});
  }
  return out;
}

Plot latency_plot(const harness::RunTimeline& t, std::string title, std::string id) {
  Plot p;
  p.title = std::move(title);
  p.id = std::move(id);
  p.x_label = "true time (s) when the call was invoked";
  p.y_label = "latency (ms)";
  p.width_px = 1000;
  p.height_px = 400;
  p.x_min = 0;
  p.x_max = to_seconds(t.end);
  p.y_min = 0;
  p.shaded = fault_shading(t, true);
  p.legend_top = true;
  PlotSeries ok{"ok", {}, PlotStyle::points};
  PlotSeries failed{"failed (answered with an error)", {}, PlotStyle::points};
  for (const harness::CallRecord& c : t.calls) {
    if (c.waits || !c.returned) continue;
    const PlotPoint point{to_seconds(c.invoked), (*c.returned - c.invoked).millis()};
    (c.result == harness::CallResult::ok ? ok : failed).points.push_back(point);
  }
  if (ok.points.size() > kLatencyDotsMax) {
    // p50 and p99 per bucket: 100 buckets over the run.
    const double width = std::max(to_seconds(t.end) / 100.0, 1e-9);
    std::map<std::int64_t, std::vector<Nanos>> buckets;
    for (const PlotPoint& q : ok.points) {
      buckets[static_cast<std::int64_t>(q.x / width)].push_back(
          Nanos{static_cast<std::int64_t>(q.y * 1e6)});
    }
    PlotSeries p50{"p50 per bucket (ok calls)", {}, PlotStyle::line};
    PlotSeries p99{"p99 per bucket (ok calls)", {}, PlotStyle::line};
    for (auto& [k, latencies] : buckets) {
      const harness::LatencySummary s = harness::summarize_latencies(std::move(latencies));
      const double x = (static_cast<double>(k) + 0.5) * width;
      p50.points.push_back({x, s.p50.millis()});
      p99.points.push_back({x, s.p99.millis()});
    }
    p.series = {std::move(p50), std::move(p99)};
  } else {
    p.series = {std::move(ok)};
  }
  if (!failed.points.empty()) p.series.push_back(std::move(failed));
  // A few slow calls (the ones caught by a fault) would squash every other dot against the axis:
  // the axis stops at 4 x p99 or 20 x p50, whichever is lower (at least 1ms), and calls above it
  // are drawn on the top edge as a series of their own, their number in its name.
  std::vector<Nanos> all;
  for (const PlotSeries& s : p.series) {
    for (const PlotPoint& q : s.points) all.push_back(Nanos{static_cast<std::int64_t>(q.y * 1e6)});
  }
  const harness::LatencySummary summary = harness::summarize_latencies(std::move(all));
  const double top =
      std::max(1.0, std::min(summary.p99.millis() * 4, summary.p50.millis() * 20));
  if (summary.max.millis() > top) {
    p.y_max = nice_ticks(0, top).back();
    const double edge = *p.y_max * 0.98;
    PlotSeries above{"", {}, PlotStyle::points};
    for (PlotSeries& s : p.series) {
      std::erase_if(s.points, [&](const PlotPoint& q) {
        if (q.y <= top) return false;
        above.points.push_back({q.x, edge});
        return true;
      });
    }
    above.name = fmt::format("{} slower calls (up to {:.0f}ms), drawn at the top", above.points.size(),
                             summary.max.millis());
    p.series.push_back(std::move(above));
  }
  return p;
}

LaneChart leader_chart(const harness::RunTimeline& t, std::string title, std::string id) {
  LaneChart c;
  c.title = std::move(title);
  c.id = std::move(id);
  c.x_label = "true time (s)";
  c.width_px = 1000;
  c.x_min = 0;
  c.x_max = to_seconds(t.end);
  for (std::uint32_t s = 0; s < t.servers; ++s) c.lanes.push_back(fmt::format("n{}", s));
  c.shaded = fault_shading(t, false);
  for (const harness::RoleSpan& r : t.roles) {
    if (!r.up) {
      c.bars.push_back(LaneBar{r.node, to_seconds(r.from), to_seconds(r.until), "down",
                               std::string(kDownColor), fmt::format("n{} down", r.node)});
    }
  }
  for (const harness::FaultWindow& w : t.faults) {
    if (w.kind != harness::FaultKind::pause) continue;
    for (std::uint32_t s : w.servers) {
      c.bars.push_back(LaneBar{s, to_seconds(w.from), to_seconds(w.until), "paused",
                               std::string(kPauseColor), w.label});
    }
  }
  for (const harness::RoleSpan& r : t.roles) {
    if (!r.up || r.role != consensus::Role::leader) continue;
    c.bars.push_back(LaneBar{r.node, to_seconds(r.from), to_seconds(r.until), fmt::format("t{}", r.term),
                             std::string(kTermColors[r.term % kTermColors.size()]),
                             fmt::format("n{} leader in term {} from {:.3f}s to {:.3f}s", r.node,
                                         r.term, to_seconds(r.from), to_seconds(r.until))});
  }
  c.legend = {{"leader (label: term / ballot / epoch)", std::string(kTermColors[0])},
              {"down", std::string(kDownColor)},
              {"paused", std::string(kPauseColor)},
              {"partition", std::string(kPartitionColor)},
              {"clog", std::string(kClogColor)}};
  return c;
}

}  // namespace lockstep::reports
