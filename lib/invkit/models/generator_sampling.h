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

// The arithmetic of a generator's forward pass. Float32 is exact and the
// default. BFloat16 runs it under autocast to bfloat16, as
// torch.autocast(device, dtype=torch.bfloat16) does in PyTorch: convolutions
// and linear layers in bfloat16, the normalisations in float32. On CPUs with
// AVX512-BF16 or AMX it samples about 2.5 times faster; without them it is
// emulated and slower. Outputs then differ from Float32 by about one grey
// level in 255 (docs/train-classifier.md has the measurement).
enum class Precision { Float32, BFloat16 };

// "fp32" or "bf16"; anything else throws UsageError naming param("gen_precision").
Precision parse_precision(const std::string& name);
const char* precision_name(Precision p);

// Whether `device` does bfloat16 arithmetic natively: a CUDA GPU, or a CPU
// whose flags (Linux's /proc/cpuinfo) include avx512_bf16 or amx_bf16.
bool native_bf16(torch::Device device);
// What a tool notes on stderr when `p` is BFloat16 on a device without
// native bfloat16 (sampling in bf16 measured 13x slower than in fp32 on an
// AVX2-only AMD EPYC: docs/train-classifier.md); "" otherwise.
std::string precision_note(Precision p, torch::Device device);

struct LoadedGenerator {
  AdaINGen gen{nullptr};                   // on `device`, eval mode, no gradients
  MunitOptions options;                    // architecture and input size
  nlohmann::json manifest;                 // the checkpoint's manifest
  torch::Device device = torch::kCPU;
  std::string source;                      // the file it came from
  // Style codes are drawn from N(0, t^2 I): t < 1 trades diversity for
  // fidelity (t = 0: one output per content), t = 1 is the training prior.
  double style_temperature = 1.0;
  Precision precision = Precision::Float32;
};

// T(x) for a batch: images uint8 [N, C, H, W] (or float in [-1, 1]) of the
// generator's input size, on any device; returns uint8 [N, C, H, W] on the
// images' device: dec(content(x), s) with s ~ N(0, t^2 I), t the
// generator's style_temperature, computed in the generator's precision. Row i's style code
// depends only on (seed, keys[i]) (keys: int64 [N] on the CPU; undefined =
// 0..N-1), so results do not depend on batching. Runs without gradients.
torch::Tensor generate(const LoadedGenerator& g, const torch::Tensor& images, uint64_t seed,
                       const torch::Tensor& keys = {});

// The style codes generate() uses: float [N, style_dim] on the CPU, row i
// drawn from N(0, temperature^2 I) by a generator seeded with key_seed(seed,
// keys[i]) (random.h). A temperature of 1 leaves the draws as they are.
torch::Tensor style_codes(int64_t style_dim, uint64_t seed, const torch::Tensor& keys, double temperature = 1.0);

}  // namespace invkit::models
