// Seeded choices of rows: per-class subsets (long tails, --per-class,
// balancing), stratified splits, shards for array jobs, and concatenation of
// data sets. Rows are numbers in the input; every selection is returned in
// ascending order (a repeated row appears several times, adjacently).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "invkit/data/dataset.h"
#include "invkit/random.h"

namespace invkit {

// A random permutation of 0..n-1 (Fisher-Yates on Rng(seed)).
std::vector<int64_t> permutation(int64_t n, uint64_t seed);

// k distinct numbers from 0..n-1, drawn at random, in ascending order.
std::vector<int64_t> random_subset(int64_t n, int64_t k, uint64_t seed);

// Rows of each class, ascending. Labels must lie in [0, num_classes).
std::vector<std::vector<int64_t>> rows_by_class(const std::vector<int64_t>& labels, int64_t num_classes);

// The labels of a data set as a vector.
std::vector<int64_t> label_vector(const Dataset& d);

struct Selection {
  std::vector<int64_t> rows;                           // ascending
  nlohmann::json repeated = nlohmann::json::array();  // [{class, name, available, rows}] of classes that repeat
};

// targets[c] rows of class c: a seeded random subset when the class has
// enough rows. A class with fewer rows than asked is an Error naming it and
// both numbers, unless allow_repeat: then every row of the class appears
// floor(target / n) times and a seeded random subset of target mod n rows
// once more. A class with no rows cannot give any (Error even with repeats).
Selection select_per_class(const std::vector<int64_t>& labels, const std::vector<int64_t>& targets,
                           const std::vector<std::string>& class_names, uint64_t seed, bool allow_repeat);

// A stratified split: from each class c with n_c rows, round(fraction * n_c)
// rows (half away from zero) drawn at random form `named`; the others form
// `remainder`. Both are ascending, disjoint, and together every row once.
struct SplitRows {
  std::vector<int64_t> named;
  std::vector<int64_t> remainder;
};
SplitRows stratified_split(const std::vector<int64_t>& labels, int64_t num_classes, double fraction, uint64_t seed);

// Shard i (0-based) of n: rows [floor(i*N/n), floor((i+1)*N/n)). The n shards
// are contiguous, differ in size by at most one, and cover every row once.
std::pair<int64_t, int64_t> shard_range(int64_t num_rows, int64_t i, int64_t n);

// Rows `rows` of `d` (Dataset::select: `index` becomes the row in `d`).
Dataset select_rows(const Dataset& d, const std::vector<int64_t>& rows);

// The rows of `parts` one after another, in the first part's classes: a
// later part's labels are matched by name (data/class_match.h; another order
// is remapped, a class the first part lacks is an Error). All must have the
// same image shape (shapes[i], the shape of part i's images, which a
// DatasetReader's head knows without them), and presence of `index` and of
// `params` (same width and params_columns); otherwise an Error names the file
// (sources[i]). The manifest extras are the first part's. The result has
// images when every part has them, and none otherwise (heads give a head).
Dataset concat(const std::vector<Dataset>& parts, const std::vector<ImageShape>& shapes,
               const std::vector<std::string>& sources);

}  // namespace invkit
