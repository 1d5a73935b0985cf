#include "invkit/io/image.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "invkit/error.h"
#include "invkit/io/file.h"

// stb's implementation is compiled in io/stb.cpp.
#include <stb_image.h>
#include <stb_image_write.h>

namespace invkit::io {

namespace {

// Where a JPEG's markers start, after its start-of-image marker (FF D8,
// which stb also finds after more FF fill bytes), or 0 when `bytes` is no JPEG.
size_t jpeg_body(const std::vector<uint8_t>& bytes) {
  size_t i = 0;
  if (bytes.empty() || bytes[i++] != 0xFF) return 0;
  while (i < bytes.size() && bytes[i] == 0xFF) ++i;
  return i < bytes.size() && bytes[i] == 0xD8 ? i + 1 : 0;
}

// stb_image 2.27 (Debian 12's libstb-dev) writes past its Huffman tables when
// the 16 code counts of one JPEG table (DHT) add up to more than 256; 2.28
// refuses them. Walks the markers the way stb does (segment lengths, fill
// bytes, anything else skipped up to the next 0xFF: junk or entropy-coded
// data) and throws an Error for such a table before stb reads the file.
void check_jpeg_huffman_tables(const std::vector<uint8_t>& bytes, const std::string& path) {
  const size_t size = bytes.size();
  size_t pos = jpeg_body(bytes);
  if (pos == 0) return;
  auto at = [&](size_t i) -> unsigned { return i < size ? bytes[i] : 0; };  // stb reads 0 past the end
  while (pos < size) {
    if (bytes[pos++] != 0xFF) continue;
    while (pos < size && bytes[pos] == 0xFF) ++pos;
    if (pos >= size) return;
    const unsigned marker = bytes[pos++];
    if (marker == 0xD9) return;                                               // end of image
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // no length
    const size_t length = (at(pos) << 8) | at(pos + 1);
    if (marker == 0xC4) {
      size_t p = pos + 2;
      for (int64_t left = static_cast<int64_t>(length) - 2; left > 0;) {
        const unsigned q = at(p);
        if ((q >> 4) > 1 || (q & 15) > 3) break;  // stb refuses the table itself
        int64_t codes = 0;
        for (size_t i = 1; i <= 16; ++i) codes += at(p + i);
        if (codes > 256)
          throw Error(path + ": cannot read image: corrupt JPEG: a Huffman table of " + std::to_string(codes) +
                      " codes (at most 256)");
        p += 17 + static_cast<size_t>(codes);
        left -= 17 + codes;
      }
    }
    pos += length;
  }
}

// stb reads a PNG chunk by chunk and grows its buffer by an IDAT chunk's
// stated length before reading the chunk (found by fuzzing: 98 bytes asked
// for 2 GiB). Throws an Error for a chunk that runs past the end of the file.
void check_png_chunks(const std::vector<uint8_t>& bytes, const std::string& path) {
  static const uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kSignature, 8) != 0) return;
  for (size_t pos = 8; bytes.size() - pos >= 8;) {
    const uint64_t length = (uint64_t(bytes[pos]) << 24) | (uint64_t(bytes[pos + 1]) << 16) |
                            (uint64_t(bytes[pos + 2]) << 8) | uint64_t(bytes[pos + 3]);
    const std::string type(reinterpret_cast<const char*>(bytes.data() + pos + 4), 4);
    if (type == "IEND") return;
    if (length > bytes.size() - pos - 8) {
      const bool named = std::all_of(type.begin(), type.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
      throw Error(path + ": cannot read image: corrupt PNG: " + (named ? "its " + type + " chunk" : "a chunk") + " of " +
                  std::to_string(length) + " bytes runs past the end of the file (truncated?)");
    }
    pos += 12 + length;  // length, type, data, CRC
    if (pos > bytes.size()) return;
  }
}

// The most pixels each format can pack into one byte of file, so that a
// short file cannot make stb allocate and decode an image its header merely
// claims (stb reads zeros past the end of a JPEG or BMP, so a cut file
// decodes; a 676-byte JPEG claiming 64272x248 pixels took seconds): JPEG
// spends at least one bit on every 8x8 block (its first scan's DC code),
// PNG at least one bit per pixel through deflate's 1032:1, BMP one bit per pixel.
void check_pixels_fit_file(const std::vector<uint8_t>& bytes, int64_t width, int64_t height, const std::string& path) {
  const auto starts = [&](const char* magic, size_t n) {
    return bytes.size() >= n && std::memcmp(bytes.data(), magic, n) == 0;
  };
  const char* format = nullptr;
  int64_t per_byte = 0;
  if (jpeg_body(bytes)) {
    format = "JPEG";
    per_byte = 8 * 64;
  } else if (starts("\x89PNG", 4)) {
    format = "PNG";
    per_byte = 8 * 1032;
  } else if (starts("BM", 2)) {
    format = "BMP";
    per_byte = 8;
  } else {
    return;
  }
  const int64_t size = static_cast<int64_t>(bytes.size());
  // stbi_info gives a top-down BMP's height as stored, negative (found by
  // fuzzing: -524288 let 772x524288 pixels through); the decoder takes its
  // absolute value. Both are ints: the product fits in int64.
  width = std::abs(width);
  height = std::abs(height);
  if (width * height > per_byte * size + 64 * 64)
    throw Error(path + ": cannot read image: its header says " + std::to_string(width) + "x" + std::to_string(height) +
                " pixels, more than " + std::to_string(size) + " bytes of " + format + " can hold (truncated or corrupt)");
}

}  // namespace

ImageInfo read_image_info(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(path + ": cannot open: " + errno_text());
  int w = 0, h = 0, stored = 0;
  const bool ok = stbi_info_from_file(f, &w, &h, &stored);
  std::fclose(f);
  if (!ok) throw Error(path + ": cannot read image: " + stbi_failure_reason());
  // A top-down BMP's height comes negative (see check_pixels_fit_file).
  return {std::abs(static_cast<int64_t>(h)), std::abs(static_cast<int64_t>(w)), stored <= 2 ? 1 : 3};
}

torch::Tensor read_image(const std::string& path, int channels) {
  std::vector<uint8_t> bytes = read_all(path);
  // stb takes the length as an int: a longer file would wrap to a short or negative length.
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw Error(path + ": cannot read image: " + std::to_string(bytes.size()) + " bytes is more than the " +
                std::to_string(std::numeric_limits<int>::max()) + " an image file may have");
  check_jpeg_huffman_tables(bytes, path);
  check_png_chunks(bytes, path);
  int w = 0, h = 0, stored = 0;
  if (!stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &stored))
    throw Error(path + ": cannot read image: " + stbi_failure_reason());
  check_pixels_fit_file(bytes, w, h, path);
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

std::vector<uint8_t> encode_png(const torch::Tensor& image, const std::string& name) {
  if (image.dim() != 3 || image.scalar_type() != torch::kByte || (image.size(0) != 1 && image.size(0) != 3))
    throw Error(name + ": can only write uint8 images [1 or 3, H, W] as PNG");
  torch::Tensor hwc = image.to(torch::kCPU).permute({1, 2, 0}).contiguous();
  check_png_size(name, hwc.size(0), hwc.size(1), hwc.size(2));
  int h = static_cast<int>(hwc.size(0)), w = static_cast<int>(hwc.size(1)), c = static_cast<int>(hwc.size(2));
  std::vector<uint8_t> png;
  if (!stbi_write_png_to_func(append_bytes, &png, w, h, c, hwc.data_ptr<uint8_t>(), w * c))
    throw Error(name + ": PNG encoding failed");
  return png;
}

void write_png(const std::string& path, const torch::Tensor& image) {
  auto png = encode_png(image, path);
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
