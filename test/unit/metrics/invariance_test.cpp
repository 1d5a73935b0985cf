#include "invkit/metrics/invariance.h"

#include <gtest/gtest.h>

#include <cmath>

#include "invkit/metrics/stats.h"

using namespace invkit::metrics;

TEST(Invariance, KlAgainstHandComputedValues) {
  // p = softmax([0, 0]) = (1/2, 1/2); q = softmax([0, ln 3]) = (1/4, 3/4).
  auto p = torch::tensor({0.0, 0.0}, torch::kDouble).view({1, 2});
  auto q = torch::tensor({0.0, std::log(3.0)}, torch::kDouble).view({1, 2});
  double expected = 0.5 * std::log(0.5 / 0.25) + 0.5 * std::log(0.5 / 0.75);
  EXPECT_NEAR(kl_from_logits(p, q)[0].item<double>(), expected, 1e-12);
  // Reversed: KL is not symmetric.
  double reversed = 0.25 * std::log(0.25 / 0.5) + 0.75 * std::log(0.75 / 0.5);
  EXPECT_NEAR(kl_from_logits(q, p)[0].item<double>(), reversed, 1e-12);
  // Adding a constant to logits changes nothing.
  EXPECT_NEAR(kl_from_logits(p + 7, q - 2)[0].item<double>(), expected, 1e-12);
}

TEST(Invariance, KlIsNonNegativeAndZeroOnIdentity) {
  torch::manual_seed(1);
  auto a = torch::randn({500, 10}) * 5, b = torch::randn({500, 10}) * 5;
  EXPECT_GE(kl_from_logits(a, b).min().item<double>(), 0.0);
  EXPECT_LE(kl_from_logits(a, a).max().item<double>(), 1e-12);
  auto extreme = torch::tensor({{0.0f, 2000.0f}});
  EXPECT_TRUE(std::isfinite(kl_from_logits(extreme, torch::tensor({{2000.0f, 0.0f}}))[0].item<double>()));
}

TEST(Invariance, PerClassRows) {
  // Two classes; class 0: two images, class 1: one; S = 2 draws each.
  auto orig = torch::tensor({{2.0, 0.0}, {1.0, 0.0}, {0.0, 3.0}}, torch::kDouble);
  auto trans = torch::stack({torch::stack({orig[0], orig[0]}),                       // identical: KL 0
                             torch::stack({orig[1], torch::tensor({0.0, 1.0}, torch::kDouble)}),  // one flip
                             torch::stack({orig[2], orig[2]})});
  auto labels = torch::tensor({0, 0, 0}, torch::kLong);
  labels[2] = 1;
  auto rows = per_class_invariance(orig, trans, labels, 3);
  ASSERT_EQ(rows.size(), 3u);
  double kl_flip = kl_from_logits(orig[1].view({1, 2}), torch::tensor({{0.0, 1.0}}, torch::kDouble))[0].item<double>();
  EXPECT_EQ(rows[0].images, 2);
  EXPECT_NEAR(rows[0].ekld, (0 + kl_flip / 2) / 2, 1e-12);
  // SEM of per-image means {0, kl_flip/2}: std (n-1) / sqrt(2).
  EXPECT_NEAR(rows[0].ekld_sem, (kl_flip / 2) / std::sqrt(2.0) / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(rows[0].consistency, 0.75, 1e-12);
  EXPECT_NEAR(rows[0].accuracy, 1.0, 1e-12);
  EXPECT_NEAR(rows[1].ekld, 0.0, 1e-12);
  EXPECT_NEAR(rows[1].consistency, 1.0, 1e-12);
  EXPECT_EQ(rows[2].images, 0);
  EXPECT_TRUE(std::isnan(rows[2].ekld));
}

TEST(Invariance, SpearmanWithTies) {
  // x ranks: 1, 2.5, 2.5, 4; y ranks: 1, 2, 3, 4 → Pearson of ranks.
  std::vector<double> x{1, 2, 2, 3}, y{10, 20, 30, 40};
  double mx = 2.5, my = 2.5;
  std::vector<double> rx{1, 2.5, 2.5, 4}, ry{1, 2, 3, 4};
  double sxy = 0, sxx = 0, syy = 0;
  for (int i = 0; i < 4; ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  EXPECT_NEAR(spearman(x, y), sxy / std::sqrt(sxx * syy), 1e-12);
  EXPECT_NEAR(spearman(x, y), 4.5 / std::sqrt(4.5 * 5.0), 1e-12);
  EXPECT_NEAR(spearman({1, 2, 3}, {3, 2, 1}), -1.0, 1e-12);
  EXPECT_TRUE(std::isnan(spearman({1, 1, 1}, {1, 2, 3})));
}
