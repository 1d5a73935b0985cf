#include "invkit/metrics/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "testing.h"

using namespace invkit::metrics;
using invkit::testing::error_of;

namespace {

// Uniform in [-1, 1) from the top 53 bits of a draw: the same numbers with
// every standard library (unlike std::uniform_real_distribution).
double noise(std::mt19937_64& rng) { return 2 * static_cast<double>(rng() >> 11) * 0x1.0p-53 - 1; }

// A panel of 10 classes (units) over `periods` seeds whose sizes, the zipf
// profile max(floor(4800 i^-2), 5), are shuffled per seed; y = difficulty
// of the class + seed effect + b ln(size) + noise in ±0.05. `skip` leaves
// out (class, seed) = (3, 1) and (7, 2): an unbalanced panel.
struct Panel {
  std::vector<double> x, y;
  std::vector<int64_t> unit, period;
};
Panel planted_panel(double b, int periods, bool skip, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Panel p;
  for (int s = 0; s < periods; ++s) {
    std::vector<double> sizes;
    for (int i = 1; i <= 10; ++i) sizes.push_back(std::max(std::floor(4800.0 / (i * i)), 5.0));
    shuffle(sizes, rng);
    for (int c = 0; c < 10; ++c) {
      const double e = noise(rng) * 0.05;
      if (skip && ((c == 3 && s == 1) || (c == 7 && s == 2))) continue;
      p.x.push_back(std::log(sizes[c]));
      p.y.push_back(0.5 + 0.1 * c + 0.2 * s + b * std::log(sizes[c]) + e);
      p.unit.push_back(c);
      p.period.push_back(s);
    }
  }
  return p;
}

}  // namespace

TEST(ReportStats, TQuantileMatchesTables) {
  // Two-sided 95% (the 97.5% quantile) from standard tables.
  EXPECT_NEAR(t_quantile_two_sided(0.95, 1), 12.706204736174707, 1e-9);
  EXPECT_NEAR(t_quantile_two_sided(0.95, 2), 4.302652729749464, 1e-9);
  EXPECT_NEAR(t_quantile_two_sided(0.95, 3), 3.182446305284263, 1e-9);
  EXPECT_NEAR(t_quantile_two_sided(0.95, 4), 2.7764451051977987, 1e-9);
  EXPECT_NEAR(t_quantile_two_sided(0.95, 5), 2.570581835636314, 1e-9);
  EXPECT_NEAR(t_quantile_two_sided(0.95, 10), 2.2281388519649385, 1e-9);
  EXPECT_NEAR(t_quantile_two_sided(0.95, 30), 2.0422724563012373, 1e-9);
  EXPECT_NEAR(t_quantile_two_sided(0.99, 2), 9.924843200918276, 1e-9);
  EXPECT_NEAR(t_quantile_two_sided(0.95, 1000), 1.9623390808264078, 1e-9);
  // df 2 in closed form: P(|T| <= t) = t / sqrt(2 + t^2).
  EXPECT_NEAR(t_two_sided_cdf(1.5, 2), 1.5 / std::sqrt(2 + 2.25), 1e-15);
  EXPECT_EQ(t_two_sided_cdf(0, 7), 0);
  EXPECT_EQ(error_of([] { t_quantile_two_sided(0.95, 0); }), "t_quantile_two_sided: df must be at least 1");
}

TEST(ReportStats, TIntervalOfAMean) {
  // {1, 2, 3}: mean 2, s = 1, so 2 ± 4.3027 / sqrt(3).
  auto m = t_interval({1, 2, 3});
  EXPECT_EQ(m.n, 3);
  EXPECT_DOUBLE_EQ(m.mean, 2);
  EXPECT_NEAR(m.lo, 2 - 4.302652729749464 / std::sqrt(3.0), 1e-9);
  EXPECT_NEAR(m.hi, 2 + 4.302652729749464 / std::sqrt(3.0), 1e-9);
  // Identical differences: a zero-width interval.
  m = t_interval({0.5, 0.5});
  EXPECT_DOUBLE_EQ(m.lo, 0.5);
  EXPECT_DOUBLE_EQ(m.hi, 0.5);
  // One value: the mean, no interval; none: nothing.
  m = t_interval({4});
  EXPECT_DOUBLE_EQ(m.mean, 4);
  EXPECT_TRUE(std::isnan(m.lo) && std::isnan(m.hi));
  EXPECT_TRUE(std::isnan(t_interval({}).mean));
}

TEST(ReportStats, UniformBelowIsPinned) {
  std::mt19937_64 rng(1);
  std::vector<uint64_t> got;
  for (int i = 0; i < 6; ++i) got.push_back(uniform_below(rng, 10));
  EXPECT_EQ(got, (std::vector<uint64_t>{8, 2, 0, 6, 4, 9}));  // golden: changes if the draw changes
  for (int i = 0; i < 1000; ++i) EXPECT_LT(uniform_below(rng, 3), 3u);
  EXPECT_EQ(uniform_below(rng, 1), 0u);
  std::vector<double> v{1, 2, 3, 4, 5};
  shuffle(v, rng);
  std::sort(v.begin(), v.end());
  EXPECT_EQ(v, (std::vector<double>{1, 2, 3, 4, 5}));  // a permutation
}

TEST(ReportStats, SpearmanAndRanks) {
  EXPECT_EQ(average_ranks({10, 20, 20, 5}), (std::vector<double>{2, 3.5, 3.5, 1}));
  EXPECT_NEAR(spearman({1, 2, 3, 4}, {2, 1, 4, 3}), 0.6, 1e-12);  // 1 - 6 * 4 / (4 * 15)
  EXPECT_TRUE(std::isnan(spearman({1, 2}, {3, 3})));
  EXPECT_EQ(error_of([] { spearman({1}, {1, 2}); }), "spearman: the two sides differ in length");
}

TEST(ReportStats, SpearmanPermutationTestExactForFewClasses) {
  // n = 4: all 24 orders. |rho| >= 0.6 iff sum d^2 <= 4 or >= 16, which
  // 1 + 3 + 1 and 1 + 3 + 1 of the 24 orders have.
  auto t = spearman_test({1, 2, 3, 4}, {2, 1, 4, 3}, 10000, 7);
  EXPECT_TRUE(t.exact);
  EXPECT_EQ(t.permutations, 24);
  EXPECT_NEAR(t.statistic, 0.6, 1e-12);
  EXPECT_NEAR(t.p, 10.0 / 24, 1e-15);
  // A perfect order: only it and its reverse are as extreme.
  t = spearman_test({1, 2, 3, 4, 5}, {10, 20, 30, 40, 50}, 10000, 7);
  EXPECT_NEAR(t.p, 2.0 / 120, 1e-15);
  // Two classes: every order is as extreme.
  EXPECT_DOUBLE_EQ(spearman_test({5, 500}, {0.9, 0.2}, 10000, 7).p, 1);
  // Constant side: no statistic, no p.
  t = spearman_test({1, 2, 3}, {1, 1, 1}, 10000, 7);
  EXPECT_TRUE(std::isnan(t.statistic) && std::isnan(t.p));
}

TEST(ReportStats, SpearmanPermutationTestMonteCarlo) {
  const std::vector<double> x{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, y{2, 9, 4, 1, 7, 10, 3, 6, 5, 8};
  auto t = spearman_test(x, y, 10000, 220309739);
  EXPECT_FALSE(t.exact);
  EXPECT_EQ(t.permutations, 10000);
  EXPECT_NEAR(t.statistic, 0.2727272727272727, 1e-12);  // 1 - 6 * 120 / 990
  // Golden: 4503 of 10000 random orders are as extreme; (1 + 4503) / 10001.
  EXPECT_DOUBLE_EQ(t.p, 4504.0 / 10001);
  // The t approximation sqrt(n - 2) r / sqrt(1 - r^2) = 0.80 with 8 df gives 0.446.
  EXPECT_NEAR(t.p, 0.446, 0.015);
  EXPECT_DOUBLE_EQ(spearman_test(x, y, 10000, 220309739).p, t.p);  // deterministic
  EXPECT_NE(spearman_test(x, y, 10000, 220309740).p, t.p);          // the seed matters
  // A perfect order of 10: no random order of 10! is as extreme, and the
  // +1 keeps p above 0.
  EXPECT_DOUBLE_EQ(spearman_test(x, x, 10000, 220309739).p, 1.0 / 10001);
}

TEST(ReportStats, TwoWayResidualsAndSlope) {
  // Balanced 3 x 2: the residual is v - row mean - column mean + grand mean.
  const std::vector<int64_t> unit{0, 1, 2, 0, 1, 2}, period{0, 0, 0, 1, 1, 1};
  auto r = two_way_residuals({1, 2, 6, 3, 5, 7}, unit, period);
  // rows (units) means 2, 3.5, 6.5; period means 3, 5; grand 4.
  const std::vector<double> want{1 - 2 - 3 + 4, 2 - 3.5 - 3 + 4, 6 - 6.5 - 3 + 4,
                                 3 - 2 - 5 + 4, 5 - 3.5 - 5 + 4, 7 - 6.5 - 5 + 4};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(r[i], want[i], 1e-12) << i;

  // Unbalanced, with x larger in later seeds and seed effects that follow
  // it: y = a_c + g_s + b x holds exactly, so the two-way slope is b (a
  // class-only model would credit the seed effects to x); the residual of a
  // pure fixed-effects vector is 0, and any residual sums to 0 in every
  // unit and period.
  Panel p = planted_panel(-0.2, 3, true, 5);
  std::vector<double> fe(p.x.size()), x(p.x.size()), y(p.x.size());
  for (size_t i = 0; i < p.x.size(); ++i) {
    fe[i] = 0.3 * p.unit[i] - 2.0 * p.period[i];
    x[i] = p.x[i] + 0.5 * p.period[i];
    y[i] = fe[i] - 0.2 * x[i];
  }
  for (double v : two_way_residuals(fe, p.unit, p.period)) EXPECT_NEAR(v, 0, 1e-12);
  EXPECT_NEAR(two_way_slope(x, y, p.unit, p.period), -0.2, 1e-12);
  r = two_way_residuals(p.y, p.unit, p.period);
  for (int64_t g = 0; g < 10; ++g) {
    double su = 0, sp = 0;
    for (size_t i = 0; i < r.size(); ++i) {
      su += p.unit[i] == g ? r[i] : 0;
      sp += p.period[i] == g ? r[i] : 0;
    }
    EXPECT_NEAR(su, 0, 1e-12) << "unit " << g;
    EXPECT_NEAR(sp, 0, 1e-12) << "period " << g;
  }
  // No variation of x within a unit: not estimable.
  EXPECT_TRUE(std::isnan(two_way_slope({1, 2, 1, 2}, {0.1, 0.2, 0.3, 0.5}, {0, 1, 0, 1}, {0, 0, 1, 1})));
}

TEST(ReportStats, TwoWaySlopeTestFindsAPlantedEffect) {
  for (bool skip : {false, true}) {
    Panel p = planted_panel(-0.2, 5, skip, 3);
    auto t = two_way_slope_test(p.x, p.y, p.unit, p.period, 10000, 220309739);
    EXPECT_NEAR(t.slope, -0.2, 0.01) << skip;
    EXPECT_LT(t.lo, -0.2) << skip;
    EXPECT_GT(t.hi, -0.2) << skip;
    EXPECT_LT(t.hi, 0) << skip;
    EXPECT_LT(t.hi - t.lo, 0.05) << skip;
    EXPECT_DOUBLE_EQ(t.p, 1.0 / 10001) << skip;  // no reshuffle comes near
    EXPECT_EQ(t.permutations, 10000) << skip;
  }
}

TEST(ReportStats, TwoWaySlopeTestWithoutEffect) {
  // Noise seed 3: a typical draw (p about 0.5). A 95% interval misses the
  // truth for about 1 noise seed in 20 (seed 11 is one such).
  Panel p = planted_panel(0, 5, false, 3);
  auto t = two_way_slope_test(p.x, p.y, p.unit, p.period, 10000, 220309739);
  EXPECT_LT(t.lo, 0);
  EXPECT_GT(t.hi, 0);
  EXPECT_LE(t.lo, t.slope);
  EXPECT_GE(t.hi, t.slope);
  EXPECT_GT(t.p, 0.05);
  EXPECT_LE(t.p, 1);
  // Deterministic: the same seed, the same bytes.
  auto again = two_way_slope_test(p.x, p.y, p.unit, p.period, 10000, 220309739);
  EXPECT_EQ(again.p, t.p);
  EXPECT_EQ(again.lo, t.lo);
  EXPECT_EQ(again.hi, t.hi);
  // Adding c x to y moves the slope and the interval by c; once the
  // interval leaves 0, the test of 0 rejects.
  const double c = 0.01 - t.lo;
  std::vector<double> shifted = p.y;
  for (size_t i = 0; i < shifted.size(); ++i) shifted[i] += c * p.x[i];
  auto s = two_way_slope_test(p.x, shifted, p.unit, p.period, 10000, 220309739);
  EXPECT_NEAR(s.slope, t.slope + c, 1e-12);
  EXPECT_NEAR(s.lo, 0.01, 1e-9);
  EXPECT_NEAR(s.hi, t.hi + c, 1e-9);
  EXPECT_LE(s.p, 0.05);
}

TEST(ReportStats, TwoWaySlopeTestOfATinyPanelHasNoBoundedInterval) {
  // 2 classes x 2 seeds: every reshuffle gives the same |correlation|.
  auto t = two_way_slope_test({1, 2, 2, 1}, {0.1, 0.3, 0.25, 0.12}, {0, 1, 0, 1}, {0, 0, 1, 1}, 10000, 1);
  // The difference in differences: ((0.25 - 0.1) - (0.12 - 0.3)) / ((2 - 1) - (1 - 2)).
  EXPECT_NEAR(t.slope, 0.165, 1e-12);
  EXPECT_DOUBLE_EQ(t.p, 1);
  EXPECT_EQ(t.lo, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(t.hi, std::numeric_limits<double>::infinity());
}
