// The safetensors format (https://github.com/huggingface/safetensors):
// 8-byte little-endian header length N, N bytes of JSON header, raw data.
// The reader checks everything the format demands; the writer produces the
// same bytes as Python's `safetensors` library for the same tensors.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace at {
class Tensor;
}

namespace invkit::io {

enum class DType { BOOL, U8, I8, I16, F16, BF16, I32, F32, F64, I64 };

std::string dtype_name(DType d);
DType dtype_from_name(const std::string& name);  // throws Error
size_t dtype_size(DType d);

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  size_t begin = 0;  // offsets into the data section
  size_t end = 0;
};

// An uninitialised CPU tensor of t's dtype and shape, to read t's bytes into.
at::Tensor empty_tensor(const TensorInfo& t);

// A checked header: every rule of the format's reference implementation
// (huggingface/safetensors, tensor.rs) that does not need the data section.
struct SafetensorsHeader {
  uint64_t header_size = 0;  // N, the JSON header's length
  std::map<std::string, std::string> metadata;
  std::vector<TensorInfo> tensors;  // in data order, tiling [0, data_size)
  uint64_t data_size = 0;           // the bytes the tensors cover
};

// Parses and checks the header at the start of `size` bytes of a file of
// `file_size` bytes (the whole file when file_size is 0). Errors name `source`.
SafetensorsHeader parse_safetensors_header(const uint8_t* data, size_t size, const std::string& source,
                                           uint64_t file_size = 0);

// Throws Error unless the tensors of `h` cover exactly `data_size` bytes,
// the length of the file after its header.
void check_data_size(const SafetensorsHeader& h, uint64_t data_size, const std::string& source);

// Reads only the header of a file (not stdin), checked against the file's length.
SafetensorsHeader read_safetensors_header(const std::string& path);

// A parsed file: the header and the data section (owned).
class Safetensors {
 public:
  // Parses a whole file's bytes; `source` names it in error messages.
  static Safetensors parse(std::vector<uint8_t> bytes, const std::string& source);
  // Reads a file, or stdin for "-". A regular file is memory-mapped, not
  // copied (private mapping: writes through a view() never reach the file);
  // the checks are the same either way.
  static Safetensors read(const std::string& path);

  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in data order
  const TensorInfo* find(const std::string& name) const;
  const uint8_t* data(const TensorInfo& t) const { return base_ + data_start_ + t.begin; }
  const std::string& source() const { return source_; }

  // A CPU tensor copied out of the file. Throws Error if absent.
  at::Tensor tensor(const std::string& name) const;
  // The same tensor without a copy where it can be: a view of the mapped
  // file when its bytes are aligned for its dtype (it keeps the mapping
  // alive); else a copy, as tensor(). Throws Error if absent.
  at::Tensor view(const std::string& name) const;

 private:
  static Safetensors from(std::shared_ptr<const void> owner, const uint8_t* base, size_t size, bool mapped,
                          const std::string& source);
  std::string source_;
  std::shared_ptr<const void> owner_;  // the bytes: a vector or a file mapping
  const uint8_t* base_ = nullptr;
  bool mapped_ = false;
  size_t data_start_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<TensorInfo> tensors_;
};

// Named tensors to write; order does not matter (the writer sorts them the
// way Python's safetensors does: by dtype, widest first, then by name).
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Where each tensor goes in a file: the header (8-byte little-endian
// length, JSON, padded with spaces to 8 bytes) and the tensors in data
// order with their offsets, as Python's safetensors lays them out. `tensors`
// give name, dtype and shape (begin/end are ignored). Throws Error for a
// tensor named __metadata__ or two of one name.
struct SafetensorsLayout {
  std::vector<uint8_t> header;
  std::vector<TensorInfo> tensors;  // in data order, with their offsets in the data section
  uint64_t data_size = 0;
};
SafetensorsLayout layout_safetensors(std::vector<TensorInfo> tensors, const std::map<std::string, std::string>& metadata);

// The complete file as bytes (header padded with spaces to 8 bytes).
std::vector<uint8_t> serialize_safetensors(const NamedTensors& tensors,
                                           const std::map<std::string, std::string>& metadata);

// Writes atomically to a file, or to stdout for "-".
void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata);

}  // namespace invkit::io
