// The paper's instrument: per-class eKLD, consistency and accuracy of a
// classifier under a nuisance transformation, from its logits.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "invkit/metrics/stats.h"  // spearman (measure-ekld's summary), defined there

namespace invkit::metrics {

// KL(softmax(p) || softmax(q)) in nats for each row, from log-softmax in
// float64. p and q are logits [..., C] of the same shape; returns [...].
torch::Tensor kl_from_logits(const torch::Tensor& p, const torch::Tensor& q);

struct ClassInvariance {
  int64_t id = 0;
  std::string name;
  int64_t n_train = 0;     // the class's training count
  int64_t images = 0;      // originals measured
  double ekld = 0;         // mean KL over images and draws
  double ekld_sem = 0;     // standard error of the per-image means
  double consistency = 0;  // share of draws whose argmax equals the original's
  double accuracy = 0;     // accuracy on the originals
};

// original: logits [M, C]; transformed: logits [M, S, C] (S draws of each
// original); labels: [M]. One row per class id in [0, num_classes); a class
// without images has images = 0 and NaN statistics.
std::vector<ClassInvariance> per_class_invariance(const torch::Tensor& original, const torch::Tensor& transformed,
                                                  const torch::Tensor& labels, int64_t num_classes);

}  // namespace invkit::metrics
