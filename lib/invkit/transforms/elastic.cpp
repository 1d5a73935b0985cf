#include "invkit/transforms/elastic.h"

#include <algorithm>
#include <cmath>

#include "invkit/transforms/geometric.h"

namespace invkit::transforms {

namespace {

// Separable Gaussian smoothing of a float field in place, edges replicated.
void smooth(float* f, int64_t H, int64_t W, double sigma, float* tmp) {
  const int64_t r = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(3 * sigma)));
  std::vector<float> k(2 * r + 1);
  float sum = 0;
  for (int64_t i = -r; i <= r; ++i) sum += k[i + r] = static_cast<float>(std::exp(-0.5 * i * i / (sigma * sigma)));
  for (auto& w : k) w /= sum;
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      float acc = 0;
      for (int64_t i = -r; i <= r; ++i) acc += k[i + r] * f[y * W + std::clamp<int64_t>(x + i, 0, W - 1)];
      tmp[y * W + x] = acc;
    }
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      float acc = 0;
      for (int64_t i = -r; i <= r; ++i) acc += k[i + r] * tmp[std::clamp<int64_t>(y + i, 0, H - 1) * W + x];
      f[y * W + x] = acc;
    }
}

}  // namespace

void elastic_image(const uint8_t* src, uint8_t* dst, int64_t C, int64_t H, int64_t W, double alpha, double sigma,
                   const Draws& draws, std::vector<float>& scratch) {
  const int64_t n = H * W;
  scratch.resize(static_cast<size_t>(3 * n + (H + 4) * (W + 4)));
  float* xs = scratch.data();
  float* ys = xs + n;
  float* tmp = ys + n;
  float* pad = tmp + n;
  for (int64_t i = 0; i < n; ++i) {
    xs[i] = static_cast<float>(2 * draws.uniform_at(static_cast<uint64_t>(i)) - 1);
    ys[i] = static_cast<float>(2 * draws.uniform_at(static_cast<uint64_t>(n + i)) - 1);
  }
  smooth(xs, H, W, sigma, tmp);
  smooth(ys, H, W, sigma, tmp);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      xs[y * W + x] = static_cast<float>(x + 0.5 + alpha * xs[y * W + x]);
      ys[y * W + x] = static_cast<float>(y + 0.5 + alpha * ys[y * W + x]);
    }
  sample_image(src, dst, C, H, W, xs, ys, Interp::Bicubic, pad);
}

}  // namespace invkit::transforms
