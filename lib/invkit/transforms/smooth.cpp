#include "invkit/transforms/smooth.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace invkit::transforms {

void gaussian_smooth(float* f, int64_t H, int64_t W, double sigma, int64_t r, float* tmp) {
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

}  // namespace invkit::transforms
