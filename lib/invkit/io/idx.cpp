#include "invkit/io/idx.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "invkit/error.h"
#include "invkit/io/checked.h"
#include "invkit/io/file.h"

namespace invkit::io {

namespace {

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

std::string describe(uint32_t magic) {
  if (magic == kIdxImagesMagic) return " (IDX uint8 images)";
  if (magic == kIdxLabelsMagic) return " (IDX uint8 labels)";
  return "";
}

}  // namespace

std::vector<int64_t> parse_idx_header(const std::vector<uint8_t>& bytes, int ndims, const std::string& source) {
  const uint32_t want = 0x00000800u | static_cast<uint32_t>(ndims);
  if (bytes.empty()) throw Error(source + ": empty file, expected an IDX file");
  if (bytes.size() < 4)
    throw Error(source + ": " + std::to_string(bytes.size()) + " bytes is too short for an IDX header");
  const uint32_t magic = big_endian_u32(bytes.data());
  if (magic != want)
    throw Error(source + ": wrong magic number " + hex32(magic) + describe(magic) + ", expected " + hex32(want) +
                describe(want));
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  if (bytes.size() < header)
    throw Error(source + ": truncated IDX header: " + std::to_string(bytes.size()) + " bytes, expected " +
                std::to_string(header));
  std::vector<int64_t> dims;
  std::vector<uint64_t> udims;
  std::string shape;
  for (int i = 0; i < ndims; ++i) {
    const uint32_t d = big_endian_u32(bytes.data() + 4 + 4 * i);
    dims.push_back(d);
    udims.push_back(d);
    shape += (i ? "x" : "") + std::to_string(d);
  }
  // Three u32 dimensions can multiply past 64 bits: check before comparing.
  const std::optional<uint64_t> product = checked_product(udims, 1);
  if (!product)
    throw Error(source + ": the header's dimensions " + shape + " multiply past " + std::to_string(kMaxTensorBytes) +
                " bytes, the most a tensor can hold: not a valid IDX file");
  const uint64_t expected = *product;
  const uint64_t actual = bytes.size() - header;
  if (actual != expected)
    throw Error(source + ": " + (actual < expected ? "truncated: " : "trailing data: ") + "the header says " + shape +
                " (" + std::to_string(expected) + " bytes of data), the file holds " + std::to_string(actual));
  return dims;
}

torch::Tensor read_idx_images(const std::string& path, bool transpose) {
  const std::string source = input_name(path);
  std::vector<uint8_t> bytes = read_maybe_gzip(path);
  std::vector<int64_t> dims = parse_idx_header(bytes, 3, source);
  if (dims[0] == 0) throw Error(source + ": no images (the header says 0)");
  if (dims[1] == 0 || dims[2] == 0)
    throw Error(source + ": images of size " + std::to_string(dims[1]) + "x" + std::to_string(dims[2]));
  // The tensor adopts the decompressed buffer: no copy of the pixels.
  auto owner = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  torch::Tensor images = torch::from_blob(owner->data() + 16, {dims[0], 1, dims[1], dims[2]},
                                          [owner](void*) mutable { owner.reset(); }, torch::kByte);
  if (transpose) images = images.transpose(2, 3).contiguous();
  return images;
}

torch::Tensor read_idx_labels(const std::string& path) {
  const std::string source = input_name(path);
  std::vector<uint8_t> bytes = read_maybe_gzip(path);
  std::vector<int64_t> dims = parse_idx_header(bytes, 1, source);
  if (dims[0] == 0) throw Error(source + ": no labels (the header says 0)");
  torch::Tensor labels = torch::empty({dims[0]}, torch::kByte);
  std::memcpy(labels.data_ptr<uint8_t>(), bytes.data() + 8, labels.numel());
  return labels.to(torch::kLong);
}

IdxSet read_idx(const std::string& images_path, const std::string& labels_path, bool transpose) {
  IdxSet set{read_idx_images(images_path, transpose), read_idx_labels(labels_path)};
  if (set.images.size(0) != set.labels.size(0))
    throw Error(input_name(images_path) + " has " + std::to_string(set.images.size(0)) + " images but " +
                input_name(labels_path) + " has " + std::to_string(set.labels.size(0)) + " labels");
  return set;
}

}  // namespace invkit::io
