// Long-tail profiles: how many examples each class keeps, by its position in
// a class order (position 1 = the head). The paper's K49-LT sets use zipf
// (alpha 2, max 4800, min 5) after a seeded shuffle; CIFAR-LT uses exp.
// Pure functions on counts: no tensors, no files.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace invkit {

struct LongTailProfile {
  std::string name;             // zipf | exp | step | counts
  double alpha = 2.0;           // zipf: n_i = max(floor(max * i^-alpha), min)
  double ratio = 100.0;         // exp: head/tail ratio; step: max / tail size
  int64_t max = 0;              // size of the first class (zipf, exp, step)
  int64_t min = 0;              // lower clamp (zipf, exp, step)
  int64_t head = 0;             // step: how many classes keep max
  std::vector<int64_t> counts;  // counts: one per class, in class order

  // Throws UsageError naming the option when a parameter is out of range.
  void check(int64_t num_classes) const;

  // Target counts by position (index 0 = position 1) for `num_classes` classes.
  // UsageError if a formula profile gives a class 0 rows.
  std::vector<int64_t> counts_by_position(int64_t num_classes) const;

  // {name, its parameters} as recorded in the manifest.
  nlohmann::json to_json() const;
};

// floor(x), except that x within a relative 1e-9 of an integer counts as that
// integer, so 4800 / 5^2 is 192 whatever the rounding of pow().
int64_t floor_tolerant(double x);

enum class ClassOrder { shuffle, as_is, size };

// "shuffle" | "as-is" | "size"; UsageError otherwise.
ClassOrder parse_class_order(const std::string& name);
std::string class_order_name(ClassOrder order);

// Position → class id. shuffle: a permutation drawn from `seed`; as-is: 0..C-1;
// size: by descending class size, ties by class id.
std::vector<int64_t> class_order(ClassOrder order, const std::vector<int64_t>& class_sizes, uint64_t seed);

// Targets indexed by class id from targets by position and the class order.
std::vector<int64_t> targets_by_class(const std::vector<int64_t>& order, const std::vector<int64_t>& by_position);

}  // namespace invkit
