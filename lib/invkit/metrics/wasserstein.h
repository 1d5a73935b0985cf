// Distances between two one-dimensional samples, for comparing the
// distribution of a transformation parameter under two samplers
// (metrics/transform_decoding.h). Plain C++; the samples are any sizes >= 1.
#pragma once
#include <cstdint>
#include <vector>

namespace invkit::metrics {

// The 1-Wasserstein (earth mover's) distance between the empirical
// distributions of a and b, in their units: the integral of |F_a - F_b| over
// the line, F the empirical CDFs (as scipy.stats.wasserstein_distance).
// Throws invkit::Error when a side is empty or holds a non-finite value.
double wasserstein1(const std::vector<double>& a, const std::vector<double>& b);

// The 1-Wasserstein distance on a circle of circumference `period` (360 for
// angles in degrees; values are taken modulo the period, so 170 and -170 are
// 20 apart): min over alpha of the integral over [0, period) of
// |F_a - F_b - alpha|, attained at a weighted median of F_a - F_b (Rabin,
// Delon & Gousseau 2011, "Transportation distances on the circle", J. Math.
// Imaging Vis. 41). At most period / 2. Errors as wasserstein1.
double wasserstein1_circular(const std::vector<double>& a, const std::vector<double>& b, double period);

// The total variation distance, max over sets of |P_a - P_b| = half the L1
// distance, between the empirical distributions of two samples of category
// indices (any int64 values). In [0, 1]. Throws invkit::Error when a side
// is empty.
double total_variation(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

}  // namespace invkit::metrics
