#include "invkit/report/generator_plots.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace invkit;

// Histograms: one per column, shares that sum to 1 per series, the true
// sample and one series per shot group that has pairs.
TEST(GeneratorPlots, DecodedHistograms) {
  std::vector<metrics::ParamColumn> cols(2);
  cols[0].name = "rotate.angle", cols[0].kind = metrics::ParamKind::Angle;
  cols[1].name = "choice", cols[1].kind = metrics::ParamKind::Category, cols[1].categories = 3;
  metrics::GeneratorMeasurement m;
  m.decoded_true = torch::tensor({-175.f, 0.f, 5.f, 1.f, 175.f, 2.f, 90.f, NAN}).view({4, 2});
  m.decoded_generated = torch::tensor({0.f, 0.f, 1.f, 0.f, 2.f, 1.f, 3.f, 1.f}).view({4, 2});
  m.labels = torch::tensor({0, 0, 1, 1}, torch::kLong);
  metrics::HeldOut held{torch::Tensor(), torch::Tensor(), {"big", "small"}, {500, 5}};
  auto plots = report::decoded_histograms(m, cols, held, {100, 20});
  ASSERT_EQ(plots.size(), 2u);
  const auto& angle = plots[0];
  ASSERT_EQ(angle.series.size(), 3u);  // true, many-shot, few-shot (no medium class)
  EXPECT_EQ(angle.series[0].name, "true T");
  EXPECT_EQ(angle.series[1].name, "generated, many");
  EXPECT_EQ(angle.series[2].name, "generated, few");
  ASSERT_EQ(angle.series[0].x.size(), 36u);  // 10-degree bins
  EXPECT_DOUBLE_EQ(angle.series[0].x[0], -175);
  double sum = 0;
  for (double y : angle.series[0].y) sum += y;
  EXPECT_NEAR(sum, 1, 1e-12);
  EXPECT_DOUBLE_EQ(angle.series[0].y[0], 0.25);   // -175
  EXPECT_DOUBLE_EQ(angle.series[0].y[35], 0.25);  // 175
  const auto& choice = plots[1];
  ASSERT_EQ(choice.series[0].x.size(), 3u);  // one bin per category
  EXPECT_DOUBLE_EQ(choice.series[0].y[1], 1.0 / 3);  // {0, 1, 2}: the NaN is left out
  EXPECT_DOUBLE_EQ(choice.series[2].y[1], 1.0);      // the few-shot class read 1 twice
}

TEST(GeneratorPlots, TemperaturePlotShowsFidelityWhenThereIsSome) {
  nlohmann::json j = {{"decoder", {{{"name", "rotate.angle"}}}},
                      {"temperatures",
                       {{{"temperature", 0.0}, {"distance", {{"rotate.angle", 80.0}}}, {"diversity", 0.1}},
                        {{"temperature", 1.0}, {"distance", {{"rotate.angle", 20.0}}}, {"diversity", 0.9}}}}};
  auto plot = report::temperature_plot(j);
  EXPECT_EQ(plot.y_label, "decoding distance of rotate.angle");
  EXPECT_EQ(plot.series[0].y, (std::vector<double>{80, 20}));
  EXPECT_EQ(plot.series[0].labels[1], "t = 1");
  j["temperatures"][0]["fidelity"] = 0.9;
  j["temperatures"][1]["fidelity"] = 0.7;
  plot = report::temperature_plot(j);
  EXPECT_EQ(plot.series[0].y, (std::vector<double>{0.9, 0.7}));
  EXPECT_EQ(plot.series[0].x, (std::vector<double>{0.1, 0.9}));
}
