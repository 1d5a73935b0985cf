#include "invkit/metrics/invariance.h"

#include <cmath>
#include <limits>

#include "invkit/error.h"

namespace invkit::metrics {

torch::Tensor kl_from_logits(const torch::Tensor& p, const torch::Tensor& q) {
  TORCH_CHECK(p.sizes() == q.sizes(), "kl_from_logits: shapes differ");
  auto lp = torch::log_softmax(p.to(torch::kDouble), -1);
  auto lq = torch::log_softmax(q.to(torch::kDouble), -1);
  // exp(lp) * (lp - lq); a zero-probability class contributes exactly 0.
  auto prob = lp.exp();
  auto terms = torch::where(prob > 0, prob * (lp - lq), torch::zeros_like(prob));
  return terms.sum(-1).clamp_min(0.0);  // >= 0 also under rounding
}

std::vector<ClassInvariance> per_class_invariance(const torch::Tensor& original, const torch::Tensor& transformed,
                                                  const torch::Tensor& labels, int64_t num_classes) {
  TORCH_CHECK(original.dim() == 2 && transformed.dim() == 3 && transformed.size(0) == original.size(0) &&
                  transformed.size(2) == original.size(1) && labels.size(0) == original.size(0),
              "per_class_invariance: expected original [M, C], transformed [M, S, C], labels [M]");
  auto orig = original.to(torch::kCPU);
  auto trans = transformed.to(torch::kCPU);
  auto kl = kl_from_logits(orig.unsqueeze(1).expand_as(trans), trans);  // [M, S]
  auto per_image_kl = kl.mean(1);                                        // [M]
  auto pred = orig.argmax(1);
  auto agree = (trans.argmax(2) == pred.unsqueeze(1)).to(torch::kDouble).mean(1);  // [M]
  auto correct = (pred == labels.to(torch::kCPU)).to(torch::kDouble);
  auto lab = labels.to(torch::kCPU);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<ClassInvariance> rows;
  for (int64_t c = 0; c < num_classes; ++c) {
    ClassInvariance r;
    r.id = c;
    auto mask = lab == c;
    r.images = mask.sum().item<int64_t>();
    if (r.images == 0) {
      r.ekld = r.ekld_sem = r.consistency = r.accuracy = nan;
    } else {
      auto k = per_image_kl.masked_select(mask);
      r.ekld = k.mean().item<double>();
      r.ekld_sem = r.images > 1 ? k.std().item<double>() / std::sqrt(static_cast<double>(r.images)) : 0.0;
      r.consistency = agree.masked_select(mask).mean().item<double>();
      r.accuracy = correct.masked_select(mask).mean().item<double>();
    }
    rows.push_back(r);
  }
  return rows;
}

}  // namespace invkit::metrics
