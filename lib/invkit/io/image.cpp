#include "invkit/io/image.h"

#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "invkit/error.h"
#include "invkit/io/file.h"

// stb: the implementations live in this file only.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#include <stb_image.h>
#include <stb_image_write.h>

namespace invkit::io {

torch::Tensor read_image(const std::string& path, int channels) {
  std::vector<uint8_t> bytes = read_all(path);
  // stb takes the length as an int: a longer file would wrap to a short or negative length.
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw Error(path + ": cannot read image: " + std::to_string(bytes.size()) + " bytes is more than the " +
                std::to_string(std::numeric_limits<int>::max()) + " an image file may have");
  int w = 0, h = 0, stored = 0;
  if (!stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &stored))
    throw Error(path + ": cannot read image: " + stbi_failure_reason());
  int want = channels > 0 ? channels : (stored <= 2 ? 1 : 3);
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &stored, want), stbi_image_free);
  if (!pixels) throw Error(path + ": cannot read image: " + stbi_failure_reason());
  // stb gives H×W×C; copy out before the buffer is freed. (Not contiguous():
  // for one channel the permuted view already counts as contiguous, so it
  // would not copy and the tensor would point into freed memory.)
  return torch::from_blob(pixels.get(), {h, w, want}, torch::kByte).permute({2, 0, 1}).clone(torch::MemoryFormat::Contiguous);
}

static void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  auto* p = static_cast<uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

void check_png_size(const std::string& path, int64_t height, int64_t width, int64_t channels) {
  // stb's writer counts bytes in int (a row is width * channels, the image height rows of them).
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  if (height < 1 || width < 1 || width > kMax / channels || height > kMax / (width * channels))
    throw Error(path + ": cannot write a " + std::to_string(height) + "x" + std::to_string(width) + "x" +
                std::to_string(channels) + " image as PNG: at most " + std::to_string(kMax) + " bytes of pixels");
}

void write_png(const std::string& path, const torch::Tensor& image) {
  if (image.dim() != 3 || image.scalar_type() != torch::kByte || (image.size(0) != 1 && image.size(0) != 3))
    throw Error(path + ": can only write uint8 images [1 or 3, H, W] as PNG");
  torch::Tensor hwc = image.to(torch::kCPU).permute({1, 2, 0}).contiguous();
  check_png_size(path, hwc.size(0), hwc.size(1), hwc.size(2));
  int h = static_cast<int>(hwc.size(0)), w = static_cast<int>(hwc.size(1)), c = static_cast<int>(hwc.size(2));
  std::vector<uint8_t> png;
  if (!stbi_write_png_to_func(append_bytes, &png, w, h, c, hwc.data_ptr<uint8_t>(), w * c))
    throw Error(path + ": PNG encoding failed");
  write_all(path, png.data(), png.size());
}

torch::Tensor image_grid(const torch::Tensor& images, int64_t cols, int64_t pad, int pad_value) {
  TORCH_CHECK(images.dim() == 4, "image_grid needs [N, C, H, W]");
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  cols = std::max<int64_t>(1, std::min(cols, std::max<int64_t>(n, 1)));
  const int64_t rows = std::max<int64_t>(1, (n + cols - 1) / cols);
  torch::Tensor grid = torch::full({c, pad + rows * (h + pad), pad + cols * (w + pad)}, pad_value, torch::kByte);
  torch::Tensor cpu = images.to(torch::kCPU);
  for (int64_t i = 0; i < n; ++i) {
    int64_t y = pad + (i / cols) * (h + pad), x = pad + (i % cols) * (w + pad);
    grid.narrow(1, y, h).narrow(2, x, w).copy_(cpu[i]);
  }
  return grid;
}

}  // namespace invkit::io
