// Small-sample statistics for the results report: Spearman's rank
// correlation with a permutation test, the slope of a two-way fixed-effects
// panel regression with a permutation test and the confidence interval that
// inverts it, and Student's t interval of a mean. Plain C++ (no torch); every
// random draw comes from std::mt19937_64 with a seed the caller passes, through
// the draw functions below, so results are the same bytes on every platform.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace invkit::metrics {

// A uniform integer in [0, n), n >= 1, from one or more draws of `rng`
// (rejection of the low values that would bias `draw % n`). Unlike
// std::uniform_int_distribution, its algorithm is fixed here, so a seed gives
// the same numbers with every standard library.
uint64_t uniform_below(std::mt19937_64& rng, uint64_t n);

// Shuffles v in place: Fisher-Yates with uniform_below.
void shuffle(std::vector<double>& v, std::mt19937_64& rng);

// The ranks of v, 1..n, ties given the average of the ranks they span.
std::vector<double> average_ranks(const std::vector<double>& v);

// Spearman's rank correlation (the Pearson correlation of the average ranks);
// NaN when either side is constant or has fewer than 2 values. Throws
// invkit::Error when the sides differ in length.
double spearman(const std::vector<double>& x, const std::vector<double>& y);

// A two-sided permutation test.
struct PermutationTest {
  double statistic = 0;  // the observed statistic
  double p = 1;          // two-sided p-value; NaN when the statistic is NaN
  int64_t permutations = 0;  // how many were drawn (or, exact, enumerated)
  bool exact = false;        // all n! permutations enumerated
};

// Spearman's rho of (x, y) and its two-sided permutation p-value under H0:
// y's order is exchangeable given x. When n! <= `permutations`, all n!
// orders of y are enumerated and p = #{|rho_perm| >= |rho|} / n! (exact);
// otherwise `permutations` random orders are drawn (mt19937_64 seeded with
// `seed`) and p = (1 + #{|rho_perm| >= |rho|}) / (1 + permutations), the
// Monte-Carlo p-value that stays valid (never 0) with the observed order
// counted once (Phipson & Smyth 2010, "Permutation p-values should never be
// zero"). ">=" allows a relative 1e-12 for rounding, so ties count.
PermutationTest spearman_test(const std::vector<double>& x, const std::vector<double>& y, int64_t permutations,
                              uint64_t seed);

// v minus its projection on the two-way fixed effects: unit dummies plus
// period dummies (unit[i], period[i]: the i-th observation's unit and period,
// any integers). Computed by alternating demeaning (subtract unit means,
// then period means, repeated until the unit means are zero to 1e-13 of
// max|v|), which converges to the least-squares residual in balanced and
// unbalanced panels alike (it is von Neumann's alternating projection onto
// the complement of the sum of the two dummy spaces; Guimarães & Portugal
// 2010, "A simple feasible procedure to fit models with high-dimensional
// fixed effects"). A balanced panel converges in one sweep. Throws
// invkit::Error if 100000 sweeps do not converge.
std::vector<double> two_way_residuals(const std::vector<double>& v, const std::vector<int64_t>& unit,
                                      const std::vector<int64_t>& period);

// The least-squares slope b of y = a_unit + c_period + b x + e (two-way fixed
// effects): sum(rx ry) / sum(rx^2) with rx, ry the two_way_residuals of x and
// y (Frisch-Waugh-Lovell). NaN when x has no variation within units and
// periods (rx = 0).
double two_way_slope(const std::vector<double>& x, const std::vector<double>& y, const std::vector<int64_t>& unit,
                     const std::vector<int64_t>& period);

// The two-way slope with a permutation p-value and confidence interval.
struct SlopeTest {
  double slope = 0;  // two_way_slope; NaN: not estimable (then the rest is NaN)
  double p = 1;      // two-sided p-value of H0: slope = 0
  double lo = 0, hi = 0;  // confidence interval; -inf/+inf when unbounded
  int64_t permutations = 0;  // permutations drawn (ones where the permuted x
                             // has no within variation are left out)
};

// two_way_slope with randomization inference that follows the design "each
// period (seed) assigns its x values (class sizes) to its units (classes) in
// a random order": a permutation shuffles the x values among the
// observations of each period, independently per period (the experiment's
// own class-order shuffle drawn again), keeping y.
//
// The test statistic is the partial correlation of x and y given the fixed
// effects, r = sum(rx ry) / (|rx| |ry|), not the slope itself: a permutation
// changes |rx| (the within variation of x), and the slope, scaled by it,
// loses power where the correlation does not (the studentized statistic,
// as a permutation test should use; DiCiccio & Romano 2017, "Robust
// permutation tests for correlation and regression coefficients", JASA).
// For H0: slope = b0 the data are y - b0 x; |r_perm| >= |r| reads
// |A - b0 B| >= |slope - b0| with A = sum(rx' ry) / (|rx'| |rx|) and
// B = sum(rx' rx) / (|rx'| |rx|) (rx': residual of the permuted x; |B| <= 1),
// so one set of `permutations` permutations (mt19937_64 seeded with `seed`)
// serves every b0: p(b0) = (1 + #{|A - b0 B| >= |slope - b0|}) /
// (1 + permutations). The p-value is p(0); the interval at `level` is the
// set of b0 with p(b0) > 1 - level around the slope (where p = 1), its ends
// found by doubling a step outward and then bisecting (test inversion;
// exact under the model's additive effect, the same b in every unit). The
// interval excludes 0 exactly when p <= 1 - level.
SlopeTest two_way_slope_test(const std::vector<double>& x, const std::vector<double>& y,
                             const std::vector<int64_t>& unit, const std::vector<int64_t>& period,
                             int64_t permutations, uint64_t seed, double level = 0.95);

// P(|T| <= t) for Student's t with `df` >= 1 (integer) degrees of freedom:
// the finite series of Abramowitz & Stegun 26.7.3 (odd df) and 26.7.4 (even
// df) in theta = atan(t / sqrt(df)).
double t_two_sided_cdf(double t, int64_t df);

// The t with P(|T| <= t) = level (0 < level < 1) for `df` >= 1 degrees of
// freedom: t_two_sided_cdf inverted by bisection to 1e-12 (level 0.95: the
// 97.5% quantile; df 2: 4.3027).
double t_quantile_two_sided(double level, int64_t df);

// The mean of v and its t confidence interval mean ± t(level, n - 1) s / sqrt(n)
// (s: sample standard deviation, n - 1 in the denominator). n = 1: lo = hi =
// NaN (no interval); n = 0: everything NaN.
struct MeanInterval {
  double mean = 0, lo = 0, hi = 0;
  int64_t n = 0;
};
MeanInterval t_interval(const std::vector<double>& v, double level = 0.95);

}  // namespace invkit::metrics
