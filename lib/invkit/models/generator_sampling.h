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
  // Style codes are drawn from N(0, t^2 I): t < 1 trades diversity for
  // fidelity (t = 0: one output per content), t = 1 is the training prior.
  double style_temperature = 1.0;
};

// T(x) for a batch: images uint8 [N, C, H, W] (or float in [-1, 1]) of the
// generator's input size, on any device; returns uint8 [N, C, H, W] on the
// images' device: dec(content(x), s) with s ~ N(0, t^2 I), t the
// generator's style_temperature. Row i's style code
// depends only on (seed, keys[i]) (keys: int64 [N] on the CPU; undefined =
// 0..N-1), so results do not depend on batching. Runs without gradients.
torch::Tensor generate(const LoadedGenerator& g, const torch::Tensor& images, uint64_t seed,
                       const torch::Tensor& keys = {});

// The style codes generate() uses: float [N, style_dim] on the CPU, row i
// drawn from N(0, temperature^2 I) by a generator seeded with key_seed(seed,
// keys[i]) (random.h). A temperature of 1 leaves the draws as they are.
torch::Tensor style_codes(int64_t style_dim, uint64_t seed, const torch::Tensor& keys, double temperature = 1.0);

}  // namespace invkit::models
