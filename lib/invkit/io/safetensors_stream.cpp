#include "invkit/io/safetensors_stream.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "invkit/error.h"
#include "invkit/io/file.h"

namespace invkit::io {

namespace {

// Reads up to `size` bytes (fewer only at the end of the input); at `offset`
// with pread when offset >= 0, else at the current position.
uint64_t read_fully(int fd, void* dst, uint64_t size, int64_t offset, const std::string& source) {
  auto* p = static_cast<char*>(dst);
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = offset >= 0 ? ::pread(fd, p + done, size - done, static_cast<off_t>(offset + done))
                            : ::read(fd, p + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(source + ": read failed: " + errno_text());
    if (n == 0) break;
    done += static_cast<uint64_t>(n);
  }
  return done;
}

}  // namespace

SafetensorsStream::SafetensorsStream(const std::string& path) : source_(input_name(path)) {
  if (path == "-") {
    fd_ = STDIN_FILENO;
  } else {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(source_ + ": cannot open: " + errno_text());
    own_fd_ = true;
  }
  struct stat info {};
  seekable_ = ::fstat(fd_, &info) == 0 && S_ISREG(info.st_mode);
  const int64_t at = seekable_ ? 0 : -1;
  std::vector<uint8_t> head(8);
  const uint64_t got = read_fully(fd_, head.data(), 8, at, source_);
  uint64_t n = 0;
  for (int i = 7; i >= 0 && got == 8; --i) n = (n << 8) | head[i];
  // The length rules (at most 100,000,000; within the file) are checked by
  // the parser; a pipe's header is read only up to that bound.
  if (got == 8 && n <= 100000000 && (!seekable_ || n <= static_cast<uint64_t>(info.st_size) - 8)) {
    head.resize(8 + n);
    head.resize(8 + read_fully(fd_, head.data() + 8, n, seekable_ ? 8 : -1, source_));
  } else {
    head.resize(got);
  }
  // A pipe's length is unknown: its data section is checked as it is read.
  const uint64_t file_size = seekable_ ? static_cast<uint64_t>(info.st_size) : head.size();
  header_ = parse_safetensors_header(head.data(), head.size(), source_, file_size);
  data_start_ = 8 + header_.header_size;
  if (seekable_) check_data_size(header_, file_size - data_start_, source_);
}

SafetensorsStream::~SafetensorsStream() {
  if (own_fd_) ::close(fd_);
}

const TensorInfo* SafetensorsStream::find(const std::string& name) const {
  for (const auto& t : header_.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

void SafetensorsStream::skip_to(uint64_t offset) {
  std::vector<char> skip(1 << 16);
  while (position_ < offset) {
    const uint64_t want = std::min<uint64_t>(skip.size(), offset - position_);
    const uint64_t got = read_fully(fd_, skip.data(), want, -1, source_);
    position_ += got;
    if (got < want) check_data_size(header_, position_, source_);  // names the tensor cut short
  }
}

void SafetensorsStream::read(uint64_t offset, void* dst, uint64_t size) {
  if (seekable_) {
    if (read_fully(fd_, dst, size, static_cast<int64_t>(data_start_ + offset), source_) != size)
      throw Error(source_ + ": the file got shorter while it was read");
    return;
  }
  if (offset < position_)
    throw Error(source_ + ": internal: a pipe read at data offset " + std::to_string(offset) + " after " +
                std::to_string(position_));
  skip_to(offset);
  const uint64_t got = read_fully(fd_, dst, size, -1, source_);
  position_ += got;
  if (got < size) check_data_size(header_, position_, source_);  // names the tensor cut short
}

torch::Tensor SafetensorsStream::tensor(const std::string& name) {
  const TensorInfo* t = find(name);
  if (!t) throw Error(source_ + ": has no tensor \"" + name + "\"");
  const uint64_t size = t->end - t->begin;
  constexpr uint64_t kStep = uint64_t(1) << 26;
  if (seekable_ || size <= kStep) {  // a file's length was checked against the header at open
    torch::Tensor out = empty_tensor(*t);
    read(t->begin, out.data_ptr(), size);
    return out;
  }
  // A pipe may end long before what its header claims: read in steps, so
  // that a short input is refused before the claimed size is allocated.
  std::vector<uint8_t> bytes;
  for (uint64_t done = 0; done < size; done += kStep) {
    const uint64_t n = std::min(kStep, size - done);
    bytes.resize(done + n);
    read(t->begin + done, bytes.data() + done, n);
  }
  torch::Tensor out = empty_tensor(*t);
  std::memcpy(out.data_ptr(), bytes.data(), size);
  return out;
}

void SafetensorsStream::finish() {
  if (seekable_) return;
  skip_to(header_.data_size);
  char extra = 0;
  if (read_fully(fd_, &extra, 1, -1, source_) != 0)
    throw Error(source_ + ": not a valid safetensors file: data section is longer than the " +
                std::to_string(header_.data_size) + " bytes the tensors cover");
}

}  // namespace invkit::io
