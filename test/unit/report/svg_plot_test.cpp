#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "invkit/report/svg_plot.h"

using namespace invkit::report;

TEST(SvgPlot, OnePointPerValueAndLegend) {
  ScatterPlot p;
  p.title = "eKLD <by> class";
  p.log_x = true;
  p.series.push_back({"erm", {5, 50, 4800}, {0.3, 0.2, 0.01}, {}});
  p.series.push_back({"git", {5, 50, 4800, -1}, {0.1, 0.1, 0.01, 0.5}, {}});
  std::string svg = render_svg(p);
  size_t circles = 0;
  for (size_t at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1)) ++circles;
  EXPECT_EQ(circles, 3u + 3u + 2u);  // 6 points (x = -1 dropped on a log axis) + 2 legend marks
  EXPECT_NE(svg.find("eKLD &lt;by&gt; class"), std::string::npos);
  EXPECT_NE(svg.find(">1000</text>"), std::string::npos);
  EXPECT_NE(svg.find(">git</text>"), std::string::npos);
}

// A line series is also a polyline through its kept points; show_labels
// writes each label beside its point.
TEST(SvgPlot, LinesAndPointLabels) {
  ScatterPlot p;
  p.series.push_back({"hist", {0, 1, 2}, {0.5, NAN, 0.25}, {"a", "b", "c"}, true, true});
  std::string svg = render_svg(p);
  const auto line = svg.find("<polyline");
  ASSERT_NE(line, std::string::npos);
  const auto points = svg.substr(line, svg.find("/>", line) - line);
  EXPECT_EQ(std::count(points.begin(), points.end(), ','), 2);  // the NaN point is left out
  EXPECT_NE(svg.find(">a</text>"), std::string::npos);
  EXPECT_NE(svg.find(">c</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">b</text>"), std::string::npos);
  p.series[0].show_labels = false;
  EXPECT_EQ(render_svg(p).find(">a</text>"), std::string::npos);
}
