#include "invkit/transforms/elastic.h"

#include <algorithm>
#include <cmath>

#include "invkit/transforms/geometric.h"
#include "invkit/transforms/smooth.h"

namespace invkit::transforms {

void elastic_image(const uint8_t* src, uint8_t* dst, int64_t C, int64_t H, int64_t W, double alpha, double sigma,
                   const Draws& draws, std::vector<float>& scratch) {
  const int64_t n = H * W;
  scratch.resize(static_cast<size_t>(3 * n + warp_scratch(H, W)));
  float* xs = scratch.data();
  float* ys = xs + n;
  float* tmp = ys + n;
  float* pad = tmp + n;
  for (int64_t i = 0; i < n; ++i) {
    xs[i] = static_cast<float>(2 * draws.uniform_at(static_cast<uint64_t>(i)) - 1);
    ys[i] = static_cast<float>(2 * draws.uniform_at(static_cast<uint64_t>(n + i)) - 1);
  }
  const int64_t radius = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(3 * sigma)));
  gaussian_smooth(xs, H, W, sigma, radius, tmp);
  gaussian_smooth(ys, H, W, sigma, radius, tmp);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      xs[y * W + x] = static_cast<float>(x + 0.5 + alpha * xs[y * W + x]);
      ys[y * W + x] = static_cast<float>(y + 0.5 + alpha * ys[y * W + x]);
    }
  sample_image(src, dst, C, H, W, xs, ys, Interp::Bicubic, pad);
}

}  // namespace invkit::transforms
