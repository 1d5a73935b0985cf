// Separable Gaussian smoothing, shared by blur and elastic.
#pragma once
#include <cstdint>

namespace invkit::transforms {

// Smooths a float plane [H, W] in place with a Gaussian of `sigma` truncated
// at `radius` taps each side, edges replicated; `tmp` holds H*W floats.
void gaussian_smooth(float* plane, int64_t height, int64_t width, double sigma, int64_t radius, float* tmp);

}  // namespace invkit::transforms
