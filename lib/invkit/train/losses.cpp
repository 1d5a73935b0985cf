#include "invkit/train/losses.h"

#include <cmath>

#include "invkit/error.h"

namespace invkit::train {

namespace F = torch::nn::functional;

static torch::Tensor per_example_ce(const torch::Tensor& logits, const torch::Tensor& labels,
                                    const torch::Tensor& weight) {
  auto opts = F::CrossEntropyFuncOptions().reduction(torch::kNone);
  if (weight.defined()) opts.weight(weight.to(logits.device(), logits.scalar_type()));
  return F::cross_entropy(logits, labels, opts);
}

torch::Tensor CrossEntropyLoss::operator()(const torch::Tensor& logits, const torch::Tensor& labels,
                                           const torch::Tensor& weight) const {
  auto opts = F::CrossEntropyFuncOptions();
  if (weight.defined()) opts.weight(weight.to(logits.device(), logits.scalar_type()));
  return F::cross_entropy(logits, labels, opts);
}

double Loss::normalizer(const torch::Tensor& labels, const torch::Tensor& weight) const {
  return static_cast<double>(labels.size(0));
}

// Sum of the rows' class weights, as cross_entropy's weighted mean divides by.
static double weight_sum(const torch::Tensor& labels, const torch::Tensor& weight) {
  if (!weight.defined()) return static_cast<double>(labels.size(0));
  return weight.to(labels.device(), torch::kFloat).index_select(0, labels).sum().item<double>();
}

double CrossEntropyLoss::normalizer(const torch::Tensor& labels, const torch::Tensor& weight) const {
  return weight_sum(labels, weight);
}

double LdamLoss::normalizer(const torch::Tensor& labels, const torch::Tensor& weight) const {
  return weight_sum(labels, weight);
}

std::vector<double> ldam_margins(const std::vector<int64_t>& class_counts, double max_margin) {
  std::vector<double> m;
  double largest = 0;
  for (int64_t n : class_counts) {
    m.push_back(n > 0 ? std::pow(static_cast<double>(n), -0.25) : 0.0);
    largest = std::max(largest, m.back());
  }
  for (auto& v : m) v = v > 0 ? v * max_margin / largest : max_margin;
  return m;
}

LdamLoss::LdamLoss(const std::vector<int64_t>& class_counts, double max_margin, double scale) : scale_(scale) {
  margins_ = torch::tensor(ldam_margins(class_counts, max_margin), torch::kDouble).to(torch::kFloat);
}

torch::Tensor LdamLoss::operator()(const torch::Tensor& logits, const torch::Tensor& labels,
                                   const torch::Tensor& weight) const {
  auto m = margins_.to(logits.device()).index_select(0, labels).unsqueeze(1);
  auto onehot = F::one_hot(labels, logits.size(1)).to(logits.scalar_type());
  auto shifted = logits - onehot * m;
  CrossEntropyLoss ce;
  return ce(shifted * scale_, labels, weight);
}

torch::Tensor FocalLoss::operator()(const torch::Tensor& logits, const torch::Tensor& labels,
                                    const torch::Tensor& weight) const {
  auto l = per_example_ce(logits, labels, weight);
  auto p = torch::exp(-l);
  return (torch::pow(1 - p, gamma_) * l).mean();
}

std::unique_ptr<Loss> make_loss(const std::string& name, const std::vector<int64_t>& class_counts) {
  if (name == "ce") return std::make_unique<CrossEntropyLoss>();
  if (name == "ldam") return std::make_unique<LdamLoss>(class_counts);
  if (name == "focal") return std::make_unique<FocalLoss>();
  throw UsageError(param("loss") + " " + name + ": expected ce, ldam or focal");
}

}  // namespace invkit::train
