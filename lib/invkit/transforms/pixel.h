// Pixel operations (background, brightness, contrast, gamma, noise, blur,
// invert): one drawn value per image, applied in place.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "invkit/random.h"

namespace invkit::transforms {

// Draws the image's value (level, factor, gamma, sigma or 0/1 flag) and
// writes it to `params` when not null (noise records nothing).
double draw_pixel(const std::string& name, const std::vector<double>& args, Draws& draws, float* params);

// Applies op `name` with drawn `value` to one image (uint8 [C, H, W]) in
// place. `draws` feeds per-pixel noise; `scratch` holds pixel_scratch(H, W) floats.
// Floats of scratch space pixel_image needs: blur's float plane and the
// smoothing's temporary plane, reused channel by channel.
inline int64_t pixel_scratch(int64_t height, int64_t width) { return 2 * height * width; }

void pixel_image(const std::string& name, double value, const Draws& draws, uint8_t* image, int64_t channels,
                 int64_t height, int64_t width, float* scratch);

// The same with tensor ops on the images' device; values float64 [N] on the
// CPU. Returns an undefined tensor for ops that run only on the CPU kernel
// (noise, blur).
torch::Tensor pixel_tensor(const std::string& name, const torch::Tensor& images, const torch::Tensor& values);

}  // namespace invkit::transforms
