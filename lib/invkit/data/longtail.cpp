#include "invkit/data/longtail.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "invkit/data/sampling.h"
#include "invkit/error.h"
#include "invkit/names.h"

namespace invkit {

int64_t floor_tolerant(double x) {
  double r = std::round(x);
  if (std::fabs(x - r) <= 1e-9 * std::max(1.0, std::fabs(x))) return static_cast<int64_t>(r);
  return static_cast<int64_t>(std::floor(x));
}

void LongTailProfile::check(int64_t num_classes) const {
  auto bad = [](const std::string& what) { return UsageError(what); };
  if (name == "counts") {
    if (static_cast<int64_t>(counts.size()) != num_classes)
      throw bad(param("counts") + " has " + std::to_string(counts.size()) + " numbers but the data set has " +
                std::to_string(num_classes) + " classes");
    for (size_t i = 0; i < counts.size(); ++i)
      if (counts[i] < 0) throw bad(param("counts") + ": number " + std::to_string(i + 1) + " is negative");
    return;
  }
  if (name != "zipf" && name != "exp" && name != "step")
    throw bad(param("profile") + " " + name + ": expected zipf, exp, step or counts");
  if (max < 1) throw bad(param("max") + " must be at least 1 for " + param("profile") + " " + name);
  if (min < 0 || min > max) throw bad(param("min") + " must lie in [0, " + param("max") + "]");
  if (name == "zipf" && !(alpha >= 0 && std::isfinite(alpha))) throw bad(param("alpha") + " must be a number >= 0");
  if ((name == "exp" || name == "step") && !(ratio >= 1 && std::isfinite(ratio)))
    throw bad(param("ratio") + " must be a number >= 1");
  if (name == "step" && (head < 0 || head > num_classes))
    throw bad(param("head") + " must lie in [0, " + std::to_string(num_classes) + "] (the number of classes)");
}

std::vector<int64_t> LongTailProfile::counts_by_position(int64_t num_classes) const {
  check(num_classes);
  if (name == "counts") return counts;
  std::vector<int64_t> n(num_classes);
  for (int64_t p = 0; p < num_classes; ++p) {
    const double i = static_cast<double>(p + 1);  // 1-based position
    double x = static_cast<double>(max);
    if (name == "zipf") {
      x = max / std::pow(i, alpha);
    } else if (name == "exp") {
      // The first class keeps max, the last max / ratio.
      if (num_classes > 1) x = max / std::pow(ratio, (i - 1) / static_cast<double>(num_classes - 1));
    } else if (name == "step") {
      if (p >= head) x = max / ratio;
    }
    n[p] = std::max(floor_tolerant(x), min);
    // Only --counts may drop a class; a formula that rounds to 0 is a mistake.
    if (n[p] == 0)
      throw UsageError(param("profile") + " " + name + " gives the class at position " + std::to_string(p + 1) +
                       " no rows; raise " + param("max") + " or " + param("min") + " (only " + param("profile") +
                       " counts may ask for 0)");
  }
  return n;
}

nlohmann::json LongTailProfile::to_json() const {
  nlohmann::json j = {{"name", name}};
  if (name == "counts") {
    j["counts"] = counts;
    return j;
  }
  j["max"] = max;
  j["min"] = min;
  if (name == "zipf") j["alpha"] = alpha;
  if (name == "exp" || name == "step") j["ratio"] = ratio;
  if (name == "step") j["head"] = head;
  return j;
}

namespace {

constexpr std::pair<const char*, ClassOrder> kClassOrders[] = {
    {"shuffle", ClassOrder::shuffle}, {"as-is", ClassOrder::as_is}, {"size", ClassOrder::size}};

}  // namespace

ClassOrder parse_class_order(const std::string& name) {
  if (auto v = value_named(kClassOrders, name)) return *v;
  throw UsageError(param("order") + " " + name + ": expected shuffle, as-is or size");
}

std::string class_order_name(ClassOrder order) { return name_of(kClassOrders, order); }

std::vector<int64_t> class_order(ClassOrder order, const std::vector<int64_t>& class_sizes, uint64_t seed) {
  const auto c = static_cast<int64_t>(class_sizes.size());
  if (order == ClassOrder::shuffle) return permutation(c, selection_seed(seed, SelectionStream::class_order));
  std::vector<int64_t> ids(c);
  std::iota(ids.begin(), ids.end(), 0);
  if (order == ClassOrder::size)
    std::stable_sort(ids.begin(), ids.end(), [&](int64_t a, int64_t b) { return class_sizes[a] > class_sizes[b]; });
  return ids;
}

std::vector<int64_t> targets_by_class(const std::vector<int64_t>& order, const std::vector<int64_t>& by_position) {
  std::vector<int64_t> t(order.size(), 0);
  for (size_t p = 0; p < order.size(); ++p) t[order[p]] = by_position.at(p);
  return t;
}

}  // namespace invkit
