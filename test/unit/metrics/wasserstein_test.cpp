#include "invkit/metrics/wasserstein.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "testing.h"

using namespace invkit::metrics;
using invkit::testing::error_of;

namespace {

// The shortest way round a circle of circumference 360 between two angles.
double arc(double a, double b) {
  double d = std::fmod(std::abs(a - b), 360.0);
  return std::min(d, 360 - d);
}

// For two samples of equal size n on the circle an optimal plan is a cyclic
// shift of the sorted matching: the brute-force minimum over the n shifts.
double circular_by_matching(std::vector<double> a, std::vector<double> b) {
  for (auto* v : {&a, &b})
    for (double& x : *v) x = std::fmod(std::fmod(x, 360.0) + 360.0, 360.0);
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  double best = INFINITY;
  for (size_t k = 0; k < a.size(); ++k) {
    double cost = 0;
    for (size_t i = 0; i < a.size(); ++i) cost += arc(a[i], b[(i + k) % a.size()]);
    best = std::min(best, cost / static_cast<double>(a.size()));
  }
  return best;
}

}  // namespace

TEST(Wasserstein, LineValues) {
  EXPECT_DOUBLE_EQ(wasserstein1({0}, {1}), 1);
  EXPECT_DOUBLE_EQ(wasserstein1({0, 1}, {1, 0}), 0);
  EXPECT_DOUBLE_EQ(wasserstein1({0, 2}, {1, 3}), 1);
  EXPECT_NEAR(wasserstein1({0, 0, 1}, {1}), 2.0 / 3, 1e-15);  // scipy.stats.wasserstein_distance: 0.6667
  // Every b above every a: the difference of the means.
  EXPECT_NEAR(wasserstein1({0, 1, 3}, {5, 6}), 5.5 - 4.0 / 3, 1e-12);
  // On the line 350 and 10 are 340 apart; on the circle, 20.
  EXPECT_DOUBLE_EQ(wasserstein1({350}, {10}), 340);
}

TEST(Wasserstein, CircleValues) {
  EXPECT_NEAR(wasserstein1_circular({170}, {-170}, 360), 20, 1e-12);
  EXPECT_NEAR(wasserstein1_circular({350}, {10}, 360), 20, 1e-12);
  EXPECT_NEAR(wasserstein1_circular({0}, {180}, 360), 180, 1e-12);
  EXPECT_NEAR(wasserstein1_circular({-170, 170}, {180}, 360), 10, 1e-12);
  EXPECT_NEAR(wasserstein1_circular({0, 90, 180, 270}, {45, 135, 225, 315}, 360), 45, 1e-12);
  EXPECT_NEAR(wasserstein1_circular({0, 90, 180, 270}, {90, 180, 270, 360}, 360), 0, 1e-12);  // the same set
  EXPECT_NEAR(wasserstein1_circular({0.25}, {0.75}, 1), 0.5, 1e-12);  // any period
}

// Against the brute-force cyclic matching, on random samples of equal size.
TEST(Wasserstein, CircleEqualsBestCyclicMatching) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t n = 1 + trial % 7;
    std::vector<double> a(n), b(n);
    for (auto* v : {&a, &b})
      for (double& x : *v) x = static_cast<double>(rng() % 7200) / 10.0 - 360;  // in [-360, 360)
    EXPECT_NEAR(wasserstein1_circular(a, b, 360), circular_by_matching(a, b), 1e-9) << trial;
  }
}

TEST(Wasserstein, TotalVariation) {
  EXPECT_DOUBLE_EQ(total_variation({0, 0, 1}, {1, 1, 1}), 2.0 / 3);
  EXPECT_DOUBLE_EQ(total_variation({0, 1}, {1, 0}), 0);
  EXPECT_DOUBLE_EQ(total_variation({0}, {5}), 1);
}

TEST(Wasserstein, RefusesEmptyAndNonFinite) {
  EXPECT_EQ(error_of([] { wasserstein1({}, {1}); }), "wasserstein distance: sample a is empty");
  EXPECT_EQ(error_of([] { wasserstein1_circular({1}, {NAN}, 360); }),
            "wasserstein distance: sample b holds a non-finite value");
  EXPECT_EQ(error_of([] { total_variation({1}, {}); }), "total variation: a sample is empty");
}
