#include "invkit/models/generator_sampling.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "invkit/error.h"
#include "invkit/random.h"

namespace invkit::models {

namespace {

std::string shape_text(at::IntArrayRef s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

// Autocast to bfloat16 on one device type for the guard's lifetime; the
// previous state comes back after. LibTorch 2.4 replaced the per-backend calls
// with ones taking the device type.
class BFloat16Autocast {
 public:
  explicit BFloat16Autocast(c10::DeviceType type) : type_(type) {
    was_enabled_ = enabled();
    was_dtype_ = dtype();
    set(true, at::kBFloat16);
    at::autocast::increment_nesting();
  }
  ~BFloat16Autocast() {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    set(was_enabled_, was_dtype_);
  }
  BFloat16Autocast(const BFloat16Autocast&) = delete;
  BFloat16Autocast& operator=(const BFloat16Autocast&) = delete;

 private:
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  bool enabled() const { return at::autocast::is_autocast_enabled(type_); }
  at::ScalarType dtype() const { return at::autocast::get_autocast_dtype(type_); }
  void set(bool on, at::ScalarType t) const {
    at::autocast::set_autocast_dtype(type_, t);
    at::autocast::set_autocast_enabled(type_, on);
  }
#else
  bool cuda() const { return type_ == c10::DeviceType::CUDA; }
  bool enabled() const { return cuda() ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
  at::ScalarType dtype() const {
    return cuda() ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
  }
  void set(bool on, at::ScalarType t) const {
    if (cuda()) {
      at::autocast::set_autocast_gpu_dtype(t);
      at::autocast::set_enabled(on);
    } else {
      at::autocast::set_autocast_cpu_dtype(t);
      at::autocast::set_cpu_enabled(on);
    }
  }
#endif
  c10::DeviceType type_;
  bool was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kFloat;
};

}  // namespace

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::Float32;
  if (name == "bf16") return Precision::BFloat16;
  throw UsageError(param("gen_precision") + " " + name + ": expected fp32 or bf16");
}

const char* precision_name(Precision p) { return p == Precision::BFloat16 ? "bf16" : "fp32"; }

bool native_bf16(torch::Device device) {
  if (device.is_cuda()) return true;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      std::string w;
      while (words >> w)
        if (w == "avx512_bf16" || w == "amx_bf16") return true;
      return false;  // the first processor's flags are every one's
    }
  return false;
}

std::string precision_note(Precision p, torch::Device device) {
  if (p != Precision::BFloat16 || native_bf16(device)) return "";
  return "the generator in bfloat16 on a CPU without AVX512-BF16 or AMX: bfloat16 is emulated, much slower than "
         "fp32 (13x on an AVX2-only EPYC)";
}

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
  torch::Tensor y;
  if (g.precision == Precision::BFloat16) {
    BFloat16Autocast autocast(g.device.type());
    y = gen->decode(gen->encode_content(x), style).to(torch::kFloat32);
  } else {
    y = gen->decode(gen->encode_content(x), style);
  }
  return ((y + 1) * 127.5).round_().clamp_(0, 255).to(torch::kUInt8).to(images.device());
}

}  // namespace invkit::models
