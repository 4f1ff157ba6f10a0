// The SVG plot writer: well-formed documents, escaped text, nice ticks, CDF step series.
#include "reports/svg_plot.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lockstep::reports {
namespace svg_plot_test {
namespace {

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// A minimal XML structure check: every start tag is closed in order (self-closing tags count as
// both), no stray '<' or '&' in text, and one root element.
bool well_formed(const std::string& svg, std::string* why) {
  const auto fail = [why](std::string message) {
    *why = std::move(message);
    return false;
  };
  std::vector<std::string> open;
  std::size_t roots = 0;
  for (std::size_t i = 0; i < svg.size();) {
    if (svg[i] == '&') {
      const auto semi = svg.find(';', i);
      if (semi == std::string::npos || semi - i > 6) return fail("bare & at " + std::to_string(i));
      i = semi + 1;
      continue;
    }
    if (svg[i] != '<') {
      ++i;
      continue;
    }
    const auto close = svg.find('>', i);
    if (close == std::string::npos) return fail("unclosed tag");
    const std::string tag = svg.substr(i + 1, close - i - 1);
    if (tag.find('<') != std::string::npos) return fail("'<' inside tag " + tag);
    i = close + 1;
    if (tag.front() == '/') {
      const std::string name = tag.substr(1);
      if (open.empty() || open.back() != name) return fail("mismatched </" + name + ">");
      open.pop_back();
      continue;
    }
    const std::string name = tag.substr(0, tag.find_first_of(" \n/"));
    if (open.empty()) ++roots;
    if (tag.back() != '/') open.push_back(name);
  }
  if (!open.empty()) return fail("unclosed <" + open.back() + ">");
  if (roots != 1) return fail(std::to_string(roots) + " root elements");
  return true;
}

Plot two_series() {
  Plot p;
  p.title = "Failover <raft> & \"paxos\"";
  p.x_label = "failover time (ms)";
  p.y_label = "fraction of trials";
  p.series.push_back(cdf_series("raft", {180, 150, 240, 300}, 4));
  p.series.push_back(PlotSeries{"paxos's line", {{0, 0}, {100, 0.5}, {400, 1}}, PlotStyle::line});
  return p;
}

TEST(SvgPlot, DocumentIsWellFormedWithAxesLabelsAndOnePathPerSeries) {
  const std::string svg = render_svg(two_series());
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  std::string why;
  EXPECT_TRUE(well_formed(svg, &why)) << why << "\n" << svg;
  EXPECT_EQ(count(svg, "<path "), 2u);
  EXPECT_NE(svg.find(">failover time (ms)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">fraction of trials</text>"), std::string::npos);
  // The legend names both series.
  EXPECT_NE(svg.find(">raft</text>"), std::string::npos);
  EXPECT_NE(svg.find(">paxos&apos;s line</text>"), std::string::npos);
  // The step series draws horizontal then vertical moves; the line series straight segments.
  EXPECT_NE(svg.find(" H"), std::string::npos);
  EXPECT_NE(svg.find(" L"), std::string::npos);
}

TEST(SvgPlot, TextIsEscaped) {
  const std::string svg = render_svg(two_series());
  EXPECT_NE(svg.find("Failover &lt;raft&gt; &amp; &quot;paxos&quot;"), std::string::npos);
  EXPECT_EQ(svg.find("<raft>"), std::string::npos);
  EXPECT_EQ(escape_xml("a<b>&\"'\x01"), "a&lt;b&gt;&amp;&quot;&apos; ");
}

TEST(SvgPlot, SameDataSameBytes) { EXPECT_EQ(render_svg(two_series()), render_svg(two_series())); }

TEST(SvgPlot, EmptyPlotStillRenders) {
  Plot p;
  p.title = "nothing";
  p.series.push_back(PlotSeries{"none", {}, PlotStyle::step});
  const std::string svg = render_svg(p);
  std::string why;
  EXPECT_TRUE(well_formed(svg, &why)) << why;
  EXPECT_NE(svg.find(">no data</text>"), std::string::npos);
  EXPECT_EQ(count(svg, "<path "), 0u);
}

TEST(SvgPlot, NiceTicksCoverTheRangeInSteps1_2_5) {
  EXPECT_EQ(nice_ticks(0, 1, 6), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1}));
  const std::vector<double> t = nice_ticks(153, 612, 6);
  ASSERT_GE(t.size(), 3u);
  EXPECT_LE(t.front(), 153);
  EXPECT_GE(t.back(), 612);
  EXPECT_DOUBLE_EQ(t[1] - t[0], 100);
  EXPECT_EQ(nice_ticks(5, 5).size() >= 2, true);
}

TEST(SvgPlot, CdfSeriesStepsUpToTheFinishedFraction) {
  const PlotSeries s = cdf_series("x", {30, 10, 20}, 4);  // one of four trials never finished
  ASSERT_EQ(s.points.size(), 4u);
  EXPECT_EQ(s.style, PlotStyle::step);
  EXPECT_DOUBLE_EQ(s.points[0].x, 10);
  EXPECT_DOUBLE_EQ(s.points[0].y, 0);
  EXPECT_DOUBLE_EQ(s.points[1].y, 0.25);
  EXPECT_DOUBLE_EQ(s.points[3].x, 30);
  EXPECT_DOUBLE_EQ(s.points[3].y, 0.75);
}

TEST(SvgPlot, TickLabelsShowOnlyNeededDecimals) {
  Plot p;
  p.series.push_back(PlotSeries{"s", {{0, 0}, {1000, 1}}, PlotStyle::line});
  const std::string svg = render_svg(p);
  EXPECT_NE(svg.find(">1000</text>"), std::string::npos) << svg;
  EXPECT_NE(svg.find(">0.2</text>"), std::string::npos) << svg;
  EXPECT_EQ(svg.find(">1000.0</text>"), std::string::npos);
}


// The x pixel of a shaded range's left edge: the plot area of a 720px plot runs from 72 to 696.
TEST(SvgPlot, ShadedRangeSitsAtItsXAndIsLabelledBehindTheSeries) {
  Plot p = two_series();
  p.x_min = 0;
  p.x_max = 10;
  p.shaded = {ShadedRange{2.5, 5, "crash n2 <leader>", "#d62728"},
              ShadedRange{7, 7, "clock_jump n1", "#555555"}};
  const std::string svg = render_svg(p);
  std::string why;
  ASSERT_TRUE(well_formed(svg, &why)) << why;
  // x 2.5 of 0..10 over 624px from 72: 72 + 156 = 228; width 2.5 units = 156px.
  EXPECT_NE(svg.find("<rect x=\"228.00\" y=\"44.00\" width=\"156.00\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("crash n2 &lt;leader&gt;"), std::string::npos);
  // An instant is a dashed line at x 7: 72 + 436.8.
  EXPECT_NE(svg.find("<line x1=\"508.80\" y1=\"44.00\" x2=\"508.80\""), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
  // Behind: the shading comes before the first series path.
  EXPECT_LT(svg.find("class=\"shaded\""), svg.find("class=\"series\""));
}

TEST(SvgPlot, PointSeriesDrawsOneDotPerPointAndIdsArePrefixed) {
  Plot p;
  p.id = "latency-raft";
  p.series.push_back(PlotSeries{"ok", {{0, 1}, {1, 2}, {2, 3}}, PlotStyle::points});
  const std::string svg = render_svg(p);
  std::string why;
  ASSERT_TRUE(well_formed(svg, &why)) << why;
  // Three dots in the series plus one in the legend.
  EXPECT_EQ(count(svg, "<circle"), 4U);
  EXPECT_EQ(count(svg, "<path"), 0U);
  EXPECT_NE(svg.find("id=\"latency-raft-area\""), std::string::npos);
  EXPECT_EQ(svg.find("id=\"plot-area\""), std::string::npos);
}

TEST(SvgPlot, LegendMovesToTheTopWhenAsked) {
  Plot p = two_series();
  const auto legend_y = [](const std::string& svg) {
    const auto at = svg.find("<g class=\"legend\"><rect x=\"");
    const auto y = svg.find("y=\"", at);
    return std::stod(svg.substr(y + 3));
  };
  const double bottom = legend_y(render_svg(p));
  p.legend_top = true;
  const double top = legend_y(render_svg(p));
  EXPECT_DOUBLE_EQ(top, 54);  // the plot area's top (44) + 10
  EXPECT_GT(bottom, 300);
}

TEST(SvgLanes, OneLanePerRowAndBarsWhereTheyBelong) {
  LaneChart c;
  c.title = "Who led";
  c.lanes = {"n0", "n1", "n2"};
  c.x_min = 0;
  c.x_max = 10;
  c.bars = {LaneBar{0, 0, 5, "t1", "#1f77b4", ""}, LaneBar{2, 5, 10, "t2", "#2ca02c", "n2 & co"}};
  c.shaded = {ShadedRange{4, 6, "partition", "#f4a261"}};
  c.legend = {{"leader", "#1f77b4"}};
  const std::string svg = render_lanes(c);
  std::string why;
  ASSERT_TRUE(well_formed(svg, &why)) << why;
  // The plot area spans 110..696 (586px); lanes are 30px from y 44.
  // Bar 1: lane 0 (y 48), x 110, width 293. Bar 2: lane 2 (y 44 + 60 + 4 = 108), x 403.
  EXPECT_NE(svg.find("<rect x=\"110.00\" y=\"48.00\" width=\"293.00\" height=\"22.00\""),
            std::string::npos)
      << svg;
  EXPECT_NE(svg.find("<rect x=\"403.00\" y=\"108.00\" width=\"293.00\""), std::string::npos);
  EXPECT_NE(svg.find("n2 &amp; co"), std::string::npos);
  EXPECT_EQ(count(svg, ">n1</text>"), 1U);
  // Shading lies behind the bars.
  EXPECT_LT(svg.find("class=\"shaded\""), svg.find("class=\"bars\""));
  EXPECT_EQ(render_lanes(c), svg);
}

}  // namespace
}  // namespace svg_plot_test
}  // namespace lockstep::reports
