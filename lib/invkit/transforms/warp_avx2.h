// The hand-vectorized bicubic warp for x86-64 CPUs with AVX2 and FMA, chosen
// at run time by warp_image. It packs the output pixels that need
// interpolating (source inside the image, some tap not zero), then
// interpolates them 8 at a time, one 32-bit byte gather per row of 4 taps.
#pragma once
#include <cstdint>

#include "invkit/transforms/geometric.h"
#include "invkit/transforms/simd.h"

namespace invkit::transforms {

// Whether the CPU has AVX2 and FMA and use_simd_kernels has not turned it off.
bool avx2_warp_available();

// One channel, as warp_image (same conventions; scratch of warp_scratch(H, W) floats).
void warp_bicubic_avx2(const uint8_t* src, uint8_t* dst, int64_t height, int64_t width, const Affine& inv,
                       float* scratch);

}  // namespace invkit::transforms
