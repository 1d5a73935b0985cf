// Whole-file input (file or "-" for stdin, pipes included) and atomic output
// (FILE.tmp, fsync, rename; or stdout for "-").
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace invkit::io {

// strerror(errno): why the last system call failed, for messages.
std::string errno_text();

// A printable name for a path in messages: "-" reads as "<stdin>"/"<stdout>".
std::string input_name(const std::string& path);
std::string output_name(const std::string& path);

// Reads all bytes of a file or of stdin ("-"). Throws Error naming the file.
std::vector<uint8_t> read_all(const std::string& path);

// A regular file mapped into memory, private and writable (a change made in
// place through a view stays in this process's copy of the page, never
// reaches the file); the mapping lives as long as `owner` or a copy of it.
struct MappedFile {
  std::shared_ptr<const void> owner;
  const uint8_t* data = nullptr;
  size_t size = 0;
};
// Maps PATH; nullopt for "-", a file that is not regular (a FIFO, a device),
// one shorter than `min_size` bytes or one that cannot be opened or mapped
// (the caller reads it whole instead, with read_all's errors).
std::optional<MappedFile> map_file(const std::string& path, size_t min_size = 1);
// Tells the kernel that the `bytes` at `data` (in a mapping) will be read in
// random order (madvise MADV_RANDOM): a page fault then reads that page, not
// the read-ahead window around it, which for a set larger than memory would
// read many times the rows a batch takes. A hint: failure changes nothing.
void advise_random_access(const void* data, size_t bytes);

// Reads a file that may be gzip-compressed (detected by its magic bytes).
// A corrupt or truncated gzip stream is an Error naming the file.
std::vector<uint8_t> read_maybe_gzip(const std::string& path);

// True when `bytes` start with the gzip magic bytes 1f 8b.
bool is_gzip(const std::vector<uint8_t>& bytes);

// Every member of a gzip file, concatenated (as gzip -d reads what
// `cat a.gz b.gz`, pigz and bgzip write). A corrupt or truncated member, or
// bytes after a member that are not another member, are an Error naming
// `source`.
std::vector<uint8_t> gunzip(const std::vector<uint8_t>& raw, const std::string& source);

// Throws UsageError when path is "-" and stdout is a terminal.
void refuse_binary_to_terminal(const std::string& path);

// Writes to PATH.tmp and renames it to PATH on commit(); a writer destroyed
// before commit() removes its temporary file, so failures leave nothing.
// For "-" it writes to stdout; a path that names a device or a FIFO
// (/dev/null, /dev/stdout) is written in place.
class AtomicWriter {
 public:
  explicit AtomicWriter(std::string path);
  ~AtomicWriter();
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;

  void write(const void* data, size_t size);
  // A temporary regular file can be written out of order: skip() leaves a
  // gap of `size` bytes (read as zeros until filled) and write_at() fills
  // bytes at an offset from the file's start. stdout, devices and FIFOs
  // cannot (seekable() is false; both calls then throw Error).
  bool seekable() const { return !tmp_.empty(); }
  void skip(size_t size);
  void write_at(uint64_t offset, const void* data, size_t size);
  void commit();

 private:
  std::string path_;
  std::string tmp_;
  int fd_ = -1;
  bool in_place_ = false;  // a device or FIFO, written directly
  bool committed_ = false;
};

// Writes a whole buffer atomically.
void write_all(const std::string& path, const void* data, size_t size);

// Removes PATH and, for a folder, everything under it (symbolic links are
// removed, never followed); a PATH that does not exist is no error. Returns
// false when something could not be removed. This replaces
// std::filesystem::remove_all, which crashes in builds against PyPI's LibTorch
// 2.x: libtorch.so exports its own, broken, copy of that function.
bool remove_tree(const std::string& path) noexcept;

}  // namespace invkit::io
