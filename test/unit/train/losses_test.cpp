#include <gtest/gtest.h>

#include <cmath>

#include "invkit/error.h"
#include "invkit/train/losses.h"
#include "invkit/train/rules.h"

using namespace invkit::train;

namespace {
double nll(std::vector<double> z, int y) {
  double s = 0;
  for (double v : z) s += std::exp(v);
  return std::log(s) - z[y];
}
}  // namespace

TEST(Losses, WeightedCrossEntropy) {
  auto logits = torch::tensor({1.0, 2.0, 0.0, 0.0, 0.0, 3.0}).view({2, 3}).to(torch::kFloat);
  auto labels = torch::tensor({1, 2}, torch::kLong);
  auto w = torch::tensor({1.0, 2.0, 3.0}).to(torch::kFloat);
  const double a = nll({1, 2, 0}, 1), b = nll({0, 0, 3}, 2);
  CrossEntropyLoss ce;
  EXPECT_NEAR(ce(logits, labels, torch::Tensor()).item<double>(), (a + b) / 2, 1e-6);
  EXPECT_NEAR(ce(logits, labels, w).item<double>(), (2 * a + 3 * b) / 5, 1e-6);
}

TEST(Losses, LdamMarginsAndLoss) {
  auto m = ldam_margins({100, 1, 16}, 0.5);
  EXPECT_NEAR(m[0], 0.5 * std::pow(100.0, -0.25), 1e-12);
  EXPECT_NEAR(m[1], 0.5, 1e-12);
  EXPECT_NEAR(m[2], 0.5 / 2, 1e-12);  // 16^-1/4 = 1/2
  LdamLoss ldam({100, 1, 16});
  auto logits = torch::tensor({0.2, 0.1, -0.3, 0.4, 0.5, 0.0}).view({2, 3}).to(torch::kFloat);
  auto labels = torch::tensor({0, 1}, torch::kLong);
  const double a = nll({30 * (0.2 - m[0]), 30 * 0.1, 30 * -0.3}, 0);
  const double b = nll({30 * 0.4, 30 * (0.5 - m[1]), 0.0}, 1);
  EXPECT_NEAR(ldam(logits, labels, torch::Tensor()).item<double>(), (a + b) / 2, 1e-4);
  auto w = torch::tensor({0.5, 2.0, 1.0}).to(torch::kFloat);
  EXPECT_NEAR(ldam(logits, labels, w).item<double>(), (0.5 * a + 2 * b) / 2.5, 1e-4);
}

TEST(Losses, Focal) {
  auto logits = torch::tensor({1.0, 2.0, 0.0, 0.0, 0.0, 3.0}).view({2, 3}).to(torch::kFloat);
  auto labels = torch::tensor({0, 2}, torch::kLong);
  const double a = nll({1, 2, 0}, 0), b = nll({0, 0, 3}, 2);
  auto focal = [](double l, double g) { return std::pow(1 - std::exp(-l), g) * l; };
  FocalLoss f1(1.0);
  EXPECT_NEAR(f1(logits, labels, torch::Tensor()).item<double>(), (focal(a, 1) + focal(b, 1)) / 2, 1e-6);
  FocalLoss f2(2.0);
  EXPECT_NEAR(f2(logits, labels, torch::Tensor()).item<double>(), (focal(a, 2) + focal(b, 2)) / 2, 1e-6);
  // Gamma 0 is plain cross-entropy.
  FocalLoss f0(0.0);
  EXPECT_NEAR(f0(logits, labels, torch::Tensor()).item<double>(), (a + b) / 2, 1e-6);
}

TEST(Losses, EffectiveNumberWeights) {
  const double beta = 0.9999;
  std::vector<int64_t> counts{5000, 500, 50, 5};
  auto w = effective_number_weights(counts, beta);
  std::vector<double> raw;
  double sum = 0;
  for (int64_t n : counts) {
    raw.push_back((1 - beta) / (1 - std::pow(beta, static_cast<double>(n))));
    sum += raw.back();
  }
  double total = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    EXPECT_NEAR(w[i], raw[i] * 4 / sum, 1e-9);
    total += w[i];
  }
  EXPECT_NEAR(total, 4.0, 1e-12);
  EXPECT_LT(w[0], w[3]);
  // Empty classes get no weight; the others still sum to C.
  auto w2 = effective_number_weights({10, 0, 10}, beta);
  EXPECT_EQ(w2[1], 0.0);
  EXPECT_NEAR(w2[0], 1.5, 1e-12);
}

TEST(Losses, Factory) {
  EXPECT_NO_THROW(make_loss("ce", {1, 2}));
  EXPECT_NO_THROW(make_loss("ldam", {1, 2}));
  EXPECT_NO_THROW(make_loss("focal", {1, 2}));
  EXPECT_THROW(make_loss("hinge", {1, 2}), invkit::UsageError);
}
