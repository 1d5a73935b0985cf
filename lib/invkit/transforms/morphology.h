// Grey dilation and erosion with a k x k square of ones and OpenCV's default
// anchor (k/2): output (x, y) is the max (min) of input pixels
// (x + i, y + j) for i, j in [-k/2, k-1-k/2]; pixels outside the image are
// ignored (OpenCV's default border for morphology).
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace invkit::transforms {

// Bytes of scratch space morph_image needs.
int64_t morph_scratch(int64_t height, int64_t width, int64_t k);

// One image uint8 [C, H, W] in place; `scratch` holds morph_scratch(H, W, k) bytes.
void morph_image(bool dilate, int64_t k, uint8_t* image, int64_t channels, int64_t height, int64_t width,
                 uint8_t* scratch);

// The same with max-pooling on the images' device; ks int64 [N] on the CPU.
torch::Tensor morph_tensor(bool dilate, const torch::Tensor& images, const torch::Tensor& ks);

}  // namespace invkit::transforms
