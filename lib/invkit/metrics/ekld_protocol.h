// The eKLD protocol: up to `per_class` held-out images of each class, each
// paired with `samples` transformed copies of that same image, run through
// one or more classifiers; then per-class rows and a summary.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "invkit/metrics/invariance.h"

namespace invkit::metrics {

// The held-out images measure-ekld measures: up to `per_class` rows of each
// class (all of a smaller class), the first of a torch.randperm of the class's
// rows on cpu_generator(seed), returned in ascending row order. (resample's
// per-class selections are data/sampling.h's select_per_class, which draws
// with Rng and errs on a short class; this keeps measure-ekld's draws as they
// have been, so earlier measurements repeat.)
torch::Tensor ekld_rows(const torch::Tensor& labels, int64_t num_classes, int64_t per_class, uint64_t seed);

// Transforms uint8 images [B, C, H, W]; row i's draw depends only on keys[i].
using TransformFn = std::function<torch::Tensor(const torch::Tensor& images, const torch::Tensor& keys)>;
// Logits [B, K] (float, CPU) of uint8 images [B, C, H, W].
using LogitsFn = std::function<torch::Tensor(const torch::Tensor& images)>;

struct ProtocolLogits {
  std::vector<torch::Tensor> original;     // per model: [M, K]
  std::vector<torch::Tensor> transformed;  // per model: [M, S, K]
};

// Runs the originals and their transformed copies through every model. The
// draws are made once and shared by all models (same x' for each), `batch`
// transformed images at a time; key of draw s of original m is m * S + s.
// `progress(done, total)` counts images through models.
ProtocolLogits collect_logits(const torch::Tensor& images, int64_t samples, int64_t batch, const TransformFn& transform,
                              const std::vector<LogitsFn>& models,
                              const std::function<void(int64_t, int64_t)>& progress = {});

// Group means of eKLD by training class size: many (> many), few (< few),
// medium otherwise; null for an empty group.
struct Summary {
  double mean_ekld = 0;  // over classes with images
  double spearman = 0;   // between n_train and eKLD, classes with images
  nlohmann::json groups;  // {"many": x|null, "medium": ..., "few": ...}
};
Summary summarize(const std::vector<ClassInvariance>& rows, int64_t many, int64_t few);

// A row as JSON: id, name, n_train, ekld, ekld_sem, consistency, accuracy, images.
nlohmann::json to_json(const ClassInvariance& row);

}  // namespace invkit::metrics
