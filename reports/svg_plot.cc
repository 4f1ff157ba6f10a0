#include "reports/svg_plot.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/assert.h"

namespace lockstep::reports {

namespace {

constexpr std::array<std::string_view, 8> kPalette = {
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
};
constexpr int kTicksMax = 50;
constexpr double kMarginLeft = 72;
constexpr double kMarginRight = 24;
constexpr double kMarginTop = 44;
constexpr double kMarginBottom = 56;
constexpr double kCharWidthPx = 7;  // a rough average at font-size 12, for sizing the legend

// 1, 2, 5 or 10 times 10^exponent. Ticks are computed as (k * mantissa) scaled by an exact power
// of ten, so that 0.6 prints and compares as 0.6, not 3 * 0.2 = 0.6000000000000001.
struct NiceStep {
  double mantissa = 1;
  int exponent = 0;
  double scaled(double k) const {
    const double power = std::pow(10.0, std::abs(exponent));
    return exponent >= 0 ? k * mantissa * power : k * mantissa / power;
  }
};

// The "nice number" of Heckbert's label algorithm (Graphics Gems, 1990): 1, 2, 5 or 10 times a
// power of ten, near `x` (rounded when `round`, else the smallest such number >= x).
NiceStep nice_number(double x, bool round) {
  const int exponent = static_cast<int>(std::floor(std::log10(x)));
  const double fraction = x / std::pow(10.0, exponent);
  double nice = 10;
  if (round) {
    nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  } else {
    nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  }
  return NiceStep{nice, exponent};
}

// Enough decimals to tell ticks `step` apart, and no more.
std::string tick_label(double value, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  if (std::abs(value) < step * 1e-6) value = 0;  // no "-0"
  return fmt::format("{:.{}f}", value, decimals);
}

std::string px(double v) { return fmt::format("{:.2f}", v); }

struct Range {
  double lo = 0;
  double hi = 1;
  std::vector<double> ticks;
};

Range axis_range(double data_lo, double data_hi, std::optional<double> lo, std::optional<double> hi) {
  const double want_lo = lo.value_or(data_lo);
  const double want_hi = hi.value_or(data_hi);
  std::vector<double> ticks = nice_ticks(want_lo, want_hi);
  Range r{lo.value_or(ticks.front()), hi.value_or(ticks.back()), {}};
  if (r.hi <= r.lo) r.hi = r.lo + 1;
  for (double t : ticks) {
    if (t >= r.lo - 1e-9 * (r.hi - r.lo) && t <= r.hi + 1e-9 * (r.hi - r.lo)) r.ticks.push_back(t);
  }
  return r;
}

// The shaded spans behind a plot's data, between `top` and `bottom`, each labelled at the top.
// Labels go in three staggered rows so that neighbouring windows do not print over each other.
template <typename ScaleX>
std::string shaded_ranges(const std::vector<ShadedRange>& ranges, const std::string& id,
                          const ScaleX& sx, double top, double bottom, const Range& xr) {
  if (ranges.empty()) return {};
  std::string out = fmt::format("<g class=\"shaded\" clip-path=\"url(#{}-area)\">\n", escape_xml(id));
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const ShadedRange& r = ranges[i];
    const double from = std::clamp(r.from, xr.lo, xr.hi);
    const double to = std::clamp(std::max(r.from, r.to), xr.lo, xr.hi);
    const std::string label = escape_xml(r.label);
    if (r.to <= r.from) {
      out += fmt::format(
          "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"1.5\" "
          "stroke-dasharray=\"4 3\"><title>{4}</title></line>\n",
          px(sx(from)), px(top), px(bottom), escape_xml(r.color), label);
    } else {
      out += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" fill-opacity=\"0.22\">"
          "<title>{}</title></rect>\n",
          px(sx(from)), px(top), px(std::max(1.0, sx(to) - sx(from))), px(bottom - top),
          escape_xml(r.color), label);
    }
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#555555\">{}</text>\n", px(sx(from) + 3),
        px(top + 11 + 11 * static_cast<double>(i % 3)), label);
  }
  out += "</g>\n";
  return out;
}

}  // namespace

std::string escape_xml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Control characters other than tab and newline are not allowed in XML 1.0 at all.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int count_target) {
  LS_ASSERT(std::isfinite(lo) && std::isfinite(hi));
  LS_ASSERT_GE(count_target, 2);
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const NiceStep step =
      nice_number(nice_number(hi - lo, false).scaled(1) / (count_target - 1), true);
  const double first = std::floor(lo / step.scaled(1));
  const double last = std::ceil(hi / step.scaled(1));
  std::vector<double> ticks;
  for (double k = first; k <= last && ticks.size() < kTicksMax; ++k) ticks.push_back(step.scaled(k));
  return ticks;
}

PlotSeries cdf_series(std::string name, std::vector<double> values, std::size_t total) {
  LS_ASSERT_GE(total, values.size());
  std::sort(values.begin(), values.end());
  PlotSeries s{std::move(name), {}, PlotStyle::step};
  if (values.empty()) return s;
  s.points.push_back({values.front(), 0});
  for (std::size_t i = 0; i < values.size(); ++i) {
    s.points.push_back({values[i], static_cast<double>(i + 1) / static_cast<double>(total)});
  }
  return s;
}

std::string render_svg(const Plot& plot) {
  LS_ASSERT_GT(plot.width_px, kMarginLeft + kMarginRight);
  LS_ASSERT_GT(plot.height_px, kMarginTop + kMarginBottom);
  double x_lo = std::numeric_limits<double>::infinity();
  double x_hi = -x_lo;
  double y_lo = x_lo;
  double y_hi = -x_lo;
  for (const PlotSeries& s : plot.series) {
    for (const PlotPoint& p : s.points) {
      LS_ASSERT(std::isfinite(p.x) && std::isfinite(p.y));
      x_lo = std::min(x_lo, p.x);
      x_hi = std::max(x_hi, p.x);
      y_lo = std::min(y_lo, p.y);
      y_hi = std::max(y_hi, p.y);
    }
  }
  const bool has_data = x_lo <= x_hi;
  if (!has_data) {
    x_lo = y_lo = 0;
    x_hi = y_hi = 1;
  }
  const Range xr = axis_range(x_lo, x_hi, plot.x_min, plot.x_max);
  const Range yr = axis_range(y_lo, y_hi, plot.y_min, plot.y_max);

  const double left = kMarginLeft;
  const double top = kMarginTop;
  const double right = plot.width_px - kMarginRight;
  const double bottom = plot.height_px - kMarginBottom;
  const auto sx = [&](double x) { return left + (x - xr.lo) / (xr.hi - xr.lo) * (right - left); };
  const auto sy = [&](double y) { return bottom - (y - yr.lo) / (yr.hi - yr.lo) * (bottom - top); };

  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n",
      plot.width_px, plot.height_px);
  out += fmt::format("<title>{}</title>\n", escape_xml(plot.title));
  out += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"white\"/>\n",
                     plot.width_px, plot.height_px);
  out += fmt::format(
      "<defs><clipPath id=\"{}-area\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>"
      "</clipPath></defs>\n",
      escape_xml(plot.id), px(left), px(top), px(right - left), px(bottom - top));
  out += fmt::format("<text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" "
                     "font-weight=\"bold\">{}</text>\n",
                     px(plot.width_px / 2.0), escape_xml(plot.title));

  out += shaded_ranges(plot.shaded, plot.id, sx, top, bottom, xr);

  // Grid lines and tick labels, then the axes over them.
  out += "<g class=\"grid\" stroke=\"#dddddd\" stroke-width=\"1\">\n";
  for (double t : xr.ticks) {
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", px(sx(t)), px(top),
                       px(bottom));
  }
  for (double t : yr.ticks) {
    out += fmt::format("<line x1=\"{1}\" y1=\"{0}\" x2=\"{2}\" y2=\"{0}\"/>\n", px(sy(t)), px(left),
                       px(right));
  }
  out += "</g>\n<g class=\"ticks\" fill=\"#333333\">\n";
  const double x_step = xr.ticks.size() > 1 ? xr.ticks[1] - xr.ticks[0] : 1;
  const double y_step = yr.ticks.size() > 1 ? yr.ticks[1] - yr.ticks[0] : 1;
  for (double t : xr.ticks) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(sx(t)),
                       px(bottom + 16), tick_label(t, x_step));
  }
  for (double t : yr.ticks) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", px(left - 6),
                       px(sy(t) + 4), tick_label(t, y_step));
  }
  out += "</g>\n";
  out += fmt::format(
      "<g class=\"axes\" stroke=\"#333333\" stroke-width=\"1\">"
      "<line x1=\"{0}\" y1=\"{2}\" x2=\"{1}\" y2=\"{2}\"/>"
      "<line x1=\"{0}\" y1=\"{3}\" x2=\"{0}\" y2=\"{2}\"/></g>\n",
      px(left), px(right), px(bottom), px(top));
  out += fmt::format("<text class=\"x-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                     px((left + right) / 2), px(plot.height_px - 14.0), escape_xml(plot.x_label));
  out += fmt::format(
      "<text class=\"y-label\" x=\"{0}\" y=\"{1}\" text-anchor=\"middle\" "
      "transform=\"rotate(-90 {0} {1})\">{2}</text>\n",
      px(18), px((top + bottom) / 2), escape_xml(plot.y_label));

  if (!has_data) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#888888\">"
                       "no data</text>\n",
                       px((left + right) / 2), px((top + bottom) / 2));
  }
  out += fmt::format(
      "<g class=\"series\" fill=\"none\" stroke-width=\"2\" clip-path=\"url(#{}-area)\">\n",
      escape_xml(plot.id));
  for (std::size_t i = 0; i < plot.series.size(); ++i) {
    const PlotSeries& s = plot.series[i];
    if (s.points.empty()) continue;
    if (s.style == PlotStyle::points) {
      out += fmt::format("<g fill=\"{}\" fill-opacity=\"0.6\" stroke=\"none\"><title>{}</title>",
                         kPalette[i % kPalette.size()], escape_xml(s.name));
      for (const PlotPoint& p : s.points) {
        out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"2\"/>", px(sx(p.x)), px(sy(p.y)));
      }
      out += "</g>\n";
      continue;
    }
    std::string d = fmt::format("M{} {}", px(sx(s.points[0].x)), px(sy(s.points[0].y)));
    for (std::size_t k = 1; k < s.points.size(); ++k) {
      const PlotPoint& p = s.points[k];
      if (s.style == PlotStyle::step) {
        d += fmt::format(" H{} V{}", px(sx(p.x)), px(sy(p.y)));
      } else {
        d += fmt::format(" L{} {}", px(sx(p.x)), px(sy(p.y)));
      }
    }
    out += fmt::format("<path stroke=\"{}\" d=\"{}\"><title>{}</title></path>\n",
                       kPalette[i % kPalette.size()], d, escape_xml(s.name));
  }
  out += "</g>\n";

  // The legend sits in the lower right of the plot area, where a CDF leaves room (or the upper
  // right, when asked).
  if (!plot.series.empty()) {
    std::size_t longest = 0;
    for (const PlotSeries& s : plot.series) longest = std::max(longest, s.name.size());
    const double row_px = 18;
    const double box_w = 40 + kCharWidthPx * static_cast<double>(longest);
    const double box_h = 8 + row_px * static_cast<double>(plot.series.size());
    const double bx = right - box_w - 10;
    const double by = plot.legend_top ? top + 10 : bottom - box_h - 10;
    out += fmt::format(
        "<g class=\"legend\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"white\" "
        "fill-opacity=\"0.85\" stroke=\"#bbbbbb\"/>\n",
        px(bx), px(by), px(box_w), px(box_h));
    for (std::size_t i = 0; i < plot.series.size(); ++i) {
      const double row_y = by + 4 + row_px * (static_cast<double>(i) + 0.5);
      const std::string_view color = kPalette[i % kPalette.size()];
      if (plot.series[i].style == PlotStyle::points) {
        out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"/>", px(bx + 18),
                           px(row_y), color);
      } else {
        out += fmt::format(
            "<line x1=\"{0}\" y1=\"{2}\" x2=\"{1}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"2\"/>",
            px(bx + 8), px(bx + 28), px(row_y), color);
      }
      out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", px(bx + 34), px(row_y + 4),
                         escape_xml(plot.series[i].name));
    }
    out += "</g>\n";
  }
  out += "</svg>\n";
  return out;
}

std::string render_lanes(const LaneChart& chart) {
  constexpr double kLaneLabelPx = 110;  // room for the lane names on the left
  constexpr double kLegendRowPx = 20;
  LS_ASSERT_GT(chart.lane_px, 8);
  LS_ASSERT_GT(chart.width_px, kLaneLabelPx + kMarginRight + 10);
  double x_lo = std::numeric_limits<double>::infinity();
  double x_hi = -x_lo;
  for (const LaneBar& b : chart.bars) {
    LS_ASSERT_LT(b.lane, chart.lanes.size());
    LS_ASSERT(std::isfinite(b.from) && std::isfinite(b.to));
    x_lo = std::min(x_lo, b.from);
    x_hi = std::max(x_hi, b.to);
  }
  if (x_lo > x_hi) {
    x_lo = 0;
    x_hi = 1;
  }
  const Range xr = axis_range(x_lo, x_hi, chart.x_min, chart.x_max);
  const double left = kLaneLabelPx;
  const double right = chart.width_px - kMarginRight;
  const double top = kMarginTop;
  const double lanes_px = chart.lane_px * static_cast<double>(chart.lanes.size());
  const double bottom = top + lanes_px;
  const double height = bottom + 44 + (chart.legend.empty() ? 0 : kLegendRowPx + 6);
  const auto sx = [&](double x) { return left + (x - xr.lo) / (xr.hi - xr.lo) * (right - left); };
  const auto lane_top = [&](std::size_t lane) {
    return top + chart.lane_px * static_cast<double>(lane);
  };

  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n",
      chart.width_px, px(height));
  out += fmt::format("<title>{}</title>\n", escape_xml(chart.title));
  out += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"white\"/>\n",
                     chart.width_px, px(height));
  out += fmt::format(
      "<defs><clipPath id=\"{}-area\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>"
      "</clipPath></defs>\n",
      escape_xml(chart.id), px(left), px(top), px(right - left), px(bottom - top));
  out += fmt::format("<text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" "
                     "font-weight=\"bold\">{}</text>\n",
                     px(chart.width_px / 2.0), escape_xml(chart.title));
  // Lanes: alternating backgrounds and names.
  out += "<g class=\"lanes\">\n";
  for (std::size_t i = 0; i < chart.lanes.size(); ++i) {
    out += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>"
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
        px(left), px(lane_top(i)), px(right - left), chart.lane_px, i % 2 == 0 ? "#f7f7f7" : "#ffffff",
        px(left - 8), px(lane_top(i) + chart.lane_px / 2.0 + 4), escape_xml(chart.lanes[i]));
  }
  out += "</g>\n";
  out += shaded_ranges(chart.shaded, chart.id, sx, top, bottom, xr);
  out += "<g class=\"grid\" stroke=\"#dddddd\" stroke-width=\"1\">\n";
  for (double t : xr.ticks) {
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", px(sx(t)), px(top),
                       px(bottom));
  }
  out += "</g>\n";
  out += fmt::format("<g class=\"bars\" clip-path=\"url(#{}-area)\">\n", escape_xml(chart.id));
  for (const LaneBar& b : chart.bars) {
    const double x0 = sx(std::clamp(b.from, xr.lo, xr.hi));
    const double x1 = sx(std::clamp(std::max(b.from, b.to), xr.lo, xr.hi));
    const double w = std::max(1.0, x1 - x0);
    const double y = lane_top(b.lane) + 4;
    const double h = chart.lane_px - 8.0;
    out += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" rx=\"2\"><title>{}</title></rect>",
        px(x0), px(y), px(w), px(h), escape_xml(b.color),
        escape_xml(b.title.empty() ? b.label : b.title));
    if (!b.label.empty() && kCharWidthPx * static_cast<double>(b.label.size()) + 6 <= w) {
      out += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"white\" font-size=\"11\">{}</text>",
                         px(x0 + 3), px(y + h / 2 + 4), escape_xml(b.label));
    }
    out += "\n";
  }
  out += "</g>\n";
  const double x_step = xr.ticks.size() > 1 ? xr.ticks[1] - xr.ticks[0] : 1;
  out += "<g class=\"ticks\" fill=\"#333333\">\n";
  for (double t : xr.ticks) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(sx(t)),
                       px(bottom + 16), tick_label(t, x_step));
  }
  out += "</g>\n";
  out += fmt::format(
      "<g class=\"axes\" stroke=\"#333333\" stroke-width=\"1\">"
      "<line x1=\"{0}\" y1=\"{2}\" x2=\"{1}\" y2=\"{2}\"/></g>\n",
      px(left), px(right), px(bottom));
  out += fmt::format("<text class=\"x-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                     px((left + right) / 2), px(bottom + 34), escape_xml(chart.x_label));
  if (!chart.legend.empty()) {
    out += "<g class=\"legend\">\n";
    double x = left;
    const double y = bottom + 44;
    for (const LegendEntry& e : chart.legend) {
      out += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"12\" fill=\"{}\"/>"
          "<text x=\"{}\" y=\"{}\">{}</text>\n",
          px(x), px(y), escape_xml(e.color), px(x + 18), px(y + 10), escape_xml(e.label));
      x += 30 + kCharWidthPx * static_cast<double>(e.label.size());
    }
    out += "</g>\n";
  }
  out += "</svg>\n";
  return out;
}

}  // namespace lockstep::reports
