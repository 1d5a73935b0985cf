// Elastic distortion (Simard et al. 2003): per-pixel displacements drawn
// uniform in (-1, 1), smoothed by a Gaussian of `sigma` pixels, scaled by
// `alpha` pixels; the image is resampled bicubically (zero fill outside).
#pragma once
#include <cstdint>
#include <vector>

#include "invkit/random.h"

namespace invkit::transforms {

void elastic_image(const uint8_t* src, uint8_t* dst, int64_t channels, int64_t height, int64_t width, double alpha,
                   double sigma, const Draws& draws, std::vector<float>& scratch);

}  // namespace invkit::transforms
