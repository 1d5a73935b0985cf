// The bicubic warps' input, shared by the portable kernel (geometric.cpp) and
// the AVX2 one (warp_avx2.cpp): a channel with a 2-pixel border that repeats
// the edge, and a map of the 4x4 windows that hold anything but zeros (a
// pixel whose 16 taps are all zero is zero, so the warps skip it exactly).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "invkit/transforms/simd.h"

namespace invkit::transforms {

// src uint8 [H, W] into Q [(H + 4) x (W + 4)], the border repeating the edge.
INVKIT_INLINE void pad_edges(const uint8_t* src, int64_t H, int64_t W, uint8_t* Q) {
  const int64_t S = W + 4;
  for (int64_t y = -2; y < H + 2; ++y) {
    const uint8_t* row = src + std::clamp<int64_t>(y, 0, H - 1) * W;
    uint8_t* out = Q + (y + 2) * S;
    std::memcpy(out + 2, row, static_cast<size_t>(W));
    out[0] = out[1] = row[0];
    out[W + 2] = out[W + 3] = row[W - 1];
  }
}

// M[i] != 0 where the 4x4 window of the padded Q (row stride S, n bytes)
// starting at i holds a non-zero byte. R (n bytes) receives the row-wise OR
// of 4; it may be Q itself (Q is then overwritten).
INVKIT_INLINE void nonzero_windows(const uint8_t* Q, uint8_t* R, uint8_t* M, int64_t S, int64_t n) {
  for (int64_t i = 0; i + 3 < n; ++i) R[i] = Q[i] | Q[i + 1] | Q[i + 2] | Q[i + 3];
  for (int64_t i = 0; i + 3 * S < n; ++i) M[i] = R[i] | R[i + S] | R[i + 2 * S] | R[i + 3 * S];
}

}  // namespace invkit::transforms
