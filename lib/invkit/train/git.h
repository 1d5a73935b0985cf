// Generative Invariance Transfer (GIT) batches: part of each training batch
// is replaced by generated T(x) of a twin batch drawn from the same sampler,
// so that the small classes see the nuisance variation learned on the large
// ones. The generator only runs forward; no gradient reaches it.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "invkit/models/generator_sampling.h"

namespace invkit::train {

struct GitOptions {
  std::string generator;   // generator checkpoint; empty = no GIT
  double frac = 0.5;       // fraction of each batch taken from the generated twin
  int64_t threshold = 0;   // > 0: keep a generated example of class y with probability keep_probabilities()[y]
  bool delayed = false;    // GIT only from epoch step1 on (with DRS/DRW's switch)
  double style_temperature = 1.0;  // style codes from N(0, t^2 I) (models::LoadedGenerator)
  models::Precision precision = models::Precision::Float32;  // the generator's arithmetic

  bool enabled() const { return !generator.empty(); }
};

// Per class: max((K - n_y) / (K - n_min), 0) with K = threshold and n_min the
// smallest class count, or 1 for every class when threshold is 0 (no
// threshold). A threshold must exceed n_min (else it keeps nothing); throws
// UsageError otherwise.
std::vector<double> keep_probabilities(const std::vector<int64_t>& counts, int64_t threshold);

// How many rows of a batch of `batch` come from the generated twin: the last
// floor(frac * batch) rows (the paper's split).
int64_t generated_rows(int64_t batch, double frac);

// Which rows of a batch of B take a generated twin: among the last
// generated_rows(B, frac), those with uniforms[row] < keep[twin_labels[row]].
// uniforms: float [B] in [0, 1); keep: float [num_classes]; twin_labels:
// int64 [B]; all on one device. Returns bool [B].
torch::Tensor git_mask(double frac, const torch::Tensor& uniforms, const torch::Tensor& keep,
                       const torch::Tensor& twin_labels);

struct GitBatch {
  torch::Tensor images;     // uint8 [B, C, H, W]
  torch::Tensor labels;     // int64 [B]
  torch::Tensor generated;  // bool [B]: the row holds a generated image
};

// T(x) for some rows of the twin batch: (images [M, C, H, W], their row
// numbers in the batch, int64 [M]) -> uint8 [M, C, H, W].
using GenerateRows = std::function<torch::Tensor(const torch::Tensor& images, const torch::Tensor& rows)>;

// The batch the classifier sees: the real (images, labels), except the rows
// of `mask`, which take the twin's label and T(twin image). Only those rows
// go through the generator.
GitBatch mix_git_batch(const torch::Tensor& images, const torch::Tensor& labels, const torch::Tensor& twin_images,
                       const torch::Tensor& twin_labels, const torch::Tensor& mask, const GenerateRows& generate);

}  // namespace invkit::train
