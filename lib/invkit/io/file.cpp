#include "invkit/io/file.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "invkit/error.h"

namespace invkit::io {

std::string input_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }
std::string output_name(const std::string& path) { return path == "-" ? "<stdout>" : path; }

std::string errno_text() { return std::strerror(errno); }

std::vector<uint8_t> read_all(const std::string& path) {
  int fd = path == "-" ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(input_name(path) + ": cannot open: " + errno_text());
  std::vector<uint8_t> bytes;
  size_t used = 0;
  // A regular file's length (plus one byte, to see the end in one read), else
  // 64 KiB that double: a small file costs no megabyte of zeros (an image
  // folder is many small files).
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0;
  bytes.resize(regular ? static_cast<size_t>(st.st_size) + 1 : size_t{1} << 16);
  for (;;) {
    if (used == bytes.size()) bytes.resize(bytes.size() * 2);
    ssize_t n = ::read(fd, bytes.data() + used, bytes.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string why = errno_text();
      if (fd != STDIN_FILENO) ::close(fd);
      throw Error(input_name(path) + ": read failed: " + why);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (fd != STDIN_FILENO) ::close(fd);
  bytes.resize(used);
  return bytes;
}

std::optional<MappedFile> map_file(const std::string& path, size_t min_size) {
  if (path == "-") return std::nullopt;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) || info.st_size < 0 ||
      static_cast<size_t>(info.st_size) < std::max<size_t>(min_size, 1)) {
    ::close(fd);
    return std::nullopt;
  }
  const size_t size = static_cast<size_t>(info.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return std::nullopt;
  MappedFile f;
  f.owner = std::shared_ptr<const void>(map, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
  f.data = static_cast<const uint8_t*>(map);
  f.size = size;
  return f;
}

void advise_random_access(const void* data, size_t bytes) {
  if (bytes == 0) return;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(data) & ~(page - 1);
  const auto end = reinterpret_cast<uintptr_t>(data) + bytes;
  ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_RANDOM);
}

namespace {

bool gzip_magic(const std::vector<uint8_t>& bytes, size_t at) {
  return bytes.size() - at >= 2 && bytes[at] == 0x1f && bytes[at + 1] == 0x8b;
}

// Ends a zlib stream however the decoder leaves.
struct Inflater {
  z_stream zs{};
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  explicit Inflater(const std::string& source) {
    if (inflateInit2(&zs, 16 + 15) != Z_OK) throw Error(source + ": cannot start gzip decoder");
  }
  ~Inflater() { inflateEnd(&zs); }
};

}  // namespace

bool is_gzip(const std::vector<uint8_t>& bytes) { return gzip_magic(bytes, 0); }

std::vector<uint8_t> gunzip(const std::vector<uint8_t>& raw, const std::string& source) {
  Inflater inflater(source);
  z_stream& zs = inflater.zs;
  // zlib counts in uInt: feed and drain at most this much per call, so that
  // inputs and outputs of 4 GiB and more are neither cut nor wrapped.
  constexpr size_t kChunk = std::numeric_limits<uInt>::max();
  std::vector<uint8_t> out(raw.size() * 4 + 1024);
  size_t in_pos = 0, out_pos = 0;
  int members = 0;
  for (;;) {
    // One member, to its end.
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
      if (out_pos == out.size()) out.resize(out.size() * 2);
      const size_t in_avail = std::min(raw.size() - in_pos, kChunk), out_avail = std::min(out.size() - out_pos, kChunk);
      zs.next_in = const_cast<Bytef*>(raw.data() + in_pos);
      zs.avail_in = static_cast<uInt>(in_avail);
      zs.next_out = out.data() + out_pos;
      zs.avail_out = static_cast<uInt>(out_avail);
      rc = inflate(&zs, Z_NO_FLUSH);
      in_pos += in_avail - zs.avail_in;
      out_pos += out_avail - zs.avail_out;
      if (rc == Z_STREAM_END || rc == Z_OK) continue;
      if (rc == Z_BUF_ERROR && in_pos == raw.size())
        throw Error(source + ": truncated gzip data (member " + std::to_string(members + 1) + " ends early)");
      if (rc == Z_BUF_ERROR) continue;  // the output was full: it grows above
      if (rc == Z_MEM_ERROR) throw Error(source + ": out of memory decompressing gzip data");
      std::string msg = zs.msg ? zs.msg : "error " + std::to_string(rc);
      throw Error(source + ": corrupt gzip data: " + msg + " (member " + std::to_string(members + 1) + ")");
    }
    ++members;
    if (in_pos == raw.size()) break;
    // gzip -d, pigz and bgzip read concatenated members as one stream; so do we.
    // Anything else after a member would be lost in silence: refuse it.
    if (!gzip_magic(raw, in_pos))
      throw Error(source + ": " + std::to_string(raw.size() - in_pos) + " bytes of trailing data after gzip member " +
                  std::to_string(members) + " (at byte " + std::to_string(in_pos) +
                  "), expected another gzip member or the end of the file");
    if (inflateReset(&zs) != Z_OK) throw Error(source + ": cannot restart gzip decoder");
  }
  out.resize(out_pos);
  return out;
}

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  std::vector<uint8_t> raw = read_all(path);
  if (!is_gzip(raw)) return raw;
  return gunzip(raw, input_name(path));
}

void refuse_binary_to_terminal(const std::string& path) {
  if (path == "-" && ::isatty(STDOUT_FILENO))
    throw UsageError("refusing to write binary data to a terminal; use -o FILE or a pipe");
}

AtomicWriter::AtomicWriter(std::string path) : path_(std::move(path)) {
  if (path_ == "-") {
    refuse_binary_to_terminal(path_);
    std::fflush(stdout);
    fd_ = STDOUT_FILENO;
    return;
  }
  // A device or a pipe (/dev/null, /dev/stdout, a FIFO) is written in place:
  // renaming a temporary file over it would replace the device itself.
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) throw Error(path_ + ": is a directory");
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(path_ + ": cannot open: " + errno_text());
    if (::isatty(fd_)) {
      ::close(fd_);
      fd_ = -1;
      throw UsageError(path_ + ": refusing to write binary data to a terminal");
    }
    in_place_ = true;
    return;
  }
  tmp_ = path_ + ".tmp";
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(path_ + ": cannot create: " + errno_text());
}

AtomicWriter::~AtomicWriter() {
  if (path_ == "-" || committed_) return;
  if (fd_ >= 0) ::close(fd_);
  if (!in_place_) ::unlink(tmp_.c_str());
}

void AtomicWriter::write(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(output_name(path_) + ": write failed: " + errno_text());
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void AtomicWriter::skip(size_t size) {
  if (!seekable()) throw Error(output_name(path_) + ": cannot seek (not a regular file)");
  if (::lseek(fd_, static_cast<off_t>(size), SEEK_CUR) < 0)
    throw Error(output_name(path_) + ": seek failed: " + errno_text());
}

void AtomicWriter::write_at(uint64_t offset, const void* data, size_t size) {
  if (!seekable()) throw Error(output_name(path_) + ": cannot seek (not a regular file)");
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::pwrite(fd_, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(output_name(path_) + ": write failed: " + errno_text());
    p += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<size_t>(n);
  }
}

void AtomicWriter::commit() {
  if (path_ == "-") {
    committed_ = true;
    return;
  }
  if (in_place_) {
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) throw Error(path_ + ": close failed: " + errno_text());
    committed_ = true;
    return;
  }
  if (::fsync(fd_) != 0) throw Error(path_ + ": fsync failed: " + errno_text());
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) throw Error(path_ + ": close failed: " + errno_text());
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) throw Error(path_ + ": rename failed: " + errno_text());
  committed_ = true;
}

void write_all(const std::string& path, const void* data, size_t size) {
  AtomicWriter w(path);
  w.write(data, size);
  w.commit();
}

namespace {
int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  return ::remove(path) == 0 || errno == ENOENT ? 0 : -1;
}
}  // namespace

bool remove_tree(const std::string& path) noexcept {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT;
  // Depth first (children before their folder), without following links.
  return ::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0;
}

}  // namespace invkit::io
