#include "invkit/transforms/pixel.h"

#include <algorithm>
#include <cmath>

#include "invkit/error.h"
#include "invkit/transforms/smooth.h"

namespace invkit::transforms {

double draw_pixel(const std::string& name, const std::vector<double>& args, Draws& r, float* params) {
  double v = 0;
  if (name == "background") {
    v = static_cast<double>(r.integer(static_cast<int64_t>(args[0]), static_cast<int64_t>(args[1]) - 1));
  } else if (name == "brightness" || name == "contrast" || name == "gamma" || name == "blur") {
    v = r.uniform(args[0], args[1]);
  } else if (name == "invert") {
    v = r.bernoulli(args[0]) ? 1 : 0;
  } else if (name == "noise") {
    return args[0];
  } else {
    throw Error("transform: " + name + " is not a pixel operation");
  }
  if (params) params[0] = static_cast<float>(v);
  return v;
}

namespace {

inline uint8_t to_u8(double v) {
  v = v < 0 ? 0 : (v > 255 ? 255 : v);
  return static_cast<uint8_t>(v + 0.5);
}

void apply_lut(const uint8_t* lut, uint8_t* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) p[i] = lut[p[i]];
}

// Gaussian blur of one channel, edges replicated; `scratch` holds pixel_scratch(H, W) floats.
void blur_channel(uint8_t* p, int64_t H, int64_t W, double sigma, float* scratch) {
  float* plane = scratch;
  for (int64_t i = 0; i < H * W; ++i) plane[i] = p[i];
  gaussian_smooth(plane, H, W, sigma, static_cast<int64_t>(std::ceil(3 * sigma)), scratch + H * W);
  for (int64_t i = 0; i < H * W; ++i) p[i] = to_u8(plane[i]);
}

}  // namespace

void pixel_image(const std::string& name, double value, const Draws& draws, uint8_t* img, int64_t C, int64_t H,
                 int64_t W, float* scratch) {
  const int64_t plane = H * W, n = C * plane;
  if (name == "background") {
    const auto level = static_cast<uint8_t>(value);
    if (C == 1) {
      for (int64_t i = 0; i < n; ++i) img[i] = img[i] ? img[i] : level;
      return;
    }
    for (int64_t i = 0; i < plane; ++i) {  // a pixel is 0 when all its channels are
      bool zero = true;
      for (int64_t c = 0; c < C; ++c) zero = zero && img[c * plane + i] == 0;
      if (zero)
        for (int64_t c = 0; c < C; ++c) img[c * plane + i] = level;
    }
    return;
  }
  if (name == "noise") {
    for (int64_t i = 0; i < n; ++i) img[i] = to_u8(img[i] + value * draws.normal_at(static_cast<uint64_t>(i)));
    return;
  }
  if (name == "blur") {
    if (value <= 0) return;
    for (int64_t c = 0; c < C; ++c) blur_channel(img + c * plane, H, W, value, scratch);
    return;
  }
  uint8_t lut[256];
  if (name == "brightness") {
    for (int v = 0; v < 256; ++v) lut[v] = to_u8(v * value);
  } else if (name == "contrast") {
    double mean = 0;
    for (int64_t i = 0; i < n; ++i) mean += img[i];
    mean /= static_cast<double>(n);
    for (int v = 0; v < 256; ++v) lut[v] = to_u8(mean + value * (v - mean));
  } else if (name == "gamma") {
    for (int v = 0; v < 256; ++v) lut[v] = to_u8(255.0 * std::pow(v / 255.0, value));
  } else if (name == "invert") {
    if (value == 0) return;
    for (int v = 0; v < 256; ++v) lut[v] = static_cast<uint8_t>(255 - v);
  } else {
    throw Error("transform: " + name + " is not a pixel operation");
  }
  apply_lut(lut, img, n);
}

torch::Tensor pixel_tensor(const std::string& name, const torch::Tensor& images, const torch::Tensor& values) {
  const int64_t N = images.size(0);
  auto v = values.to(images.device()).to(torch::kDouble).view({N, 1, 1, 1});
  auto x = images.to(torch::kDouble);
  auto round_u8 = [](const torch::Tensor& t) { return t.clamp(0, 255).add(0.5).floor().to(torch::kByte); };
  if (name == "background") {
    auto zero = (images == 0).all(1, /*keepdim=*/true);
    return torch::where(zero, v.to(torch::kByte).expand_as(images), images);
  }
  if (name == "brightness") return round_u8(x * v);
  if (name == "contrast") {
    auto mean = x.mean({1, 2, 3}, /*keepdim=*/true);
    return round_u8(mean + v * (x - mean));
  }
  if (name == "gamma") return round_u8(255.0 * (x / 255.0).pow(v));
  if (name == "invert") return torch::where(v.expand_as(images) != 0, 255 - images, images);
  return {};
}

}  // namespace invkit::transforms
