// A scatter plot as a standalone SVG: series of (x, y) points, optional log
// x axis, ticks, axis labels and a legend; a series may be drawn as a line.
// Enough for eKLD vs class size and for histograms of decoded parameters.
#pragma once
#include <string>
#include <vector>

namespace invkit::report {

struct Series {
  std::string name;
  std::vector<double> x, y;
  std::vector<std::string> labels;  // optional, one per point (shown on hover)
  bool line = false;                 // also join the points, in order, by a line (a histogram, a curve)
  bool show_labels = false;          // also write each point's label beside it
};

struct ScatterPlot {
  std::string title, x_label, y_label;
  bool log_x = false;
  std::vector<Series> series;
};

// The SVG document. Points with a non-finite coordinate (or x <= 0 on a log
// axis) are left out.
std::string render_svg(const ScatterPlot& plot);

}  // namespace invkit::report
