// The AVX2 bicubic warp (see warp_avx2.h).
#include "invkit/transforms/warp_avx2.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "invkit/transforms/padding.h"

#if INVKIT_HAVE_AVX2_KERNEL
#include <immintrin.h>

namespace invkit::transforms {

namespace {

std::atomic<bool> simd_allowed{true};

// Keys' cubic, a = -1, for 8 fractions t: the taps at -1, 0, +1, +2.
__attribute__((target("avx2,fma"))) inline void cubic_weights_avx2(__m256 t, __m256* w) {
  const __m256 one = _mm256_set1_ps(1.f), two = _mm256_set1_ps(2.f), t2 = _mm256_mul_ps(t, t);
  w[0] = _mm256_mul_ps(t, _mm256_fmadd_ps(t, _mm256_sub_ps(two, t), _mm256_set1_ps(-1.f)));
  w[1] = _mm256_fmadd_ps(t2, _mm256_sub_ps(t, two), one);
  w[2] = _mm256_mul_ps(t, _mm256_fmadd_ps(t, _mm256_sub_ps(one, t), one));
  w[3] = _mm256_mul_ps(t2, _mm256_sub_ps(t, one));
}

// For each 8-bit mask, the lanes of its set bits, in order: with
// _mm256_permutevar8x32 it packs the selected lanes to the front.
struct CompressTable {
  alignas(32) int32_t lanes[256][8];
  CompressTable() {
    for (int m = 0; m < 256; ++m) {
      int k = 0;
      for (int b = 0; b < 8; ++b)
        if (m >> b & 1) lanes[m][k++] = b;
      while (k < 8) lanes[m][k++] = 0;
    }
  }
};
const CompressTable compress_table;

// geometric.cpp's pad_channel in bytes (transforms/padding.h): Q the padded
// channel, M the map of 4x4 windows that are not all zero, R scratch.
INVKIT_INLINE void pad_bytes(const uint8_t* src, int64_t H, int64_t W, uint8_t* Q, uint8_t* M, uint8_t* R) {
  const int64_t S = W + 4, n = (H + 4) * S;
  pad_edges(src, H, W, Q);
  nonzero_windows(Q, R, M, S, n);
}

}  // namespace

// Bicubic warp of one channel with AVX2, in two passes: the first computes
// every output pixel's source point 8 at a time and keeps, packed, only the
// pixels that need interpolating (inside the image, some tap not zero); the
// second interpolates those, 8 at a time: one 32-bit gather fetches a row's
// four taps (bytes) for 8 pixels, so 4 gathers per 8 pixels. Zero fill and
// all-zero neighbourhoods cost no gathers. Same arithmetic as
// sample_at<Bicubic>.
__attribute__((target("avx2,fma"))) void warp_bicubic_avx2(const uint8_t* src, uint8_t* dst, int64_t H, int64_t W,
                                                             const Affine& m, float* P) {
  const int64_t S = W + 4, padded = (H + 4) * S, n = H * W;
  uint8_t* Q = reinterpret_cast<uint8_t*>(P);  // bytes, in the floats' room
  uint8_t* M = reinterpret_cast<uint8_t*>(P + padded);
  pad_bytes(src, H, W, Q, M, M + padded);
  // The packed list of pixels to interpolate (8 lanes of slack at the end).
  int32_t* list_pixel = reinterpret_cast<int32_t*>(P + 2 * padded);
  int32_t* list_at = list_pixel + n + 8;
  float* list_tx = reinterpret_cast<float*>(list_at + n + 8);
  float* list_ty = list_tx + n + 8;

  const __m256 lane = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7), zero = _mm256_setzero_ps();
  const __m256i lane_i = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256 fw = _mm256_set1_ps(static_cast<float>(W)), fh = _mm256_set1_ps(static_cast<float>(H));
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.f), minus_one = _mm256_set1_ps(-1.f);
  const __m256 umax = _mm256_set1_ps(static_cast<float>(W) - 0.5f), vmax = _mm256_set1_ps(static_cast<float>(H) - 0.5f);
  const __m256 stride = _mm256_set1_ps(static_cast<float>(S)), top = _mm256_set1_ps(255.f);
  const __m256 a = _mm256_set1_ps(static_cast<float>(m.a)), d = _mm256_set1_ps(static_cast<float>(m.d));
  const __m256i low_byte = _mm256_set1_epi32(0xff);
  alignas(32) int32_t taps[8];
  int64_t count = 0;
  for (int64_t y = 0; y < H; ++y) {
    double oy = y + 0.5 - H / 2.0, ox = 0.5 - W / 2.0;
    const __m256 x0 = _mm256_set1_ps(static_cast<float>(m.a * ox + m.b * oy + m.c + W / 2.0));
    const __m256 y0 = _mm256_set1_ps(static_cast<float>(m.d * ox + m.e * oy + m.f + H / 2.0));
    for (int64_t x = 0; x < W; x += 8) {
      const __m256 xi = _mm256_add_ps(_mm256_set1_ps(static_cast<float>(x)), lane);
      const __m256 xs = _mm256_fmadd_ps(a, xi, x0), ys = _mm256_fmadd_ps(d, xi, y0);
      __m256 keep = _mm256_and_ps(_mm256_and_ps(_mm256_cmp_ps(xs, zero, _CMP_GE_OQ), _mm256_cmp_ps(xs, fw, _CMP_LT_OQ)),
                                  _mm256_and_ps(_mm256_cmp_ps(ys, zero, _CMP_GE_OQ), _mm256_cmp_ps(ys, fh, _CMP_LT_OQ)));
      keep = _mm256_and_ps(keep, _mm256_cmp_ps(xi, fw, _CMP_LT_OQ));  // lanes past the row's end
      if (_mm256_movemask_ps(keep) == 0) continue;
      // Lanes outside are clamped so that their taps stay inside P.
      const __m256 u = _mm256_min_ps(_mm256_max_ps(_mm256_sub_ps(xs, half), minus_one), umax);
      const __m256 v = _mm256_min_ps(_mm256_max_ps(_mm256_sub_ps(ys, half), minus_one), vmax);
      const __m256 fx = _mm256_floor_ps(u), fy = _mm256_floor_ps(v);
      const __m256i at = _mm256_cvttps_epi32(_mm256_fmadd_ps(_mm256_add_ps(fy, one), stride, _mm256_add_ps(fx, one)));
      // Scalar loads of the zero map: cheaper here than a gather's latency.
      _mm256_store_si256(reinterpret_cast<__m256i*>(taps), at);
      int nonzero = 0;
      for (int l = 0; l < 8; ++l) nonzero |= (M[taps[l]] != 0) << l;
      const int mask = _mm256_movemask_ps(keep) & nonzero;
      if (mask == 0) continue;
      const __m256i perm = _mm256_load_si256(reinterpret_cast<const __m256i*>(compress_table.lanes[mask]));
      const __m256i pixel = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(y * W + x)), lane_i);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(list_pixel + count), _mm256_permutevar8x32_epi32(pixel, perm));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(list_at + count), _mm256_permutevar8x32_epi32(at, perm));
      _mm256_storeu_ps(list_tx + count, _mm256_permutevar8x32_ps(_mm256_sub_ps(u, fx), perm));
      _mm256_storeu_ps(list_ty + count, _mm256_permutevar8x32_ps(_mm256_sub_ps(v, fy), perm));
      count += __builtin_popcount(static_cast<unsigned>(mask));
    }
  }
  std::memset(dst, 0, static_cast<size_t>(n));
  for (int64_t i = count; i < count + 8; ++i) {  // the last group's spare lanes: any valid tap
    list_at[i] = 0;
    list_tx[i] = list_ty[i] = 0.f;
  }
  alignas(32) int32_t values[8];
  for (int64_t k = 0; k < count; k += 8) {
    const __m256i at = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(list_at + k));
    __m256 wx[4], wy[4];
    cubic_weights_avx2(_mm256_loadu_ps(list_tx + k), wx);
    cubic_weights_avx2(_mm256_loadu_ps(list_ty + k), wy);
    __m256 acc = zero;
    for (int j = 0; j < 4; ++j) {
      const __m256i row = _mm256_add_epi32(at, _mm256_set1_epi32(static_cast<int>(j * S)));
      const __m256i g = _mm256_i32gather_epi32(reinterpret_cast<const int*>(Q), row, 1);  // taps 0..3, one byte each
      __m256 h = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(g, low_byte)), wx[0]);
      h = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(g, 8), low_byte)), wx[1], h);
      h = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(g, 16), low_byte)), wx[2], h);
      h = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(g, 24)), wx[3], h);
      acc = _mm256_fmadd_ps(h, wy[j], acc);
    }
    acc = _mm256_add_ps(_mm256_min_ps(_mm256_max_ps(acc, zero), top), half);
    _mm256_store_si256(reinterpret_cast<__m256i*>(values), _mm256_cvttps_epi32(acc));
    const int64_t lanes = std::min<int64_t>(8, count - k);
    for (int64_t l = 0; l < lanes; ++l) dst[list_pixel[k + l]] = static_cast<uint8_t>(values[l]);
  }
}

bool avx2_warp_available() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes && simd_allowed.load(std::memory_order_relaxed);
}

bool use_simd_kernels(bool allow) {
  simd_allowed = allow;
  return avx2_warp_available();
}

}  // namespace invkit::transforms

#else

namespace invkit::transforms {
bool avx2_warp_available() { return false; }
void warp_bicubic_avx2(const uint8_t*, uint8_t*, int64_t, int64_t, const Affine&, float*) {}
bool use_simd_kernels(bool) { return false; }
}  // namespace invkit::transforms

#endif
