// NumPy arrays: `.npy` files and `.npz` archives (a zip of .npy members, as
// np.savez and np.savez_compressed write them), read into tensors. The
// format is NumPy's NEP 1 ("A Simple File Format for NumPy Arrays"): the
// magic "\x93NUMPY", a version byte pair (1.0: 2-byte header length; 2.0 and
// 3.0: 4-byte), then a Python dict literal with 'descr' (the dtype, e.g.
// '|u1', '<i8'), 'fortran_order' and 'shape', then the raw data. Zip members
// are read with libzip (stored or deflated).
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace invkit::io {

// Reads a .npy file's bytes (`bytes`, named `source` in errors) into a CPU
// tensor of the same shape: integer dtypes of 1, 2, 4 and 8 bytes (either
// byte order; uint16/32/64 become int32/int64/int64 after a range check, since
// LibTorch has no wider unsigned types), bool, float32 and float64.
// Fortran-ordered arrays are returned in C order. Errors name `source` and
// what is wrong: a bad magic or version, a header that is not the dict NumPy
// writes, an unsupported dtype (object arrays, strings, structured dtypes),
// a shape whose size overflows, data shorter or longer than the shape says.
// With `owner` (what keeps `bytes` alive: a mapped file), an array whose
// bytes need no conversion (1-byte items, or little-endian ones of a type
// LibTorch has, in C order) is a view of `bytes`, not a copy.
torch::Tensor parse_npy(std::string_view bytes, const std::string& source,
                        const std::shared_ptr<const void>& owner = {});

// Reads a .npy file: a regular file is mapped (io/file.h's map_file) and an
// array that needs no conversion is a view of the mapping, read from the
// page cache as it is used; anything else (stdin, a FIFO) is read whole.
torch::Tensor read_npy(const std::string& path);

// The arrays of a .npz archive in archive order, named as NumPy names them
// (the member name without ".npy": "arr_0", or the keyword np.savez was
// given). A file that is not a zip archive, or a member that is not a .npy
// file, is an Error naming the file and the member.
std::vector<std::pair<std::string, torch::Tensor>> read_npz(const std::string& path);

// Whether `path` starts as a .npy file does (NumPy's magic), rather than as a
// .npz archive. Error if it cannot be opened.
bool is_npy(const std::string& path);

// A .npz archive's or .npy file's array `key`: for a .npy file the key must
// be empty; for a .npz file an empty key means the only array in it (more
// than one is an Error listing their names). Only that member of an archive
// is decompressed.
torch::Tensor read_numpy_array(const std::string& path, const std::string& key);

// A .npz archive's array `key` (as read_numpy_array chooses it) read a block
// of rows (its first dimension) at a time, decompressed as it is read, so
// that an array larger than memory can be converted. Opening reads and
// checks the member's .npy header (the errors of parse_npy, and a zip entry
// whose size is not what the shape needs). Rows can be read when the array
// is uint8 in C order (streamable(): np.savez of an image array); other
// arrays are read whole with read_numpy_array.
class NpzRowReader {
 public:
  NpzRowReader(const std::string& path, const std::string& key);
  ~NpzRowReader();
  NpzRowReader(const NpzRowReader&) = delete;
  NpzRowReader& operator=(const NpzRowReader&) = delete;

  const std::vector<int64_t>& shape() const;  // the array's, as its header says
  bool streamable() const;

  // The next `rows` rows, uint8 [min(rows, rows left), shape[1:]...]. Error
  // when the member ends before its header's shape does, or (after the last
  // row) holds more, or fails its zip CRC check.
  torch::Tensor read(int64_t rows);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Images and labels from NumPy arrays, as a data set holds them.
struct NumpyImageSet {
  torch::Tensor images;  // uint8 [N, C, H, W], a view of the array (channels-last is permuted, not copied)
  torch::Tensor labels;  // int64 [N]
  std::string layout;    // the array's: "nhw", "nhwc" or "nchw"
};

// A view of uint8 `images` in `layout` ("nhw", "nhwc", "nchw") as [N, C, H, W].
torch::Tensor images_to_nchw(const torch::Tensor& images, const std::string& layout);

// `images` must be uint8, [N, H, W] (gray) or 4-D in `layout`: "nhwc"
// (channels last, as NumPy image arrays usually are) or "nchw"; "" guesses
// from the shape (channels last when the last dimension is 1 or 3 and the
// second is not, channels first in the opposite case) and otherwise is a
// UsageError asking for --layout. `labels` must be integers, [N] or [N, 1],
// not negative, as many as images. Errors name the source of the array.
// `images` may be a meta tensor (its shape and dtype only), for arrays read
// later a block of rows at a time (NpzRowReader).
NumpyImageSet numpy_image_set(const torch::Tensor& images, const std::string& images_source,
                              const torch::Tensor& labels, const std::string& labels_source,
                              const std::string& layout);

}  // namespace invkit::io
