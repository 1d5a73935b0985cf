// The pixel operations' kernels (background, brightness, contrast, gamma,
// invert, noise, blur). The *_image ones change one image, uint8 [C, H, W]
// contiguous on the CPU (or its n = C*H*W bytes), in place; the *_tensor ones
// do the same to a batch, uint8 [N, C, H, W] on any device, with one value
// per image in a float64 [N] tensor on the CPU, and return uint8
// [N, C, H, W]. Results are rounded to the nearest level and clamped to
// 0..255.
#pragma once
#include <torch/torch.h>

#include <cstdint>

#include "invkit/random.h"

namespace invkit::transforms {

// Pixels that are 0 in every channel become `level`.
void background_image(uint8_t level, uint8_t* image, int64_t channels, int64_t height, int64_t width);
torch::Tensor background_tensor(const torch::Tensor& images, const torch::Tensor& levels);

// x * factor.
void brightness_image(double factor, uint8_t* image, int64_t n);
torch::Tensor brightness_tensor(const torch::Tensor& images, const torch::Tensor& factors);

// mean + factor * (x - mean), the mean over the whole image (all channels).
void contrast_image(double factor, uint8_t* image, int64_t n);
torch::Tensor contrast_tensor(const torch::Tensor& images, const torch::Tensor& factors);

// 255 * (x / 255)^gamma.
void gamma_image(double gamma, uint8_t* image, int64_t n);
torch::Tensor gamma_tensor(const torch::Tensor& images, const torch::Tensor& gammas);

// 255 - x; the tensor version where the image's flag is not 0.
void invert_image(uint8_t* image, int64_t n);
torch::Tensor invert_tensor(const torch::Tensor& images, const torch::Tensor& flags);

// x + sigma * z_i for byte i, z_i = draws.normal_at(i); sigma in levels.
void noise_image(double sigma, const Draws& draws, uint8_t* image, int64_t n);

// Gaussian blur, sigma in pixels (nothing when sigma <= 0), radius
// ceil(3 sigma), edges replicated; `scratch` holds blur_scratch(H, W) floats.
void blur_image(double sigma, uint8_t* image, int64_t channels, int64_t height, int64_t width, float* scratch);
// Floats of scratch space blur_image needs: the channel as floats and the
// smoothing's temporary plane.
inline int64_t blur_scratch(int64_t height, int64_t width) { return 2 * height * width; }

}  // namespace invkit::transforms
