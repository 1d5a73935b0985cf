#include <gtest/gtest.h>

#include "invkit/metrics/accuracy.h"

using namespace invkit::metrics;

TEST(Metrics, AccuracyGroupsConfusion) {
  // true:  0 0 0 0 1 1 2 2 2 2
  // pred:  0 0 0 1 1 0 2 0 0 0
  auto y = torch::tensor({0, 0, 0, 0, 1, 1, 2, 2, 2, 2}, torch::kLong);
  auto p = torch::tensor({0, 0, 0, 1, 1, 0, 2, 0, 0, 0}, torch::kLong);
  // Class 3 has no test examples. Training sizes: many, medium, few, few.
  auto m = classification_metrics(p, y, 4, {500, 50, 5, 3}, {100, 20});
  EXPECT_EQ(m.total, 10);
  EXPECT_EQ(m.correct, 5);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(*m.per_class[0], 0.75);
  EXPECT_DOUBLE_EQ(*m.per_class[1], 0.5);
  EXPECT_DOUBLE_EQ(*m.per_class[2], 0.25);
  EXPECT_FALSE(m.per_class[3].has_value());
  EXPECT_DOUBLE_EQ(m.balanced_accuracy, 0.5);
  EXPECT_DOUBLE_EQ(*m.many_shot, 0.75);
  EXPECT_DOUBLE_EQ(*m.medium_shot, 0.5);
  EXPECT_DOUBLE_EQ(*m.few_shot, 0.25);
  std::vector<std::vector<int64_t>> cm{{3, 1, 0, 0}, {1, 1, 0, 0}, {3, 0, 1, 0}, {0, 0, 0, 0}};
  EXPECT_EQ(m.confusion, cm);

  // Thresholds are inclusive for medium: 100 and 20 are medium.
  auto m2 = classification_metrics(p, y, 4, {100, 20, 19, 3}, {100, 20});
  EXPECT_FALSE(m2.many_shot.has_value());
  EXPECT_DOUBLE_EQ(*m2.medium_shot, (0.75 + 0.5) / 2);
  EXPECT_DOUBLE_EQ(*m2.few_shot, 0.25);

  auto j = to_json(m, {"a", "b", "c", "d"}, {500, 50, 5, 3}, {100, 20}, true);
  EXPECT_EQ(j["per_class"][3]["accuracy"], nullptr);
  EXPECT_EQ(j["per_class"][1]["name"], "b");
  EXPECT_EQ(j["groups"]["few"], 0.25);
  EXPECT_EQ(j["confusion"][2][0], 3);
}
