// Transformation decoding: the columns of a transform's params, and the
// distances and errors by kind of column.
#include "invkit/metrics/transform_decoding.h"

#include <gtest/gtest.h>

#include <cmath>

#include "testing.h"

using namespace invkit::metrics;
namespace it = invkit::transforms;

TEST(TransformDecoding, DescribesColumns) {
  auto t = it::parse_transform("0.6:dilate(2,4)|0.4:erode(1,2)");
  torch::Tensor params;
  t->apply(torch::zeros({400, 1, 8, 8}, torch::kByte), 3, torch::arange(400, torch::kLong), &params);
  auto cols = describe_params(t->param_names(), params);
  ASSERT_EQ(cols.size(), 3u);
  EXPECT_EQ(cols[0].name, "choice");
  EXPECT_EQ(cols[0].kind, ParamKind::Category);
  EXPECT_EQ(cols[0].categories, 2);
  EXPECT_FALSE(cols[0].optional);
  EXPECT_EQ(cols[1].name, "dilate.k");
  EXPECT_EQ(cols[1].kind, ParamKind::Value);
  EXPECT_TRUE(cols[1].optional);
  EXPECT_NEAR(cols[1].mean, 3, 0.15);  // k uniform in {2, 3, 4}
  auto r = it::parse_transform("rotate(-30,30)");
  r->apply(torch::zeros({10, 1, 8, 8}, torch::kByte), 3, torch::arange(10, torch::kLong), &params);
  cols = describe_params(r->param_names(), params);
  ASSERT_EQ(cols.size(), 1u);
  EXPECT_EQ(cols[0].kind, ParamKind::Angle);
  EXPECT_FALSE(cols[0].optional);
  EXPECT_EQ(invkit::testing::error_of([&] { describe_params({"x"}, torch::full({3, 1}, NAN)); }),
            "transform decoding: params column x was not drawn once in 3 draws");
}

TEST(TransformDecoding, DistancesAndAccuracyByKind) {
  std::vector<ParamColumn> cols(3);
  cols[0].name = "rotate.angle", cols[0].kind = ParamKind::Angle;
  cols[1].name = "choice", cols[1].kind = ParamKind::Category, cols[1].categories = 2;
  cols[2].name = "blur.sigma", cols[2].kind = ParamKind::Value, cols[2].optional = true;
  auto a = torch::tensor({170.f, 0.f, 1.f, 170.f, 0.f, NAN}).view({2, 3});
  auto b = torch::tensor({-170.f, 1.f, 3.f, -170.f, 0.f, 3.f}).view({2, 3});
  auto d = param_distances(cols, a, b);
  EXPECT_NEAR(d[0], 20, 1e-4);   // round the circle, not 340
  EXPECT_NEAR(d[1], 0.5, 1e-12);  // {0, 0} against {1, 0}
  EXPECT_NEAR(d[2], 2, 1e-6);     // {1} against {3, 3}: the NaN row is left out
  auto acc = decoding_accuracy(cols, a, b);
  EXPECT_NEAR(acc[0]["error"].get<double>(), 20, 1e-4);
  EXPECT_NEAR(acc[1]["error"].get<double>(), 0.5, 1e-12);
  EXPECT_NEAR(acc[2]["error"].get<double>(), 2, 1e-6);
  EXPECT_NEAR(acc[2]["presence_error"].get<double>(), 0.5, 1e-12);
  EXPECT_EQ(acc[2]["pairs"].get<int64_t>(), 1);
}
