// The plots of one run's timeline (harness/run_timeline.h): client latency over time and who led
// when, both with the fault windows marked, on the run's true-time axis in seconds.
#pragma once

#include <string>
#include <vector>

#include "harness/run_timeline.h"
#include "reports/svg_plot.h"

namespace lockstep::reports {

// Above this many successful calls the latency plot shows p50 and p99 per time bucket instead of
// one dot per call, which keeps the page small.
inline constexpr std::size_t kLatencyDotsMax = 3000;

// The fault windows as shaded ranges (seconds), coloured by kind; `lane_faults` false leaves out
// crashes and pauses (the leader chart draws those in their lanes instead).
std::vector<ShadedRange> fault_shading(const harness::RunTimeline& timeline, bool lane_faults);

// Invoke time (s) against latency (ms) of every call that did not wait by design: successful
// calls as dots (or p50/p99 per bucket beyond kLatencyDotsMax), failed ones as a second series.
// `id` prefixes the SVG ids (plots inlined in one page need distinct ones).
Plot latency_plot(const harness::RunTimeline& timeline, std::string title, std::string id);

// A lane per server: bars where it believed it led (labelled with its term), grey where it was
// down, purple where it was paused; partitions and other faults shaded across the lanes.
LaneChart leader_chart(const harness::RunTimeline& timeline, std::string title, std::string id);

}  // namespace lockstep::reports
