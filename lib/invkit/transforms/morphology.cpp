#include "invkit/transforms/morphology.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "invkit/transforms/simd.h"

namespace invkit::transforms {

namespace {

// On a padded copy A (stride Wp = W + k - 1, H + k - 1 rows, the border
// holding a value that never wins): a horizontal pass B[i] = op(A[i..i+k-1])
// and a vertical pass C[i] = op(B[i], B[i+Wp], ...), each one long flat loop
// that vectorizes; the columns past W of each row are never read back.
template <bool Max>
INVKIT_INLINE void morph_channel(uint8_t* p, int64_t H, int64_t W, int64_t k, uint8_t* scratch) {
  const int64_t a = k / 2, Wp = W + k - 1, Hp = H + k - 1, n = Hp * Wp;
  uint8_t* A = scratch;
  uint8_t* B = A + n + k;
  std::memset(A, Max ? 0 : 255, static_cast<size_t>(n + k));
  for (int64_t y = 0; y < H; ++y) std::memcpy(A + (y + a) * Wp + a, p + y * W, static_cast<size_t>(W));
  std::memcpy(B, A, static_cast<size_t>(n));
  for (int64_t o = 1; o < k; ++o)
    for (int64_t i = 0; i < n; ++i) B[i] = Max ? std::max(B[i], A[i + o]) : std::min(B[i], A[i + o]);
  const int64_t m = H * Wp;
  std::memcpy(A, B, static_cast<size_t>(m));
  for (int64_t j = 1; j < k; ++j)
    for (int64_t i = 0; i < m; ++i) A[i] = Max ? std::max(A[i], B[i + j * Wp]) : std::min(A[i], B[i + j * Wp]);
  for (int64_t y = 0; y < H; ++y) std::memcpy(p + y * W, A + y * Wp, static_cast<size_t>(W));
}

}  // namespace

int64_t morph_scratch(int64_t height, int64_t width, int64_t k) { return 2 * (height + k) * (width + k) + 2 * k; }

INVKIT_KERNEL void morph_image(bool dilate, int64_t k, uint8_t* image, int64_t C, int64_t H, int64_t W, uint8_t* scratch) {
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
  auto kcpu = ks.to(torch::kCPU).to(torch::kLong).contiguous();
  const int64_t* kp = kcpu.data_ptr<int64_t>();
  std::set<int64_t> sizes(kp, kp + kcpu.numel());
  for (int64_t k : sizes) {
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
