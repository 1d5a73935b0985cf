// Nuisance transformations T(.|x) on batches of uint8 images, parsed from a
// spec such as "rotate(-180,180)" or "0.6:dilate(2,4)|0.4:erode(1,2)"
// (the grammar is in docs/augment.md). Used by augment, train-classifier
// --augment and measure-ekld.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace invkit::transforms {

class Transform {
 public:
  virtual ~Transform() = default;

  // Transforms uint8 images [N, C, H, W] on their own device (CPU or CUDA)
  // and returns uint8 images of the same shape. Row i's random draws depend
  // only on (seed, keys[i]) — keys is int64 [N] on the CPU — so the result
  // does not depend on batching, sharding or thread count. If `params` is not
  // null it receives the drawn parameters, float32 [N, param_names().size()].
  virtual torch::Tensor apply(const torch::Tensor& images, uint64_t seed, const torch::Tensor& keys,
                              torch::Tensor* params = nullptr) const = 0;

  // Names of the columns of `params`.
  virtual std::vector<std::string> param_names() const = 0;

  // The canonical spec string (presets expanded).
  virtual std::string spec() const = 0;
};

// Parses a spec; a bad spec is a UsageError that points at the offending part.
std::unique_ptr<Transform> parse_transform(const std::string& spec);

}  // namespace invkit::transforms
