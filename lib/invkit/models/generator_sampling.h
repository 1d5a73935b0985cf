// Using a trained generator (loaded by checkpoint/generator.h): draw T(x),
// the image x with a random nuisance (a fresh style code), for a batch at once.
// This is what augment --generator, train-classifier --generator (GIT) and
// measure-ekld --generator call.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

#include "invkit/models/munit.h"

namespace invkit::models {

struct LoadedGenerator {
  AdaINGen gen{nullptr};                   // on `device`, eval mode, no gradients
  MunitOptions options;                    // architecture and input size
  nlohmann::json manifest;                 // the checkpoint's manifest
  torch::Device device = torch::kCPU;
  std::string source;                      // the file it came from
};

// T(x) for a batch: images uint8 [N, C, H, W] (or float in [-1, 1]) of the
// generator's input size, on any device; returns uint8 [N, C, H, W] on the
// images' device: dec(content(x), s) with s ~ N(0, I). Row i's style code
// depends only on (seed, keys[i]) (keys: int64 [N] on the CPU; undefined =
// 0..N-1), so results do not depend on batching. Runs without gradients.
torch::Tensor generate(const LoadedGenerator& g, const torch::Tensor& images, uint64_t seed,
                       const torch::Tensor& keys = {});

// The style codes generate() uses: float [N, style_dim] on the CPU.
torch::Tensor style_codes(int64_t style_dim, uint64_t seed, const torch::Tensor& keys);

}  // namespace invkit::models
