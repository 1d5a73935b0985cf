#include "invkit/io/npy.h"

#ifdef INVKIT_HAVE_LIBZIP
#include <zip.h>
#endif

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>

#include "invkit/error.h"
#include "invkit/io/checked.h"
#include "invkit/io/file.h"

namespace invkit::io {

namespace {

// The header dict: {'descr': '<u1', 'fortran_order': False, 'shape': (2, 3), }
struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
  bool has_descr = false, has_order = false, has_shape = false;
};

class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& source) : s_(text), source_(source) {}

  NpyHeader parse() {
    NpyHeader h;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = quoted();
      expect(':');
      skip_space();
      if (key == "descr") {
        h.descr = quoted();
        h.has_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        h.has_order = true;
      } else if (key == "shape") {
        h.shape = tuple();
        h.has_shape = true;
      } else {
        throw fail("unexpected key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') ++i_;
    }
    if (!h.has_descr || !h.has_order || !h.has_shape) throw fail("it needs 'descr', 'fortran_order' and 'shape'");
    return h;
  }

 private:
  Error fail(const std::string& what) const {
    return Error(source_ + ": not a NumPy .npy header (" + what + " at byte " + std::to_string(i_) + " of the header)");
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) throw fail(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string quoted() {
    skip_space();
    const char q = peek();
    if (q != '\'' && q != '"') throw fail("expected a quoted string");
    const size_t end = s_.find(q, i_ + 1);
    if (end == std::string::npos) throw fail("unterminated string");
    std::string out = s_.substr(i_ + 1, end - i_ - 1);
    i_ = end + 1;
    return out;
  }
  bool boolean() {
    if (s_.compare(i_, 4, "True") == 0) return i_ += 4, true;
    if (s_.compare(i_, 5, "False") == 0) return i_ += 5, false;
    throw fail("expected True or False");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> dims;
    expect('(');
    while (true) {
      skip_space();
      if (peek() == ')') break;
      if (peek() < '0' || peek() > '9') throw fail("expected a dimension");
      uint64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (v > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - 9) / 10) throw fail("dimension too large");
        v = v * 10 + static_cast<uint64_t>(s_[i_++] - '0');
      }
      if (peek() == 'L') ++i_;  // Python 2 longs
      dims.push_back(static_cast<int64_t>(v));
      skip_space();
      if (peek() == ',') ++i_;
      else if (peek() != ')') throw fail("expected ',' or ')'");
    }
    ++i_;
    return dims;
  }

  const std::string& s_;
  const std::string& source_;
  size_t i_ = 0;
};

struct DtypeInfo {
  torch::ScalarType read_as;  // the type the bytes are read as
  size_t size = 0;
  bool big_endian = false;
  char kind = 0;  // 'u', 'i', 'b', 'f'
};

DtypeInfo dtype_of(const std::string& descr, const std::string& source) {
  auto bad = [&] {
    return Error(source + ": array dtype '" + descr +
                 "' is not supported (integers, bool, float32 and float64 are; not objects, strings or records)");
  };
  if (descr.size() < 3) throw bad();
  const char order = descr[0], kind = descr[1];
  const std::string digits = descr.substr(2);
  if (order != '<' && order != '>' && order != '|' && order != '=') throw bad();
  if (digits != "1" && digits != "2" && digits != "4" && digits != "8") throw bad();
  DtypeInfo d;
  d.size = static_cast<size_t>(digits[0] - '0');
  d.big_endian = order == '>' && d.size > 1;
  d.kind = kind;
  if (kind == 'u' && d.size == 1) d.read_as = torch::kByte;
  else if (kind == 'i' && d.size == 1) d.read_as = torch::kChar;
  else if (kind == 'b' && d.size == 1) d.read_as = torch::kBool;
  else if ((kind == 'i' || kind == 'u') && d.size == 2) d.read_as = torch::kShort;
  else if ((kind == 'i' || kind == 'u') && d.size == 4) d.read_as = torch::kInt;
  else if ((kind == 'i' || kind == 'u') && d.size == 8) d.read_as = torch::kLong;
  else if (kind == 'f' && d.size == 4) d.read_as = torch::kFloat;
  else if (kind == 'f' && d.size == 8) d.read_as = torch::kDouble;
  else throw bad();
  return d;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string t = "(";
  for (size_t i = 0; i < shape.size(); ++i) t += (i ? ", " : "") + std::to_string(shape[i]);
  return t + ")";
}

// Unsigned values read into the signed type of the same width, widened.
torch::Tensor widen_unsigned(const torch::Tensor& t, size_t size, const std::string& source) {
  if (size == 2) return t.to(torch::kInt).bitwise_and(0xFFFF);
  if (size == 4) return t.to(torch::kLong).bitwise_and(int64_t{0xFFFFFFFF});
  // uint64: a value above INT64_MAX reads as negative.
  if (t.numel() > 0 && t.min().item<int64_t>() < 0)
    throw Error(source + ": a uint64 value is larger than 2^63 - 1, which int64 cannot hold");
  return t;
}

}  // namespace

torch::Tensor parse_npy(std::string_view bytes, const std::string& source, const std::shared_ptr<const void>& owner) {
  static const char magic[] = "\x93NUMPY";
  if (bytes.size() < 10 || bytes.compare(0, 6, magic, 6) != 0)
    throw Error(source + ": not a NumPy .npy file (no \\x93NUMPY magic)");
  const auto major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw Error(source + ": .npy header is cut short");
    for (int k = 3; k >= 0; --k) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[8 + k]);
    offset = 12;
  } else {
    throw Error(source + ": .npy format version " + std::to_string(major) + " is not supported (1, 2 and 3 are)");
  }
  if (header_len > bytes.size() - offset)
    throw Error(source + ": .npy header length " + std::to_string(header_len) + " runs past the end of the file");
  const std::string header_text(bytes.substr(offset, header_len));
  NpyHeader h = HeaderParser(header_text, source).parse();
  const DtypeInfo dt = dtype_of(h.descr, source);

  // NumPy's own rule (PyArray_NewFromDescr): the non-zero dimensions times
  // the item size fit in its index type, int64, even when a zero dimension
  // makes the array empty. (A product cut short by a leading zero let
  // (0, 2, 2^40, 2^40) through; in Fortran order LibTorch gets the
  // dimensions reversed and throws "Storage size calculation overflowed".)
  uint64_t nonzero = dt.size;
  bool empty = false;
  for (int64_t d : h.shape) {
    if (d == 0) {
      empty = true;
      continue;
    }
    const auto next = checked_mul(nonzero, static_cast<uint64_t>(d));
    if (!next) throw Error(source + ": array shape " + shape_text(h.shape) + " of '" + h.descr + "' overflows its byte size");
    nonzero = *next;
  }
  const uint64_t nbytes = empty ? 0 : nonzero;
  const size_t data_at = offset + header_len;
  const uint64_t have = bytes.size() - data_at;
  if (have != nbytes)
    throw Error(source + ": array " + shape_text(h.shape) + " of '" + h.descr + "' needs " + std::to_string(nbytes) +
                " data bytes but the file has " + std::to_string(have));

  std::vector<int64_t> dims = h.shape;
  if (h.fortran_order) std::reverse(dims.begin(), dims.end());
  const auto options = torch::TensorOptions().dtype(dt.read_as);
  // The bytes as they are, in C order and a type LibTorch has: a view of the mapping.
  const bool as_is = (dt.size == 1 || !dt.big_endian) && !(dt.kind == 'u' && dt.size > 1) &&
                     !(h.fortran_order && dims.size() > 1);
  const auto address = reinterpret_cast<uintptr_t>(bytes.data() + data_at);
  if (owner && as_is && nbytes > 0 && address % dt.size == 0)
    return torch::from_blob(const_cast<char*>(bytes.data() + data_at), dims, [owner](void*) {}, options);
  torch::Tensor t = torch::empty(dims, options);
  if (nbytes > 0) {
    auto* dst = static_cast<char*>(t.data_ptr());
    std::memcpy(dst, bytes.data() + data_at, nbytes);
    if (dt.big_endian)
      for (uint64_t i = 0; i < nbytes; i += dt.size) std::reverse(dst + i, dst + i + dt.size);
  }
  if (dt.kind == 'u' && dt.size > 1) t = widen_unsigned(t, dt.size, source);
  if (h.fortran_order && t.dim() > 1) {
    std::vector<int64_t> perm(t.dim());
    for (int64_t i = 0; i < t.dim(); ++i) perm[i] = t.dim() - 1 - i;
    t = t.permute(perm).contiguous();
  }
  return t;
}

torch::Tensor read_npy(const std::string& path) {
  if (auto mapped = map_file(path))
    return parse_npy(std::string_view(reinterpret_cast<const char*>(mapped->data), mapped->size), path,
                     mapped->owner);
  const std::vector<uint8_t> bytes = read_all(path);
  return parse_npy(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
}

std::vector<std::pair<std::string, torch::Tensor>> read_npz(const std::string& path) {
#ifndef INVKIT_HAVE_LIBZIP
  throw Error(path + ": this build of invkit has no libzip, so .npz archives cannot be read (.npy files can); "
              "install libzip-dev and rebuild");
#else
  int code = 0;
  std::unique_ptr<zip_t, decltype(&zip_discard)> archive(zip_open(path.c_str(), ZIP_RDONLY, &code), &zip_discard);
  if (!archive) {
    zip_error_t err;
    zip_error_init_with_code(&err, code);
    std::string what = zip_error_strerror(&err);
    zip_error_fini(&err);
    throw Error(path + ": not a readable .npz (zip) archive: " + what);
  }
  const zip_int64_t n = zip_get_num_entries(archive.get(), 0);
  std::vector<std::pair<std::string, torch::Tensor>> arrays;
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
        !(st.valid & ZIP_STAT_SIZE))
      throw Error(path + ": cannot read zip entry " + std::to_string(i) + ": " + zip_strerror(archive.get()));
    const std::string name = st.name;
    if (!name.empty() && name.back() == '/') continue;  // a folder entry
    const std::string where = path + ": member " + name;
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0)
      throw Error(where + " is not a .npy array (np.savez writes only NAME.npy members)");
    if (st.size > static_cast<zip_uint64_t>(std::numeric_limits<int64_t>::max()))
      throw Error(where + ": its size " + std::to_string(st.size) + " is too large");
    std::unique_ptr<zip_file_t, decltype(&zip_fclose)> file(zip_fopen_index(archive.get(), static_cast<zip_uint64_t>(i), 0),
                                                           &zip_fclose);
    if (!file) throw Error(where + ": cannot open: " + zip_strerror(archive.get()));
    // The entry's size is a claim of the file: the buffer grows with what the
    // member really holds (one more byte than claimed shows a longer member).
    std::string bytes;
    char chunk[1 << 16];
    for (;;) {
      const zip_int64_t r = zip_fread(file.get(), chunk, sizeof chunk);
      if (r < 0) throw Error(where + ": cannot read: " + zip_file_strerror(file.get()));
      if (r == 0) break;
      bytes.append(chunk, static_cast<size_t>(r));
      if (bytes.size() > st.size) break;
    }
    if (bytes.size() > st.size)
      throw Error(where + ": holds more than the " + std::to_string(st.size) + " bytes its zip entry says");
    if (bytes.size() < st.size)
      throw Error(where + ": holds " + std::to_string(bytes.size()) + " bytes but its zip entry says " +
                  std::to_string(st.size));
    arrays.emplace_back(name.substr(0, name.size() - 4), parse_npy(bytes, path + " (" + name + ")"));
  }
  return arrays;
#endif
}

torch::Tensor read_numpy_array(const std::string& path, const std::string& key) {
  char head[6] = {};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  in.read(head, sizeof head);
  if (in.gcount() == 6 && std::memcmp(head, "\x93NUMPY", 6) == 0) {
    if (!key.empty()) throw UsageError(path + " is a .npy file (one array): it has no key \"" + key + "\"");
    return read_npy(path);
  }
  auto arrays = read_npz(path);
  if (arrays.empty()) throw Error(path + ": the .npz archive holds no arrays");
  std::string names;
  for (const auto& [name, t] : arrays) names += (names.empty() ? "" : ", ") + name;
  if (key.empty()) {
    if (arrays.size() > 1) throw UsageError(path + " holds several arrays (" + names + "): say which with a key");
    return arrays[0].second;
  }
  for (auto& [name, t] : arrays)
    if (name == key) return t;
  throw Error(path + ": no array \"" + key + "\" (it holds " + names + ")");
}

NumpyImageSet numpy_image_set(const torch::Tensor& images, const std::string& images_source,
                              const torch::Tensor& labels, const std::string& labels_source,
                              const std::string& layout) {
  auto shape = [](const torch::Tensor& t) {
    return shape_text(std::vector<int64_t>(t.sizes().begin(), t.sizes().end()));
  };
  if (!layout.empty() && layout != "nhw" && layout != "nhwc" && layout != "nchw")
    throw UsageError(param("layout") + " " + layout + ": expected nhw, nhwc or nchw");
  if (images.scalar_type() != torch::kByte)
    throw Error(images_source + ": images are " + std::string(c10::toString(images.scalar_type())) +
                ", expected uint8 (0..255); convert them in NumPy first, e.g. (x * 255).round().astype(np.uint8)");
  NumpyImageSet out;
  std::string how = layout;
  if (images.dim() == 3) {
    if (!how.empty() && how != "nhw") throw Error(images_source + ": images " + shape(images) + " are 3-D, not " + how);
    out.images = images.unsqueeze(1);
  } else if (images.dim() == 4) {
    const auto is_channels = [](int64_t c) { return c == 1 || c == 3; };
    if (how.empty()) {
      const bool last = is_channels(images.size(3)), first = is_channels(images.size(1));
      if (last == first)
        throw UsageError(images_source + ": images " + shape(images) +
                         " could be channels-last or channels-first: give " + param("layout") + " nhwc or " +
                         param("layout") + " nchw");
      how = last ? "nhwc" : "nchw";
    }
    if (how == "nhw") throw Error(images_source + ": images " + shape(images) + " are 4-D, not nhw");
    out.images = how == "nhwc" ? images.permute({0, 3, 1, 2}) : images;
  } else {
    throw Error(images_source + ": images " + shape(images) + " must be [N, H, W] or [N, H, W, C] / [N, C, H, W]");
  }
  if (out.images.size(1) < 1 || out.images.size(2) < 1 || out.images.size(3) < 1)
    throw Error(images_source + ": images " + shape(images) + " have an empty dimension");
  const auto lt = labels.scalar_type();
  if (lt == torch::kFloat || lt == torch::kDouble || lt == torch::kBool)
    throw Error(labels_source + ": labels are " + std::string(c10::toString(lt)) + ", expected integers");
  if (!(labels.dim() == 1 || (labels.dim() == 2 && labels.size(1) == 1)))
    throw Error(labels_source + ": labels " + shape(labels) + " must be [N] or [N, 1]");
  out.labels = labels.reshape({-1}).to(torch::kLong);
  if (out.labels.size(0) != out.images.size(0))
    throw Error(labels_source + ": " + std::to_string(out.labels.size(0)) + " labels for " +
                std::to_string(out.images.size(0)) + " images in " + images_source);
  if (out.labels.numel() > 0 && out.labels.min().item<int64_t>() < 0) {
    const int64_t row = (out.labels < 0).nonzero()[0][0].item<int64_t>();
    throw Error(labels_source + ": label " + std::to_string(out.labels[row].item<int64_t>()) + " at row " +
                std::to_string(row) + " is negative");
  }
  return out;
}

}  // namespace invkit::io
