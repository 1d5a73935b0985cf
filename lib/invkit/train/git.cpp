#include "invkit/train/git.h"

#include <algorithm>
#include <cmath>

#include "invkit/error.h"

namespace invkit::train {

std::vector<double> keep_probabilities(const std::vector<int64_t>& counts, int64_t threshold) {
  std::vector<double> keep(counts.size(), 1.0);
  if (threshold <= 0 || counts.empty()) return keep;
  // Empty classes never appear in a batch; n_min is over the classes that do.
  int64_t n_min = -1;
  for (int64_t n : counts)
    if (n > 0 && (n_min < 0 || n < n_min)) n_min = n;
  if (n_min < 0) return keep;
  if (threshold <= n_min)
    throw UsageError(param("gen_threshold") + " " + std::to_string(threshold) +
                     " must exceed the smallest class size (" +
                     std::to_string(n_min) + "), or no generated example would be kept");
  for (size_t c = 0; c < counts.size(); ++c)
    keep[c] = std::max(static_cast<double>(threshold - counts[c]) / static_cast<double>(threshold - n_min), 0.0);
  return keep;
}

int64_t generated_rows(int64_t batch, double frac) {
  return std::clamp<int64_t>(static_cast<int64_t>(std::floor(frac * static_cast<double>(batch))), 0, batch);
}

torch::Tensor git_mask(double frac, const torch::Tensor& uniforms, const torch::Tensor& keep,
                       const torch::Tensor& twin_labels) {
  const int64_t b = uniforms.size(0);
  if (twin_labels.size(0) != b) throw Error("GIT: the twin batch has " + std::to_string(twin_labels.size(0)) +
                                            " labels for " + std::to_string(b) + " rows");
  const int64_t m = generated_rows(b, frac);
  auto rows = torch::arange(b, torch::TensorOptions().dtype(torch::kLong).device(uniforms.device()));
  auto kept = uniforms < keep.index_select(0, twin_labels).to(uniforms.scalar_type());
  return torch::logical_and(rows >= b - m, kept);
}

GitBatch mix_git_batch(const torch::Tensor& images, const torch::Tensor& labels, const torch::Tensor& twin_images,
                       const torch::Tensor& twin_labels, const torch::Tensor& mask, const GenerateRows& generate) {
  const int64_t b = images.size(0);
  if (twin_images.size(0) != b || twin_labels.size(0) != b || labels.size(0) != b || mask.size(0) != b)
    throw Error("GIT: the real and the twin batch differ in size");
  GitBatch out;
  out.generated = mask;
  auto rows = mask.nonzero().view({-1});
  if (rows.numel() == 0) {
    out.images = images;
    out.labels = labels;
    return out;
  }
  auto made = generate(twin_images.index_select(0, rows), rows);
  out.images = images.index_copy(0, rows, made.to(images.device(), images.scalar_type()));
  out.labels = labels.index_copy(0, rows, twin_labels.index_select(0, rows));
  return out;
}

}  // namespace invkit::train
