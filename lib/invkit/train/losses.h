// The classification losses the paper compares, as in the LDAM-DRW code:
// cross-entropy, LDAM (label-distribution-aware margins) and focal loss,
// each with optional per-class weights (reweighting, DRW).
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "invkit/models/classifier.h"

namespace invkit::train {

class Loss {
 public:
  virtual ~Loss() = default;
  // Mean loss of logits [N, K] against labels [N]; `weight` [K] or undefined.
  virtual torch::Tensor operator()(const torch::Tensor& logits, const torch::Tensor& labels,
                                   const torch::Tensor& weight) const = 0;
  // The denominator of that mean: the loss is (sum of per-row terms) /
  // normalizer. N here; the sum of the rows' class weights where operator()
  // weighs them. Data-parallel training weighs each rank's mean by it
  // (dist::reduce_gradients), so the ranks together give the global batch's.
  virtual double normalizer(const torch::Tensor& labels, const torch::Tensor& weight) const;
};

// Weighted CE: sum_i w_{y_i} * nll_i / sum_i w_{y_i} (PyTorch's definition).
class CrossEntropyLoss : public Loss {
 public:
  torch::Tensor operator()(const torch::Tensor& logits, const torch::Tensor& labels,
                           const torch::Tensor& weight) const override;
  double normalizer(const torch::Tensor& labels, const torch::Tensor& weight) const override;  // sum_i w_{y_i}
};

// LDAM: subtract margin m_y from the true-class logit, scale by s, then CE.
// m_j is proportional to n_j^(-1/4), the largest equal to max_margin.
class LdamLoss : public Loss {
 public:
  LdamLoss(const std::vector<int64_t>& class_counts, double max_margin = 0.5, double scale = models::kLdamScale);
  torch::Tensor operator()(const torch::Tensor& logits, const torch::Tensor& labels,
                           const torch::Tensor& weight) const override;
  double normalizer(const torch::Tensor& labels, const torch::Tensor& weight) const override;  // as CE's
  const torch::Tensor& margins() const { return margins_; }

 private:
  torch::Tensor margins_;  // float [K], CPU
  double scale_;
};

// Focal loss as LDAM-DRW computes it: per example l = (weighted) CE,
// loss = mean((1 - exp(-l))^gamma * l) (so its normalizer is N, weighted or not).
class FocalLoss : public Loss {
 public:
  explicit FocalLoss(double gamma = 1.0) : gamma_(gamma) {}
  torch::Tensor operator()(const torch::Tensor& logits, const torch::Tensor& labels,
                           const torch::Tensor& weight) const override;

 private:
  double gamma_;
};

// "ce", "ldam" or "focal"; anything else is a UsageError.
std::unique_ptr<Loss> make_loss(const std::string& name, const std::vector<int64_t>& class_counts);

// LDAM margins for class counts: c * n_j^(-1/4) with max = max_margin
// (an empty class gets the largest margin).
std::vector<double> ldam_margins(const std::vector<int64_t>& class_counts, double max_margin);

}  // namespace invkit::train
