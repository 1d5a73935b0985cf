#include "invkit/transforms/pixel.h"

#include <cmath>

#include "invkit/transforms/smooth.h"

namespace invkit::transforms {

namespace {

inline uint8_t to_u8(double v) {
  v = v < 0 ? 0 : (v > 255 ? 255 : v);
  return static_cast<uint8_t>(v + 0.5);
}

void apply_lut(const uint8_t* lut, uint8_t* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) p[i] = lut[p[i]];
}

// Gaussian blur of one channel, edges replicated; `scratch` holds blur_scratch(H, W) floats.
void blur_channel(uint8_t* p, int64_t H, int64_t W, double sigma, float* scratch) {
  float* plane = scratch;
  for (int64_t i = 0; i < H * W; ++i) plane[i] = p[i];
  gaussian_smooth(plane, H, W, sigma, static_cast<int64_t>(std::ceil(3 * sigma)), scratch + H * W);
  for (int64_t i = 0; i < H * W; ++i) p[i] = to_u8(plane[i]);
}

// A batch's values as float64 [N, 1, 1, 1] on the images' device.
torch::Tensor per_image(const torch::Tensor& images, const torch::Tensor& values) {
  return values.to(images.device()).to(torch::kDouble).view({images.size(0), 1, 1, 1});
}

torch::Tensor round_u8(const torch::Tensor& t) { return t.clamp(0, 255).add(0.5).floor().to(torch::kByte); }

}  // namespace

void background_image(uint8_t level, uint8_t* img, int64_t C, int64_t H, int64_t W) {
  const int64_t plane = H * W, n = C * plane;
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
}

torch::Tensor background_tensor(const torch::Tensor& images, const torch::Tensor& levels) {
  auto zero = (images == 0).all(1, /*keepdim=*/true);
  return torch::where(zero, per_image(images, levels).to(torch::kByte).expand_as(images), images);
}

void brightness_image(double factor, uint8_t* img, int64_t n) {
  uint8_t lut[256];
  for (int v = 0; v < 256; ++v) lut[v] = to_u8(v * factor);
  apply_lut(lut, img, n);
}

torch::Tensor brightness_tensor(const torch::Tensor& images, const torch::Tensor& factors) {
  return round_u8(images.to(torch::kDouble) * per_image(images, factors));
}

void contrast_image(double factor, uint8_t* img, int64_t n) {
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += img[i];
  mean /= static_cast<double>(n);
  uint8_t lut[256];
  for (int v = 0; v < 256; ++v) lut[v] = to_u8(mean + factor * (v - mean));
  apply_lut(lut, img, n);
}

torch::Tensor contrast_tensor(const torch::Tensor& images, const torch::Tensor& factors) {
  auto x = images.to(torch::kDouble);
  auto mean = x.mean({1, 2, 3}, /*keepdim=*/true);
  return round_u8(mean + per_image(images, factors) * (x - mean));
}

void gamma_image(double gamma, uint8_t* img, int64_t n) {
  uint8_t lut[256];
  for (int v = 0; v < 256; ++v) lut[v] = to_u8(255.0 * std::pow(v / 255.0, gamma));
  apply_lut(lut, img, n);
}

torch::Tensor gamma_tensor(const torch::Tensor& images, const torch::Tensor& gammas) {
  return round_u8(255.0 * (images.to(torch::kDouble) / 255.0).pow(per_image(images, gammas)));
}

void invert_image(uint8_t* img, int64_t n) {
  uint8_t lut[256];
  for (int v = 0; v < 256; ++v) lut[v] = static_cast<uint8_t>(255 - v);
  apply_lut(lut, img, n);
}

torch::Tensor invert_tensor(const torch::Tensor& images, const torch::Tensor& flags) {
  return torch::where(per_image(images, flags).expand_as(images) != 0, 255 - images, images);
}

void noise_image(double sigma, const Draws& draws, uint8_t* img, int64_t n) {
  for (int64_t i = 0; i < n; ++i) img[i] = to_u8(img[i] + sigma * draws.normal_at(static_cast<uint64_t>(i)));
}

void blur_image(double sigma, uint8_t* img, int64_t C, int64_t H, int64_t W, float* scratch) {
  if (sigma <= 0) return;
  for (int64_t c = 0; c < C; ++c) blur_channel(img + c * H * W, H, W, sigma, scratch);
}

}  // namespace invkit::transforms
