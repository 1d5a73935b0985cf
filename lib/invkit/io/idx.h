// IDX files (the MNIST family: MNIST, Fashion-MNIST, EMNIST, KMNIST), raw or
// gzipped: a big-endian header (magic 0x000008DD, DD = number of dimensions,
// then one u32 per dimension) followed by the uint8 data.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace invkit::io {

constexpr uint32_t kIdxImagesMagic = 0x00000803;  // uint8, 3 dimensions: N×H×W
constexpr uint32_t kIdxLabelsMagic = 0x00000801;  // uint8, 1 dimension: N

// The dimensions of a uint8 IDX array of `ndims` dimensions in `bytes`
// (a whole decompressed file), after checking the magic number and that the
// data exactly fills the rest of the file. Errors name `source`.
std::vector<int64_t> parse_idx_header(const std::vector<uint8_t>& bytes, int ndims, const std::string& source);

// Images as uint8 [N, 1, H, W]; `transpose` swaps H and W (EMNIST stores
// its images transposed).
torch::Tensor read_idx_images(const std::string& path, bool transpose = false);

// Labels as int64 [N].
torch::Tensor read_idx_labels(const std::string& path);

struct IdxSet {
  torch::Tensor images;  // uint8 [N, 1, H, W]
  torch::Tensor labels;  // int64 [N]
};

// Both files of a set; their counts must agree (the Error names both files).
IdxSet read_idx(const std::string& images_path, const std::string& labels_path, bool transpose = false);

}  // namespace invkit::io
