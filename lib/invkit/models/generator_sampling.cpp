#include "invkit/models/generator_sampling.h"

#include <cmath>

#include "invkit/error.h"
#include "invkit/random.h"

namespace invkit::models {

namespace {

std::string shape_text(at::IntArrayRef s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

}  // namespace

torch::Tensor style_codes(int64_t style_dim, uint64_t seed, const torch::Tensor& keys, double temperature) {
  if (!(temperature >= 0) || !std::isfinite(temperature))
    throw UsageError(param("style_temperature") + " " + std::to_string(temperature) + ": expected a number >= 0");
  auto k = keys.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t n = k.numel();
  auto out = torch::empty({n, style_dim});
  const auto* kp = k.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    auto gen = cpu_generator(key_seed(seed, kp[i]));
    out[i].copy_(torch::randn({style_dim}, gen, torch::kFloat32));
  }
  return temperature == 1.0 ? out : out.mul_(temperature);
}

torch::Tensor generate(const LoadedGenerator& g, const torch::Tensor& images, uint64_t seed, const torch::Tensor& keys) {
  const auto& o = g.options;
  if (images.dim() != 4 || images.size(1) != o.channels || images.size(2) != o.height || images.size(3) != o.width)
    throw Error(g.source + ": the generator takes images [N, " + std::to_string(o.channels) + ", " +
                std::to_string(o.height) + ", " + std::to_string(o.width) + "], got " + shape_text(images.sizes()));
  const int64_t n = images.size(0);
  torch::Tensor k = keys.defined() ? keys : torch::arange(n, torch::kInt64);
  if (k.numel() != n) throw Error("generate: " + std::to_string(k.numel()) + " keys for " + std::to_string(n) + " images");
  torch::NoGradGuard no_grad;
  torch::Tensor x = images.to(g.device);
  x = x.scalar_type() == torch::kUInt8 ? x.to(torch::kFloat32).div_(127.5).sub_(1) : x.to(torch::kFloat32);
  auto style = style_codes(o.style_dim, seed, k, g.style_temperature).to(g.device).view({n, o.style_dim, 1, 1});
  AdaINGen gen = g.gen;  // a handle to the same module (the holder is const here)
  auto y = gen->decode(gen->encode_content(x), style);
  return ((y + 1) * 127.5).round_().clamp_(0, 255).to(torch::kUInt8).to(images.device());
}

}  // namespace invkit::models
