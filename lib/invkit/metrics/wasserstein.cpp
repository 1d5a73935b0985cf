#include "invkit/metrics/wasserstein.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "invkit/error.h"

namespace invkit::metrics {
namespace {

void check_sample(const std::vector<double>& v, const char* side) {
  if (v.empty()) throw Error(std::string("wasserstein distance: sample ") + side + " is empty");
  for (double x : v)
    if (!std::isfinite(x)) throw Error(std::string("wasserstein distance: sample ") + side + " holds a non-finite value");
}

// The steps of F_a - F_b: the sorted pooled values, each with the
// difference of the two empirical CDFs just after it.
std::vector<std::pair<double, double>> cdf_difference(std::vector<double> a, std::vector<double> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  const double wa = 1.0 / static_cast<double>(a.size()), wb = 1.0 / static_cast<double>(b.size());
  std::vector<std::pair<double, double>> steps;
  steps.reserve(a.size() + b.size());
  size_t i = 0, j = 0;
  double diff = 0;
  while (i < a.size() || j < b.size()) {
    const double x = j == b.size() || (i < a.size() && a[i] <= b[j]) ? a[i] : b[j];
    while (i < a.size() && a[i] == x) diff += wa, ++i;
    while (j < b.size() && b[j] == x) diff -= wb, ++j;
    steps.emplace_back(x, diff);
  }
  return steps;
}

}  // namespace

double wasserstein1(const std::vector<double>& a, const std::vector<double>& b) {
  check_sample(a, "a");
  check_sample(b, "b");
  const auto steps = cdf_difference(a, b);
  double sum = 0;
  for (size_t k = 0; k + 1 < steps.size(); ++k)
    sum += std::abs(steps[k].second) * (steps[k + 1].first - steps[k].first);
  return sum;
}

double wasserstein1_circular(const std::vector<double>& a, const std::vector<double>& b, double period) {
  check_sample(a, "a");
  check_sample(b, "b");
  if (!(period > 0) || !std::isfinite(period)) throw Error("wasserstein distance: the period must be positive");
  auto wrap = [period](std::vector<double> v) {
    for (double& x : v) {
      x = std::fmod(x, period);
      if (x < 0) x += period;
      if (x >= period) x = 0;  // -tiny % period rounds up to period
    }
    return v;
  };
  const auto steps = cdf_difference(wrap(a), wrap(b));
  // On [0, period): F_a - F_b is 0 before the first value, steps[k].second
  // from steps[k] to steps[k + 1], and 0 (the two CDFs both reach 1) after
  // the last value.
  std::vector<std::pair<double, double>> pieces;  // (value of F_a - F_b, length)
  pieces.emplace_back(0.0, steps.front().first + (period - steps.back().first));
  for (size_t k = 0; k + 1 < steps.size(); ++k)
    pieces.emplace_back(steps[k].second, steps[k + 1].first - steps[k].first);
  // alpha: a median of F_a - F_b weighted by length.
  auto sorted = pieces;
  std::sort(sorted.begin(), sorted.end());
  double half = period / 2, seen = 0, alpha = sorted.back().first;
  for (const auto& [value, length] : sorted) {
    seen += length;
    if (seen >= half) {
      alpha = value;
      break;
    }
  }
  double sum = 0;
  for (const auto& [value, length] : pieces) sum += std::abs(value - alpha) * length;
  return sum;
}

double total_variation(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (a.empty() || b.empty()) throw Error("total variation: a sample is empty");
  std::map<int64_t, double> p;
  for (auto x : a) p[x] += 1.0 / static_cast<double>(a.size());
  for (auto x : b) p[x] -= 1.0 / static_cast<double>(b.size());
  double l1 = 0;
  for (const auto& [k, d] : p) l1 += std::abs(d);
  return l1 / 2;
}

}  // namespace invkit::metrics
