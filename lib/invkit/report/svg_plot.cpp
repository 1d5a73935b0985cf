#include "invkit/report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "invkit/io/text.h"

namespace invkit::report {

namespace {

const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

// Text for XML: UTF-8 only (a file name that is not UTF-8 would make the
// whole SVG unreadable), so in io::escape_text's form, and no control
// characters, which XML 1.0 forbids even as references.
std::string escape(const std::string& s) {
  std::string out;
  for (char c : io::escape_text(s)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
          out += "\\x" + io::hex_byte(static_cast<unsigned char>(c));
        else
          out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string tick_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// About five round ticks covering [lo, hi].
std::vector<double> linear_ticks(double lo, double hi) {
  double span = hi - lo;
  double step = std::pow(10.0, std::floor(std::log10(span / 5)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (span / (step * m) <= 6) {
      step *= m;
      break;
    }
  std::vector<double> t;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) t.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  return t;
}

}  // namespace

std::string render_svg(const ScatterPlot& plot) {
  const double W = 640, H = 420, left = 70, right = 170, top = 40, bottom = 55;
  const double pw = W - left - right, ph = H - top - bottom;
  auto keep = [&](double x, double y) { return std::isfinite(x) && std::isfinite(y) && (!plot.log_x || x > 0); };
  auto tx = [&](double x) { return plot.log_x ? std::log10(x) : x; };

  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (const auto& s : plot.series)
    for (size_t i = 0; i < s.x.size(); ++i)
      if (keep(s.x[i], s.y[i])) {
        xmin = std::min(xmin, tx(s.x[i]));
        xmax = std::max(xmax, tx(s.x[i]));
        ymin = std::min(ymin, s.y[i]);
        ymax = std::max(ymax, s.y[i]);
      }
  if (!std::isfinite(xmin)) xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  if (plot.log_x) {
    xmin = std::floor(xmin);
    xmax = std::max(std::ceil(xmax), xmin + 1);
  } else if (xmax - xmin < 1e-12) {
    xmin -= 1, xmax += 1;
  }
  ymin = std::min(0.0, ymin);
  if (ymax - ymin < 1e-12) ymax = ymin + 1;
  ymax += (ymax - ymin) * 0.05;
  auto px = [&](double x) { return left + (tx(x) - xmin) / (xmax - xmin) * pw; };
  auto pxt = [&](double t) { return left + (t - xmin) / (xmax - xmin) * pw; };
  auto py = [&](double y) { return top + ph - (y - ymin) / (ymax - ymin) * ph; };

  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
    << " " << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << num(left + pw / 2) << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">" << escape(plot.title)
    << "</text>\n";
  // Axes, ticks and grid.
  o << "<g class=\"axes\" stroke=\"black\">\n<line x1=\"" << left << "\" y1=\"" << top + ph << "\" x2=\"" << left + pw
    << "\" y2=\"" << top + ph << "\"/>\n<line x1=\"" << left << "\" y1=\"" << top << "\" x2=\"" << left << "\" y2=\""
    << top + ph << "\"/>\n</g>\n<g class=\"ticks\">\n";
  std::vector<double> xt;
  if (plot.log_x)
    for (double e = xmin; e <= xmax + 1e-9; e += 1) xt.push_back(e);
  else
    xt = linear_ticks(xmin, xmax);
  for (double t : xt) {
    double x = pxt(t);
    o << "<line x1=\"" << num(x) << "\" y1=\"" << top + ph << "\" x2=\"" << num(x) << "\" y2=\"" << top + ph + 5
      << "\" stroke=\"black\"/><line x1=\"" << num(x) << "\" y1=\"" << top << "\" x2=\"" << num(x) << "\" y2=\""
      << top + ph << "\" stroke=\"#ddd\"/><text x=\"" << num(x) << "\" y=\"" << top + ph + 18
      << "\" text-anchor=\"middle\">" << tick_text(plot.log_x ? std::pow(10.0, t) : t) << "</text>\n";
  }
  for (double t : linear_ticks(ymin, ymax)) {
    if (t > ymax) continue;
    double y = py(t);
    o << "<line x1=\"" << left - 5 << "\" y1=\"" << num(y) << "\" x2=\"" << left << "\" y2=\"" << num(y)
      << "\" stroke=\"black\"/><line x1=\"" << left << "\" y1=\"" << num(y) << "\" x2=\"" << left + pw << "\" y2=\""
      << num(y) << "\" stroke=\"#ddd\"/><text x=\"" << left - 8 << "\" y=\"" << num(y + 4)
      << "\" text-anchor=\"end\">" << tick_text(t) << "</text>\n";
  }
  o << "</g>\n<text x=\"" << num(left + pw / 2) << "\" y=\"" << H - 12 << "\" text-anchor=\"middle\">"
    << escape(plot.x_label) << (plot.log_x ? " (log scale)" : "") << "</text>\n"
    << "<text transform=\"translate(18," << num(top + ph / 2) << ") rotate(-90)\" text-anchor=\"middle\">"
    << escape(plot.y_label) << "</text>\n";
  // Points and legend, one colour per series.
  for (size_t s = 0; s < plot.series.size(); ++s) {
    const auto& ser = plot.series[s];
    const char* colour = kColours[s % 10];
    o << "<g class=\"series\" fill=\"" << colour << "\" fill-opacity=\"0.8\">\n";
    if (ser.line) {
      o << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"1.5\" points=\"";
      for (size_t i = 0; i < ser.x.size(); ++i)
        if (keep(ser.x[i], ser.y[i])) o << num(px(ser.x[i])) << "," << num(py(ser.y[i])) << " ";
      o << "\"/>\n";
    }
    for (size_t i = 0; i < ser.x.size(); ++i) {
      if (!keep(ser.x[i], ser.y[i])) continue;
      o << "<circle cx=\"" << num(px(ser.x[i])) << "\" cy=\"" << num(py(ser.y[i])) << "\" r=\"" << (ser.line ? 2 : 4) << "\">";
      o << "<title>" << escape(i < ser.labels.size() ? ser.labels[i] + ": " : "") << tick_text(ser.x[i]) << ", "
        << tick_text(ser.y[i]) << "</title></circle>\n";
      if (ser.show_labels && i < ser.labels.size())
        o << "<text x=\"" << num(px(ser.x[i]) + 6) << "\" y=\"" << num(py(ser.y[i]) - 6) << "\" font-size=\"10\">"
          << escape(ser.labels[i]) << "</text>\n";
    }
    double ly = top + 10 + 18 * s;
    o << "</g>\n<g class=\"legend\"><circle cx=\"" << left + pw + 16 << "\" cy=\"" << num(ly) << "\" r=\"4\" fill=\""
      << colour << "\"/><text x=\"" << left + pw + 26 << "\" y=\"" << num(ly + 4) << "\">" << escape(ser.name)
      << "</text></g>\n";
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace invkit::report
