#include "invkit/train/rules.h"

#include <cmath>
#include <utility>

#include "invkit/error.h"
#include "invkit/names.h"
#include "invkit/random.h"

namespace invkit::train {

namespace {

constexpr std::pair<const char*, Rule> kRules[] = {
    {"erm", Rule::Erm}, {"resample", Rule::Resample}, {"reweight", Rule::Reweight}, {"drw", Rule::Drw}, {"drs", Rule::Drs}};

}  // namespace

Rule parse_rule(const std::string& name) {
  if (auto v = value_named(kRules, name)) return *v;
  throw UsageError(param("rule") + " " + name + ": expected erm, resample, reweight, drw or drs");
}

std::string rule_name(Rule rule) { return name_of(kRules, rule); }

EpochPlan plan_for(Rule rule, int64_t epoch, int64_t step1) {
  EpochPlan p;
  const bool late = epoch >= step1;
  p.balanced_sampling = rule == Rule::Resample || (rule == Rule::Drs && late);
  p.class_weights = rule == Rule::Reweight || (rule == Rule::Drw && late);
  return p;
}

std::vector<double> effective_number_weights(const std::vector<int64_t>& class_counts, double beta) {
  std::vector<double> w;
  double sum = 0;
  for (int64_t n : class_counts) {
    // 1 - beta^n computed stably for beta close to 1.
    double effective = n > 0 ? -std::expm1(static_cast<double>(n) * std::log(beta)) : 0.0;
    w.push_back(n > 0 ? (1.0 - beta) / effective : 0.0);
    sum += w.back();
  }
  for (auto& v : w) v = sum > 0 ? v * static_cast<double>(class_counts.size()) / sum : 0.0;
  return w;
}

torch::Tensor shuffled_order(int64_t n, torch::Generator& gen) {
  return torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kLong));
}

BalancedSampler::BalancedSampler(const torch::Tensor& labels, int64_t num_classes) {
  auto y = labels.to(torch::kCPU);
  counts_ = torch::bincount(y, {}, num_classes);
  nonempty_ = counts_.nonzero().flatten();
  if (nonempty_.numel() == 0) throw Error("class-balanced sampling needs at least one example");
  // Rows grouped by class; class c occupies [start[c], start[c] + counts[c]).
  by_class_ = std::get<1>(torch::sort(y, /*stable=*/true, /*dim=*/0, /*descending=*/false));
  start_ = torch::cumsum(counts_, 0) - counts_;
}

torch::Tensor BalancedSampler::draw(int64_t n, torch::Generator& gen) const {
  auto pick = torch::randint(nonempty_.numel(), {n}, gen, torch::TensorOptions().dtype(torch::kLong));
  auto cls = nonempty_.index_select(0, pick);
  auto u = torch::rand({n}, gen, torch::TensorOptions().dtype(torch::kDouble));
  auto size = counts_.index_select(0, cls);  // of each drawn row's class
  auto offset = torch::minimum((u * size.to(torch::kDouble)).floor().to(torch::kLong), size - 1);
  return by_class_.index_select(0, start_.index_select(0, cls) + offset);
}

}  // namespace invkit::train
