#include "invkit/transforms/morphology.h"

#include <algorithm>
#include <cstring>

namespace invkit::transforms {

int64_t draw_kernel_size(const std::vector<double>& args, Draws& r, float* params) {
  int64_t k = r.integer(static_cast<int64_t>(args[0]), static_cast<int64_t>(args[1]));
  if (params) params[0] = static_cast<float>(k);
  return k;
}

namespace {

// out[x] = op over o in [0, k) of in[x + o], for x in [0, n).
template <bool Max>
inline void window(const uint8_t* in, uint8_t* out, int64_t n, int64_t k) {
  std::memcpy(out, in, static_cast<size_t>(n));
  for (int64_t o = 1; o < k; ++o) {
    const uint8_t* s = in + o;
    for (int64_t x = 0; x < n; ++x) out[x] = Max ? std::max(out[x], s[x]) : std::min(out[x], s[x]);
  }
}

template <bool Max>
void morph_channel(uint8_t* p, int64_t H, int64_t W, int64_t k, uint8_t* scratch) {
  const int64_t a = k / 2;
  const uint8_t pad = Max ? 0 : 255;  // neutral: the border never wins
  uint8_t* tmp = scratch;             // H rows of W, after the horizontal pass
  uint8_t* line = scratch + H * W;    // one padded row: W + k - 1
  // Horizontal pass.
  std::memset(line, pad, static_cast<size_t>(W + k));
  for (int64_t y = 0; y < H; ++y) {
    std::memcpy(line + a, p + y * W, static_cast<size_t>(W));
    window<Max>(line, tmp + y * W, W, k);
  }
  // Vertical pass: the rows y - a .. y + k - 1 - a that exist.
  for (int64_t y = 0; y < H; ++y) {
    uint8_t* out = p + y * W;
    int64_t lo = std::max<int64_t>(0, y - a), hi = std::min<int64_t>(H - 1, y + k - 1 - a);
    std::memcpy(out, tmp + lo * W, static_cast<size_t>(W));
    for (int64_t j = lo + 1; j <= hi; ++j) {
      const uint8_t* s = tmp + j * W;
      for (int64_t x = 0; x < W; ++x) out[x] = Max ? std::max(out[x], s[x]) : std::min(out[x], s[x]);
    }
  }
}

}  // namespace

void morph_image(bool dilate, int64_t k, uint8_t* image, int64_t C, int64_t H, int64_t W, uint8_t* scratch) {
  if (k <= 1) return;
  for (int64_t c = 0; c < C; ++c) {
    if (dilate)
      morph_channel<true>(image + c * H * W, H, W, k, scratch);
    else
      morph_channel<false>(image + c * H * W, H, W, k, scratch);
  }
}

torch::Tensor morph_tensor(bool dilate, const torch::Tensor& images, const torch::Tensor& ks) {
  namespace F = torch::nn::functional;
  auto out = images.clone();
  auto kcpu = ks.to(torch::kCPU).to(torch::kLong);
  auto [uniq, inv_unused] = torch::_unique(kcpu);
  (void)inv_unused;
  for (int64_t i = 0; i < uniq.size(0); ++i) {
    int64_t k = uniq[i].item<int64_t>();
    if (k <= 1) continue;
    auto rows = (kcpu == k).nonzero().view(-1).to(images.device());
    // Pad with a value that never wins, then a stride-1 k x k max pool;
    // erosion is a max pool of the negation.
    auto x = images.index_select(0, rows).to(torch::kFloat);
    if (!dilate) x = -x;
    const int64_t a = k / 2, b = k - 1 - a;
    x = F::pad(x, F::PadFuncOptions({a, b, a, b}).value(-1000.0));
    x = F::max_pool2d(x, F::MaxPool2dFuncOptions(k).stride(1));
    if (!dilate) x = -x;
    out.index_copy_(0, rows, x.to(torch::kByte));
  }
  return out;
}

}  // namespace invkit::transforms
