// PNG/JPEG/BMP files <-> uint8 tensors [C, H, W] (stb_image, stb_image_write).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace invkit::io {

// Reads an image file as uint8 [C, H, W]. channels: 1 (gray), 3 (RGB), or 0
// (as stored: gray stays 1, anything with colour becomes 3; alpha dropped).
// Throws Error naming the file.
torch::Tensor read_image(const std::string& path, int channels = 0);

// What read_image(path) would give, from the file's header alone (no
// decoding): its height and width, and 1 (gray, gray + alpha) or 3 channels.
// Throws Error naming the file when the header cannot be read.
struct ImageInfo {
  int64_t height = 0, width = 0;
  int channels = 0;
};
ImageInfo read_image_info(const std::string& path);

// The PNG encoding of a uint8 image [1 or 3, H, W] (any device); an Error
// naming `name` for another shape or type, or a size PNG cannot hold.
std::vector<uint8_t> encode_png(const torch::Tensor& image, const std::string& name);

// Writes uint8 [C, H, W] (C = 1 or 3) as PNG, atomically; "-" is stdout.
void write_png(const std::string& path, const torch::Tensor& image);

// Throws Error naming `path` unless a height x width x channels image fits
// a PNG writer (positive sides, at most INT_MAX bytes of pixels).
void check_png_size(const std::string& path, int64_t height, int64_t width, int64_t channels);

// Lays out uint8 images [N, C, H, W] on a grid of `cols` columns, with
// `pad` pixels of `pad_value` between cells; N need not fill the last row.
torch::Tensor image_grid(const torch::Tensor& images, int64_t cols, int64_t pad = 2, int pad_value = 255);

}  // namespace invkit::io
