#include "invkit/io/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "invkit/error.h"

namespace invkit::io {

std::string input_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }
std::string output_name(const std::string& path) { return path == "-" ? "<stdout>" : path; }

static std::string errno_text() { return std::strerror(errno); }

std::vector<uint8_t> read_all(const std::string& path) {
  int fd = path == "-" ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(input_name(path) + ": cannot open: " + errno_text());
  std::vector<uint8_t> bytes;
  size_t used = 0;
  bytes.resize(1 << 20);
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

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  std::vector<uint8_t> raw = read_all(path);
  if (raw.size() < 2 || raw[0] != 0x1f || raw[1] != 0x8b) return raw;
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw Error(input_name(path) + ": cannot start gzip decoder");
  std::vector<uint8_t> out(raw.size() * 4 + 1024);
  zs.next_in = raw.data();
  zs.avail_in = static_cast<uInt>(raw.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (zs.total_out == out.size()) out.resize(out.size() * 2);
    zs.next_out = out.data() + zs.total_out;
    zs.avail_out = static_cast<uInt>(out.size() - zs.total_out);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      std::string msg = zs.msg ? zs.msg : "error " + std::to_string(rc);
      inflateEnd(&zs);
      throw Error(input_name(path) + ": corrupt gzip data: " + msg);
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      inflateEnd(&zs);
      throw Error(input_name(path) + ": truncated gzip data");
    }
  }
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
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

}  // namespace invkit::io
