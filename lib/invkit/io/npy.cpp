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

// A .npy file's header, read from its first bytes (`bytes` holds at least
// the whole header): the array's dtype, order and shape, where its data
// starts and how many bytes the shape needs.
struct NpyLayout {
  NpyHeader header;
  DtypeInfo dtype;
  size_t data_at = 0;
  uint64_t nbytes = 0;
};

// Where a .npy file's header dict starts and how long it is, from the
// file's first 12 bytes (10 for version 1), after checking its magic and
// version.
std::pair<size_t, size_t> npy_header_span(std::string_view bytes, const std::string& source) {
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
  return {offset, header_len};
}

NpyLayout parse_npy_header(std::string_view bytes, const std::string& source) {
  const auto [offset, header_len] = npy_header_span(bytes, source);
  if (header_len > bytes.size() - offset)
    throw Error(source + ": .npy header length " + std::to_string(header_len) + " runs past the end of the file");
  NpyLayout l;
  l.header = HeaderParser(std::string(bytes.substr(offset, header_len)), source).parse();
  l.dtype = dtype_of(l.header.descr, source);

  // NumPy's own rule (PyArray_NewFromDescr): the non-zero dimensions times
  // the item size fit in its index type, int64, even when a zero dimension
  // makes the array empty. (A product cut short by a leading zero let
  // (0, 2, 2^40, 2^40) through; in Fortran order LibTorch gets the
  // dimensions reversed and throws "Storage size calculation overflowed".)
  uint64_t nonzero = l.dtype.size;
  bool empty = false;
  for (int64_t d : l.header.shape) {
    if (d == 0) {
      empty = true;
      continue;
    }
    const auto next = checked_mul(nonzero, static_cast<uint64_t>(d));
    if (!next)
      throw Error(source + ": array shape " + shape_text(l.header.shape) + " of '" + l.header.descr +
                  "' overflows its byte size");
    nonzero = *next;
  }
  l.nbytes = empty ? 0 : nonzero;
  l.data_at = offset + header_len;
  return l;
}

// The data bytes there are (`have`: "the file has N") must be the ones the shape needs.
void check_data_size(const NpyLayout& l, uint64_t have, const std::string& source,
                     const std::string& have_text = "the file has") {
  if (have != l.nbytes)
    throw Error(source + ": array " + shape_text(l.header.shape) + " of '" + l.header.descr + "' needs " +
                std::to_string(l.nbytes) + " data bytes but " + have_text + " " + std::to_string(have));
}

}  // namespace

torch::Tensor parse_npy(std::string_view bytes, const std::string& source, const std::shared_ptr<const void>& owner) {
  const NpyLayout l = parse_npy_header(bytes, source);
  const NpyHeader& h = l.header;
  const DtypeInfo& dt = l.dtype;
  const size_t data_at = l.data_at;
  const uint64_t nbytes = l.nbytes;
  check_data_size(l, bytes.size() - data_at, source);

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

#ifdef INVKIT_HAVE_LIBZIP
namespace {

using Archive = std::unique_ptr<zip_t, decltype(&zip_discard)>;
using Member = std::unique_ptr<zip_file_t, decltype(&zip_fclose)>;

Archive open_archive(const std::string& path) {
  int code = 0;
  Archive archive(zip_open(path.c_str(), ZIP_RDONLY, &code), &zip_discard);
  if (!archive) {
    zip_error_t err;
    zip_error_init_with_code(&err, code);
    std::string what = zip_error_strerror(&err);
    zip_error_fini(&err);
    throw Error(path + ": not a readable .npz (zip) archive: " + what);
  }
  return archive;
}

// An array of an archive: its name (the member's without ".npy"), index and
// uncompressed size (a claim of the file, checked as the member is read).
struct NpzArray {
  std::string name;
  zip_uint64_t index = 0;
  uint64_t size = 0;
};

std::vector<NpzArray> npz_arrays(zip_t* archive, const std::string& path) {
  const zip_int64_t n = zip_get_num_entries(archive, 0);
  std::vector<NpzArray> arrays;
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
        !(st.valid & ZIP_STAT_SIZE))
      throw Error(path + ": cannot read zip entry " + std::to_string(i) + ": " + zip_strerror(archive));
    const std::string name = st.name;
    if (!name.empty() && name.back() == '/') continue;  // a folder entry
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0)
      throw Error(path + ": member " + name + " is not a .npy array (np.savez writes only NAME.npy members)");
    if (st.size > static_cast<zip_uint64_t>(std::numeric_limits<int64_t>::max()))
      throw Error(path + ": member " + name + ": its size " + std::to_string(st.size) + " is too large");
    arrays.push_back({name.substr(0, name.size() - 4), static_cast<zip_uint64_t>(i), st.size});
  }
  return arrays;
}

// The array `key` of an archive ("" = its only one), as read_numpy_array says.
NpzArray choose_array(zip_t* archive, const std::string& path, const std::string& key) {
  const auto arrays = npz_arrays(archive, path);
  if (arrays.empty()) throw Error(path + ": the .npz archive holds no arrays");
  std::string names;
  for (const auto& a : arrays) names += (names.empty() ? "" : ", ") + a.name;
  if (key.empty()) {
    if (arrays.size() > 1) throw UsageError(path + " holds several arrays (" + names + "): say which with a key");
    return arrays[0];
  }
  for (const auto& a : arrays)
    if (a.name == key) return a;
  throw Error(path + ": no array \"" + key + "\" (it holds " + names + ")");
}

Member open_member(zip_t* archive, const NpzArray& a, const std::string& where) {
  Member file(zip_fopen_index(archive, a.index, 0), &zip_fclose);
  if (!file) throw Error(where + ": cannot open: " + zip_strerror(archive));
  return file;
}

// Reads up to `n` bytes of a member (fewer only at its end).
uint64_t read_member(zip_file_t* file, char* dst, uint64_t n, const std::string& where) {
  uint64_t got = 0;
  while (got < n) {
    const zip_int64_t r = zip_fread(file, dst + got, n - got);
    if (r < 0) throw Error(where + ": cannot read: " + zip_file_strerror(file));
    if (r == 0) break;
    got += static_cast<uint64_t>(r);
  }
  return got;
}

// A member's bytes, whole. Its zip entry's size is a claim of the file: the
// buffer grows with what the member really holds (one more byte than claimed
// shows a longer member).
std::string read_whole_member(zip_t* archive, const NpzArray& a, const std::string& where) {
  Member file = open_member(archive, a, where);
  std::string bytes;
  char chunk[1 << 16];
  for (;;) {
    const uint64_t r = read_member(file.get(), chunk, sizeof chunk, where);
    bytes.append(chunk, r);
    if (r < sizeof chunk || bytes.size() > a.size) break;
  }
  if (bytes.size() > a.size)
    throw Error(where + ": holds more than the " + std::to_string(a.size) + " bytes its zip entry says");
  if (bytes.size() < a.size)
    throw Error(where + ": holds " + std::to_string(bytes.size()) + " bytes but its zip entry says " +
                std::to_string(a.size));
  return bytes;
}

torch::Tensor read_array(zip_t* archive, const NpzArray& a, const std::string& path) {
  return parse_npy(read_whole_member(archive, a, path + ": member " + a.name + ".npy"),
                   path + " (" + a.name + ".npy)");
}

}  // namespace
#endif

#ifndef INVKIT_HAVE_LIBZIP
namespace {

[[noreturn]] void no_libzip(const std::string& path) {
  throw Error(path + ": this build of invkit has no libzip, so .npz archives cannot be read (.npy files can); "
              "install libzip-dev and rebuild");
}

}  // namespace
#endif

std::vector<std::pair<std::string, torch::Tensor>> read_npz(const std::string& path) {
#ifndef INVKIT_HAVE_LIBZIP
  no_libzip(path);
#else
  Archive archive = open_archive(path);
  std::vector<std::pair<std::string, torch::Tensor>> arrays;
  for (const auto& a : npz_arrays(archive.get(), path)) arrays.emplace_back(a.name, read_array(archive.get(), a, path));
  return arrays;
#endif
}

bool is_npy(const std::string& path) {
  char head[6] = {};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  in.read(head, sizeof head);
  return in.gcount() == 6 && std::memcmp(head, "\x93NUMPY", 6) == 0;
}

torch::Tensor read_numpy_array(const std::string& path, const std::string& key) {
  if (is_npy(path)) {
    if (!key.empty()) throw UsageError(path + " is a .npy file (one array): it has no key \"" + key + "\"");
    return read_npy(path);
  }
#ifndef INVKIT_HAVE_LIBZIP
  no_libzip(path);
#else
  Archive archive = open_archive(path);
  return read_array(archive.get(), choose_array(archive.get(), path, key), path);
#endif
}

struct NpzRowReader::Impl {
#ifdef INVKIT_HAVE_LIBZIP
  Archive archive{nullptr, &zip_discard};
  Member file{nullptr, &zip_fclose};
#endif
  std::string where;
  std::vector<int64_t> shape;
  bool streamable = false;
  int64_t row_bytes = 0, rows_left = 0;
};

NpzRowReader::NpzRowReader(const std::string& path, const std::string& key) : impl_(std::make_unique<Impl>()) {
#ifndef INVKIT_HAVE_LIBZIP
  (void)key;
  no_libzip(path);
#else
  Impl& m = *impl_;
  m.archive = open_archive(path);
  const NpzArray a = choose_array(m.archive.get(), path, key);
  m.where = path + ": member " + a.name + ".npy";
  m.file = open_member(m.archive.get(), a, m.where);
  // The header: its first 12 bytes say how long it is (version 1: 10).
  std::string head(12, '\0');
  head.resize(read_member(m.file.get(), head.data(), head.size(), m.where));
  const auto [offset, header_len] = npy_header_span(head, m.where);
  const uint64_t header_end = uint64_t{offset} + header_len;
  if (header_end > a.size)
    throw Error(m.where + ": .npy header length " + std::to_string(header_len) + " runs past the end of the member");
  if (header_end > head.size()) {
    const size_t have = head.size();
    head.resize(header_end);
    head.resize(have + read_member(m.file.get(), head.data() + have, header_end - have, m.where));
  }
  const NpyLayout l = parse_npy_header(head, m.where);  // data_at == header_end <= a.size, checked above
  check_data_size(l, a.size - l.data_at, m.where, "its zip entry says");
  m.shape = l.header.shape;
  m.streamable = l.dtype.read_as == torch::kByte && !m.shape.empty() &&
                 !(l.header.fortran_order && m.shape.size() > 1);
  if (m.streamable) {
    m.rows_left = m.shape[0];
    m.row_bytes = m.shape[0] > 0 ? static_cast<int64_t>(l.nbytes) / m.shape[0] : 0;
  }
#endif
}

NpzRowReader::~NpzRowReader() = default;

const std::vector<int64_t>& NpzRowReader::shape() const { return impl_->shape; }

bool NpzRowReader::streamable() const { return impl_->streamable; }

torch::Tensor NpzRowReader::read(int64_t rows) {
  Impl& m = *impl_;
  if (!m.streamable) throw std::logic_error("NpzRowReader::read on an array that is not uint8 in C order");
  std::vector<int64_t> dims = m.shape;
  dims[0] = std::min(std::max<int64_t>(rows, 0), m.rows_left);
  torch::Tensor t = torch::empty(dims, torch::kByte);
#ifdef INVKIT_HAVE_LIBZIP
  const uint64_t want = static_cast<uint64_t>(dims[0] * m.row_bytes);
  const uint64_t got = read_member(m.file.get(), static_cast<char*>(t.data_ptr()), want, m.where);
  if (got < want)
    throw Error(m.where + ": ends " + std::to_string(want - got) + " bytes before the end of the data its header says");
  m.rows_left -= dims[0];
  if (m.rows_left == 0) {
    // Read to the end: libzip checks the member's CRC there.
    char extra = 0;
    if (read_member(m.file.get(), &extra, 1, m.where) != 0)
      throw Error(m.where + ": holds more bytes than its .npy header and zip entry say");
  }
#endif
  return t;
}

torch::Tensor images_to_nchw(const torch::Tensor& images, const std::string& layout) {
  if (layout == "nhw") return images.unsqueeze(1);
  return layout == "nhwc" ? images.permute({0, 3, 1, 2}) : images;
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
    how = "nhw";
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
  } else {
    throw Error(images_source + ": images " + shape(images) + " must be [N, H, W] or [N, H, W, C] / [N, C, H, W]");
  }
  out.layout = how;
  out.images = images_to_nchw(images, how);
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
