#include "invkit/metrics/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "invkit/error.h"

namespace invkit::metrics {

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kPi = 3.14159265358979323846;

// "a >= b" for test statistics, allowing a relative 1e-12 for rounding (a
// permutation that reproduces the observed value must count).
bool at_least(double a, double b) { return a >= b - 1e-12 * std::max(1.0, std::fabs(b)); }

double mean(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); }

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// The observations of each group, groups in ascending order of their key.
std::vector<std::vector<size_t>> groups_of(const std::vector<int64_t>& key) {
  std::map<int64_t, std::vector<size_t>> by;
  for (size_t i = 0; i < key.size(); ++i) by[key[i]].push_back(i);
  std::vector<std::vector<size_t>> out;
  for (auto& [k, idx] : by) out.push_back(std::move(idx));
  return out;
}

// Subtracts each group's mean from r; returns the largest |mean| subtracted.
double demean(std::vector<double>& r, const std::vector<std::vector<size_t>>& groups) {
  double largest = 0;
  for (const auto& g : groups) {
    double m = 0;
    for (size_t i : g) m += r[i];
    m /= g.size();
    for (size_t i : g) r[i] -= m;
    largest = std::max(largest, std::fabs(m));
  }
  return largest;
}

// two_way_residuals with the groups computed once.
std::vector<double> residuals(std::vector<double> r, const std::vector<std::vector<size_t>>& units,
                              const std::vector<std::vector<size_t>>& periods) {
  double scale = 0;
  for (double x : r) scale = std::max(scale, std::fabs(x));
  const double tol = 1e-13 * scale;
  for (int sweep = 0; sweep < 100000; ++sweep) {
    // After the period step, the unit means are what is left to remove.
    if (demean(r, units) <= tol && sweep > 0) return r;
    demean(r, periods);
  }
  throw Error("two-way fixed effects: alternating demeaning did not converge in 100000 sweeps");
}

// The number of permutations of n things, or `cap` + 1 when that is more.
int64_t factorial_capped(size_t n, int64_t cap) {
  int64_t f = 1;
  for (size_t k = 2; k <= n; ++k) {
    f *= static_cast<int64_t>(k);
    if (f > cap) return cap + 1;
  }
  return f;
}

}  // namespace

uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  if (n == 0) throw Error("uniform_below: n must be at least 1");
  // 2^64 mod n: draws below it would make the low residues more likely.
  const uint64_t reject = (0 - n) % n;
  uint64_t draw;
  do draw = rng();
  while (draw < reject);
  return draw % n;
}

void shuffle(std::vector<double>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[uniform_below(rng, i)]);
}

std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> rank(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) rank[order[k]] = avg;
    i = j + 1;
  }
  return rank;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw Error("spearman: the two sides differ in length");
  if (x.size() < 2) return kNaN;
  auto rx = average_ranks(x), ry = average_ranks(y);
  const double mx = mean(rx), my = mean(ry);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < rx.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  if (sxx == 0 || syy == 0) return kNaN;
  return sxy / std::sqrt(sxx * syy);
}

PermutationTest spearman_test(const std::vector<double>& x, const std::vector<double>& y, int64_t permutations,
                              uint64_t seed) {
  if (permutations < 1) throw Error("spearman_test: permutations must be at least 1");
  PermutationTest t;
  t.statistic = spearman(x, y);
  if (std::isnan(t.statistic)) {
    t.p = kNaN;
    return t;
  }
  // With the ranks centred, rho = sum(cx * cy) / norm; only the pairing of
  // cx with cy changes under a permutation.
  auto cx = average_ranks(x), cy = average_ranks(y);
  const double mx = mean(cx), my = mean(cy);
  for (auto& v : cx) v -= mx;
  for (auto& v : cy) v -= my;
  const double norm = std::sqrt(dot(cx, cx) * dot(cy, cy));
  const double observed = std::fabs(t.statistic);
  auto extreme = [&](const std::vector<double>& perm) { return at_least(std::fabs(dot(cx, perm) / norm), observed); };
  const int64_t all = factorial_capped(x.size(), permutations);
  int64_t count = 0;
  if (all <= permutations) {
    // Every order of y: next_permutation over positions, from the identity.
    std::vector<size_t> pos(cy.size());
    std::iota(pos.begin(), pos.end(), 0);
    std::vector<double> perm(cy.size());
    do {
      for (size_t i = 0; i < pos.size(); ++i) perm[i] = cy[pos[i]];
      count += extreme(perm);
    } while (std::next_permutation(pos.begin(), pos.end()));
    t.exact = true;
    t.permutations = all;
    t.p = static_cast<double>(count) / all;
    return t;
  }
  std::mt19937_64 rng(seed);
  std::vector<double> perm = cy;
  for (int64_t k = 0; k < permutations; ++k) {
    shuffle(perm, rng);
    count += extreme(perm);
  }
  t.permutations = permutations;
  t.p = (1.0 + count) / (1.0 + permutations);
  return t;
}

std::vector<double> two_way_residuals(const std::vector<double>& v, const std::vector<int64_t>& unit,
                                      const std::vector<int64_t>& period) {
  if (unit.size() != v.size() || period.size() != v.size())
    throw Error("two_way_residuals: values, units and periods differ in length");
  return residuals(v, groups_of(unit), groups_of(period));
}

double two_way_slope(const std::vector<double>& x, const std::vector<double>& y, const std::vector<int64_t>& unit,
                     const std::vector<int64_t>& period) {
  if (y.size() != x.size()) throw Error("two_way_slope: x and y differ in length");
  auto rx = two_way_residuals(x, unit, period);
  auto ry = two_way_residuals(y, unit, period);
  const double sxx = dot(rx, rx);
  double scale = 0;
  for (double v : x) scale = std::max(scale, std::fabs(v));
  if (!(sxx > 1e-20 * scale * scale * x.size())) return kNaN;  // no within variation (to rounding)
  return dot(rx, ry) / sxx;
}

namespace {

// The permutation distribution of the slope test: for each permutation,
// the A and B of the comparison |A - b0 B| >= |slope - b0| (see
// two_way_slope_test).
struct SlopePermutations {
  double slope = 0;
  std::vector<double> a, b;
  // p(b0) = (1 + #{|A - b0 B| >= |slope - b0|}) / (1 + count).
  double p(double b0) const {
    int64_t count = 0;
    const double observed = std::fabs(slope - b0);
    for (size_t k = 0; k < a.size(); ++k) count += at_least(std::fabs(a[k] - b0 * b[k]), observed);
    return (1.0 + count) / (1.0 + a.size());
  }
};

// The end of the confidence set on one side (direction +1 or -1) of the
// slope: step outward, doubling, until p(b0) <= alpha, then bisect.
double interval_end(const SlopePermutations& perms, double alpha, double step, int direction) {
  double inside = perms.slope, outside = perms.slope + direction * step;
  for (int k = 0; perms.p(outside) > alpha; ++k) {
    if (k == 60) return direction * std::numeric_limits<double>::infinity();
    inside = outside;
    step *= 2;
    outside = perms.slope + direction * step;
  }
  for (int k = 0; k < 200 && std::fabs(outside - inside) > 1e-12 * std::max(1.0, std::fabs(inside)); ++k) {
    const double mid = (inside + outside) / 2;
    (perms.p(mid) > alpha ? inside : outside) = mid;
  }
  return inside;
}

}  // namespace

SlopeTest two_way_slope_test(const std::vector<double>& x, const std::vector<double>& y,
                             const std::vector<int64_t>& unit, const std::vector<int64_t>& period,
                             int64_t permutations, uint64_t seed, double level) {
  if (x.size() != y.size() || unit.size() != x.size() || period.size() != x.size())
    throw Error("two_way_slope_test: x, y, units and periods differ in length");
  if (permutations < 1) throw Error("two_way_slope_test: permutations must be at least 1");
  if (!(level > 0 && level < 1)) throw Error("two_way_slope_test: level must be in (0, 1)");
  SlopeTest t;
  t.slope = two_way_slope(x, y, unit, period);
  if (std::isnan(t.slope)) {
    t.p = t.lo = t.hi = kNaN;
    return t;
  }
  const auto units = groups_of(unit), periods = groups_of(period);
  const auto rx = residuals(x, units, periods), ry = residuals(y, units, periods);
  const double sxx = dot(rx, rx);
  SlopePermutations perms;
  perms.slope = t.slope;
  std::mt19937_64 rng(seed);
  std::vector<double> xp = x;
  for (int64_t k = 0; k < permutations; ++k) {
    for (const auto& g : periods) {  // shuffle x within each period
      for (size_t i = g.size(); i > 1; --i) std::swap(xp[g[i - 1]], xp[g[uniform_below(rng, i)]]);
    }
    const auto r = residuals(xp, units, periods);
    const double d = dot(r, r);
    if (!(d > 1e-12 * sxx)) continue;  // no within variation: no correlation to compare
    const double norm = std::sqrt(d * sxx);
    perms.a.push_back(dot(r, ry) / norm);
    perms.b.push_back(dot(r, rx) / norm);
  }
  t.permutations = static_cast<int64_t>(perms.a.size());
  t.p = perms.p(0);
  // The first step: sqrt(sum of squared fit residuals / sum rx^2), a scale
  // like the slope's standard error (or 1e-3 of the slope if the fit is exact).
  double sse = 0;
  for (size_t i = 0; i < rx.size(); ++i) sse += (ry[i] - t.slope * rx[i]) * (ry[i] - t.slope * rx[i]);
  double step = std::sqrt(sse / sxx);
  if (!(step > 0)) step = 1e-3 * std::max(std::fabs(t.slope), 1e-9);
  const double alpha = 1 - level;
  t.lo = interval_end(perms, alpha, step, -1);
  t.hi = interval_end(perms, alpha, step, +1);
  return t;
}

double t_two_sided_cdf(double t, int64_t df) {
  if (df < 1) throw Error("t_two_sided_cdf: df must be at least 1");
  t = std::fabs(t);
  const double theta = std::atan(t / std::sqrt(static_cast<double>(df)));
  const double s = std::sin(theta), c2 = std::cos(theta) * std::cos(theta);
  // The series' terms: term_k = term_{k-1} * cos^2(theta) * (ratio of the
  // next even/odd factors), up to cos^(df-2).
  if (df % 2 == 1) {
    if (df == 1) return 2 * theta / kPi;
    double term = std::cos(theta), sum = term;  // cos(theta) * 1
    for (int64_t k = 3; k <= df - 2; k += 2) {
      term *= c2 * static_cast<double>(k - 1) / static_cast<double>(k);
      sum += term;
    }
    return 2 / kPi * (theta + s * sum);
  }
  double term = 1, sum = 1;
  for (int64_t k = 2; k <= df - 2; k += 2) {
    term *= c2 * static_cast<double>(k - 1) / static_cast<double>(k);
    sum += term;
  }
  return s * sum;
}

double t_quantile_two_sided(double level, int64_t df) {
  if (!(level > 0 && level < 1)) throw Error("t_quantile_two_sided: level must be in (0, 1)");
  if (df < 1) throw Error("t_quantile_two_sided: df must be at least 1");
  double lo = 0, hi = 1;
  while (t_two_sided_cdf(hi, df) < level) hi *= 2;
  while (hi - lo > 1e-12 * hi) {
    const double mid = (lo + hi) / 2;
    (t_two_sided_cdf(mid, df) < level ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

MeanInterval t_interval(const std::vector<double>& v, double level) {
  MeanInterval m;
  m.n = static_cast<int64_t>(v.size());
  if (v.empty()) {
    m.mean = m.lo = m.hi = kNaN;
    return m;
  }
  m.mean = mean(v);
  if (v.size() < 2) {
    m.lo = m.hi = kNaN;
    return m;
  }
  double ss = 0;
  for (double x : v) ss += (x - m.mean) * (x - m.mean);
  const double half = t_quantile_two_sided(level, m.n - 1) * std::sqrt(ss / (m.n - 1) / m.n);
  m.lo = m.mean - half;
  m.hi = m.mean + half;
  return m;
}

}  // namespace invkit::metrics
