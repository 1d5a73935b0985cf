// A safetensors file read front to back, for the tools that go through a
// data set once: the header is read and checked first (the same rules as
// Safetensors::read), then tensor bytes are read as they are asked for.
// A regular file is read with pread at any offset, so memory holds what was
// asked for and nothing else; standard input ("-") and FIFOs are read in
// order: a read may skip forward but never go back.
#pragma once
#include <cstdint>
#include <string>

#include "invkit/io/safetensors.h"

namespace at {
class Tensor;
}

namespace invkit::io {

class SafetensorsStream {
 public:
  // Opens a file, or stdin for "-", and reads its header. Errors name it.
  explicit SafetensorsStream(const std::string& path);
  ~SafetensorsStream();
  SafetensorsStream(const SafetensorsStream&) = delete;
  SafetensorsStream& operator=(const SafetensorsStream&) = delete;

  const SafetensorsHeader& header() const { return header_; }
  const TensorInfo* find(const std::string& name) const;
  const std::string& source() const { return source_; }
  // True when any offset can be read (a regular file); else offsets must not go back.
  bool seekable() const { return seekable_; }

  // `size` bytes at `offset` in the data section into `dst`. Throws Error
  // for a pipe asked to go back, and when the input ends before them
  // ("truncated file?", as Safetensors::read says it).
  void read(uint64_t offset, void* dst, uint64_t size);
  // A whole tensor, copied into a CPU tensor of its dtype and shape. Throws
  // Error if absent.
  at::Tensor tensor(const std::string& name);
  // For a pipe: reads to the end of the data section and checks that the
  // input ends there (nothing after the last tensor). A file was checked
  // against its length when it was opened.
  void finish();

 private:
  // For a pipe: reads past the data up to `offset` (an Error when the input ends first).
  void skip_to(uint64_t offset);

  std::string source_;
  int fd_ = -1;
  bool own_fd_ = false;
  bool seekable_ = false;
  uint64_t data_start_ = 0;  // file offset of the data section
  uint64_t position_ = 0;    // for a pipe: the next data byte to be read
  SafetensorsHeader header_;
};

}  // namespace invkit::io
