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
      "<defs><clipPath id=\"plot-area\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>"
      "</clipPath></defs>\n",
      px(left), px(top), px(right - left), px(bottom - top));
  out += fmt::format("<text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" "
                     "font-weight=\"bold\">{}</text>\n",
                     px(plot.width_px / 2.0), escape_xml(plot.title));

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
  out += "<g class=\"series\" fill=\"none\" stroke-width=\"2\" clip-path=\"url(#plot-area)\">\n";
  for (std::size_t i = 0; i < plot.series.size(); ++i) {
    const PlotSeries& s = plot.series[i];
    if (s.points.empty()) continue;
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

  // The legend sits in the lower right of the plot area, where a CDF leaves room.
  if (!plot.series.empty()) {
    std::size_t longest = 0;
    for (const PlotSeries& s : plot.series) longest = std::max(longest, s.name.size());
    const double row_px = 18;
    const double box_w = 40 + kCharWidthPx * static_cast<double>(longest);
    const double box_h = 8 + row_px * static_cast<double>(plot.series.size());
    const double bx = right - box_w - 10;
    const double by = bottom - box_h - 10;
    out += fmt::format(
        "<g class=\"legend\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"white\" "
        "fill-opacity=\"0.85\" stroke=\"#bbbbbb\"/>\n",
        px(bx), px(by), px(box_w), px(box_h));
    for (std::size_t i = 0; i < plot.series.size(); ++i) {
      const double row_y = by + 4 + row_px * (static_cast<double>(i) + 0.5);
      out += fmt::format(
          "<line x1=\"{0}\" y1=\"{2}\" x2=\"{1}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"2\"/>"
          "<text x=\"{4}\" y=\"{5}\">{6}</text>\n",
          px(bx + 8), px(bx + 28), px(row_y), kPalette[i % kPalette.size()], px(bx + 34),
          px(row_y + 4), escape_xml(plot.series[i].name));
    }
    out += "</g>\n";
  }
  out += "</svg>\n";
  return out;
}

}  // namespace lockstep::reports
