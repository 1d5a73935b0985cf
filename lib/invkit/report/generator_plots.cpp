#include "invkit/report/generator_plots.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace invkit::report {

using metrics::ParamKind;

namespace {
const char* kGroups[3] = {"many", "medium", "few"};
}  // namespace

std::vector<ScatterPlot> decoded_histograms(const metrics::GeneratorMeasurement& m,
                                            const std::vector<metrics::ParamColumn>& columns,
                                            const metrics::HeldOut& data, metrics::ShotThresholds shots) {
  std::vector<ScatterPlot> plots;
  auto group_of = [&](const torch::Tensor& labels) {
    std::vector<int64_t> g(static_cast<size_t>(labels.size(0)));
    for (int64_t i = 0; i < labels.size(0); ++i) {
      const int64_t n = data.n_train[static_cast<size_t>(labels[i].item<int64_t>())];
      g[static_cast<size_t>(i)] = n < 0 ? -1 : metrics::shot_group(static_cast<double>(n), shots);
    }
    return g;
  };
  const auto groups = group_of(m.labels);
  for (size_t c = 0; c < columns.size(); ++c) {
    const auto& col = columns[c];
    auto values = [&](const torch::Tensor& decoded) {
      auto v = decoded.select(1, static_cast<int64_t>(c)).to(torch::kDouble).contiguous();
      return std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
    };
    const auto vt = values(m.decoded_true), vg = values(m.decoded_generated);
    double lo = -180, hi = 180;
    int64_t bins = 36;
    if (col.kind == ParamKind::Category) {
      lo = -0.5, hi = static_cast<double>(col.categories) - 0.5, bins = col.categories;
    } else if (col.kind == ParamKind::Value) {
      lo = INFINITY, hi = -INFINITY;
      for (const auto* v : {&vt, &vg})
        for (double x : *v)
          if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
      if (!std::isfinite(lo)) lo = 0, hi = 1;
      if (hi - lo < 1e-9) lo -= 0.5, hi += 0.5;
      bins = 30;
    }
    auto histogram = [&](const std::string& name, const std::vector<double>& v, int group) {
      std::vector<double> share(static_cast<size_t>(bins), 0);
      double n = 0;
      for (size_t i = 0; i < v.size(); ++i) {
        if (!std::isfinite(v[i]) || (group >= 0 && groups[i] != group)) continue;
        const auto b = std::clamp<int64_t>(static_cast<int64_t>(std::floor((v[i] - lo) / (hi - lo) * bins)), 0, bins - 1);
        share[static_cast<size_t>(b)] += 1, n += 1;
      }
      Series s{name, {}, {}, {}, true};
      if (n == 0) return s;
      for (int64_t b = 0; b < bins; ++b) {
        s.x.push_back(lo + (static_cast<double>(b) + 0.5) * (hi - lo) / static_cast<double>(bins));
        s.y.push_back(share[static_cast<size_t>(b)] / n);
      }
      return s;
    };
    ScatterPlot plot;
    plot.title = "decoded " + col.name + ": true T against the generator";
    plot.x_label = col.name + (col.kind == ParamKind::Angle ? " (degrees)" : "");
    plot.y_label = "share of pairs";
    plot.series.push_back(histogram("true T", vt, -1));
    for (int g = 0; g < 3; ++g) {
      auto s = histogram(std::string("generated, ") + kGroups[g], vg, g);
      if (!s.x.empty()) plot.series.push_back(s);
    }
    plots.push_back(plot);
  }
  return plots;
}

ScatterPlot temperature_plot(const nlohmann::json& json) {
  ScatterPlot plot;
  plot.title = "style temperature: fidelity against diversity";
  plot.x_label = "diversity (generated / true pair difference)";
  Series s{"generator", {}, {}, {}, true, true};
  const bool fidelity = !json.value("temperatures", nlohmann::json::array()).empty() &&
                        json["temperatures"][0].contains("fidelity");
  std::string column;
  if (!fidelity && !json["decoder"].empty()) column = json["decoder"][0]["name"].get<std::string>();
  plot.y_label = fidelity ? "fidelity (judge accuracy, generated / true)" : "decoding distance of " + column;
  for (const auto& row : json.value("temperatures", nlohmann::json::array())) {
    s.x.push_back(row["diversity"].get<double>());
    const auto& y = fidelity ? row["fidelity"] : row["distance"][column];
    s.y.push_back(y.is_number() ? y.get<double>() : NAN);
    char label[32];
    std::snprintf(label, sizeof label, "t = %g", row["temperature"].get<double>());
    s.labels.push_back(label);
  }
  plot.series.push_back(s);
  return plot;
}

}  // namespace invkit::report
