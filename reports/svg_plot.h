// A small, self-contained SVG writer for line, step and point plots: a title, two labelled axes
// with "nice" ticks (1, 2 or 5 times a power of ten) and grid lines, one path per series, and a
// legend naming each series, so that several protocols can share one plot. Shaded x-ranges mark
// spans of time (fault windows) behind the series. A lane chart draws one horizontal lane per
// row (a node) with bars along a shared x axis (who led when).
//
// The output depends only on the Plot (no clock, no locale: numbers are printed with fmt), so the
// same data always gives byte-identical SVG. All text is XML-escaped.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lockstep::reports {

struct PlotPoint {
  double x = 0;
  double y = 0;
};

enum class PlotStyle : unsigned char {
  line,  // straight segments from point to point
  step,  // y holds until the next point's x, then jumps: an empirical CDF
  points,  // a dot per point, unconnected: a scatter plot
};

struct PlotSeries {
  std::string name;  // shown in the legend
  std::vector<PlotPoint> points;  // in drawing order
  PlotStyle style = PlotStyle::line;
};

// A span of x shaded behind the series, labelled at the top of the plot; from == to draws a
// dashed vertical line (something that happened at one moment).
struct ShadedRange {
  double from = 0;
  double to = 0;
  std::string label;
  std::string color = "#f4a261";  // any SVG colour; drawn translucent
};

struct Plot {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<PlotSeries> series;
  // Axis ranges; unset ends follow the data, widened to the nearest tick.
  std::optional<double> x_min, x_max, y_min, y_max;
  int width_px = 720;
  int height_px = 440;
  std::vector<ShadedRange> shaded;  // drawn in order, behind the grid and the series
  bool legend_top = false;  // the legend in the upper right instead of the lower right
  // Prefix of the element ids the document defines, so that several plots can be inlined in one
  // HTML page without their ids colliding.
  std::string id = "plot";
};

// The whole document, starting with "<svg" and ending with "</svg>\n".
std::string render_svg(const Plot& plot);

// One bar in a lane chart: lane `lane` is busy over [from, to).
struct LaneBar {
  std::size_t lane = 0;
  double from = 0;
  double to = 0;
  std::string label;  // written inside the bar when it fits
  std::string color = "#1f77b4";
  std::string title;  // shown on hover; the label when empty
};

struct LegendEntry {
  std::string label;
  std::string color;
};

struct LaneChart {
  std::string title;
  std::string x_label;
  std::vector<std::string> lanes;  // top to bottom
  std::vector<LaneBar> bars;       // drawn in order: later bars over earlier ones
  std::vector<ShadedRange> shaded;  // across every lane, behind the bars
  std::vector<LegendEntry> legend;  // below the axis
  std::optional<double> x_min, x_max;
  int width_px = 720;
  int lane_px = 30;
  std::string id = "lanes";
};

// The whole document, as render_svg; its height follows the number of lanes.
std::string render_lanes(const LaneChart& chart);

// Text safe inside an XML element or a double-quoted attribute.
std::string escape_xml(std::string_view text);

// Evenly spaced ticks covering [lo, hi]: the step is 1, 2 or 5 times a power of ten, chosen to give
// about `count_target` ticks; the first tick is <= lo and the last >= hi. lo == hi is widened.
std::vector<double> nice_ticks(double lo, double hi, int count_target = 6);

// The empirical CDF of `values` as a step series: y(x) = (number of values <= x) / total.
// `total` may exceed values.size() (say, trials that never finished), so the curve ends below 1.
PlotSeries cdf_series(std::string name, std::vector<double> values, std::size_t total);

}  // namespace lockstep::reports
