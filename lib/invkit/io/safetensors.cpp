#include "invkit/io/safetensors.h"

#include <torch/torch.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "invkit/error.h"
#include "invkit/io/checked.h"
#include "invkit/io/file.h"
#include "invkit/io/text.h"

namespace invkit::io {

namespace {

struct DTypeRow {
  DType dtype;
  const char* name;
  size_t size;
  torch::ScalarType scalar;
};

const DTypeRow kDTypes[] = {
    {DType::BOOL, "BOOL", 1, torch::kBool},   {DType::U8, "U8", 1, torch::kByte},
    {DType::I8, "I8", 1, torch::kChar},       {DType::I16, "I16", 2, torch::kShort},
    {DType::F16, "F16", 2, torch::kHalf},     {DType::BF16, "BF16", 2, torch::kBFloat16},
    {DType::I32, "I32", 4, torch::kInt},      {DType::F32, "F32", 4, torch::kFloat},
    {DType::F64, "F64", 8, torch::kDouble},   {DType::I64, "I64", 8, torch::kLong},
};

const DTypeRow& row(DType d) {
  for (const auto& r : kDTypes)
    if (r.dtype == d) return r;
  throw Error("internal: unknown dtype");
}

DType dtype_of(torch::ScalarType s) {
  for (const auto& r : kDTypes)
    if (r.scalar == s) return r.dtype;
  throw Error(std::string("cannot store tensors of type ") + c10::toString(s));
}

// Python's safetensors orders tensors by its Dtype enum, descending; this is
// that enum's order for the dtypes we support.
int python_rank(DType d) {
  switch (d) {
    case DType::BOOL: return 0;
    case DType::U8: return 1;
    case DType::I8: return 2;
    case DType::I16: return 3;
    case DType::F16: return 4;
    case DType::BF16: return 5;
    case DType::I32: return 6;
    case DType::F32: return 7;
    case DType::F64: return 8;
    case DType::I64: return 9;
  }
  return 0;
}

// Header length, beyond which Python's safetensors refuses a file too.
constexpr uint64_t kMaxHeader = 100'000'000;

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

std::string dtype_name(DType d) { return row(d).name; }
size_t dtype_size(DType d) { return row(d).size; }

DType dtype_from_name(const std::string& name) {
  for (const auto& r : kDTypes)
    if (name == r.name) return r.dtype;
  throw Error("unknown dtype \"" + name + "\"");
}

namespace {

// The dtypes of the reference implementation that invkit does not read:
// refused by name, not as unknown.
const char* const kOtherReferenceDTypes[] = {"F4",      "F6_E2M3",     "F6_E3M2",     "F8_E5M2", "F8_E4M3", "F8_E8M0",
                                             "F8_E4M3FNUZ", "F8_E5M2FNUZ", "U16", "U32",     "C64",     "U64"};

std::string supported_dtypes() {
  std::string s;
  for (const auto& r : kDTypes) s += (s.empty() ? "" : ", ") + std::string(r.name);
  return s;
}

}  // namespace

SafetensorsHeader parse_safetensors_header(const uint8_t* data, size_t size, const std::string& source,
                                           uint64_t file_size) {
  if (file_size == 0) file_size = size;
  auto fail = [&](const std::string& what) { return Error(source + ": not a valid safetensors file: " + what); };
  // Rule: the 8-byte little-endian header length N is there (HeaderTooSmall).
  if (file_size == 0) throw fail("empty input");
  if (file_size < 8 || size < 8) throw fail("truncated: " + std::to_string(file_size) + " bytes, need at least 8");
  const uint64_t n = read_u64_le(data);
  // Rule: N is at most 100,000,000 (HeaderTooLarge).
  if (n > kMaxHeader) throw fail("header length " + std::to_string(n) + " is too large (at most 100000000)");
  // Rule: the N header bytes are in the file (InvalidHeaderLength).
  if (n > file_size - 8)
    throw fail("header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(file_size) +
               " bytes)");
  if (n > size - 8) throw Error(source + ": internal: header not read whole");
  const std::string_view text(reinterpret_cast<const char*>(data + 8), n);
  // Rule: the header is UTF-8 (InvalidHeader).
  const size_t bad = invalid_utf8_offset(text);
  if (bad != std::string::npos)
    throw fail("header is not valid UTF-8 (byte 0x" + hex_byte(static_cast<unsigned char>(text[bad])) +
               " at header offset " + std::to_string(bad) + ")");
  // Rule: a JSON object, starting with '{' after any JSON whitespace (the
  // reference reads leading and trailing padding; a byte-order mark is no
  // JSON whitespace), parsed strictly: no duplicate keys, nothing after it
  // but whitespace (InvalidHeaderDeserialization).
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{') throw fail("header does not start with '{'");
  const nlohmann::json header = parse_json_strict(text, source + ": not a valid safetensors file: header");
  if (!header.is_object()) throw fail("header is not a JSON object");

  SafetensorsHeader out;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& key = it.key();
    const auto& v = it.value();
    if (key == "__metadata__") {
      // Rule: __metadata__ maps strings to strings (null: none).
      if (v.is_null()) continue;
      if (!v.is_object()) throw fail("__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) throw fail("__metadata__[\"" + m.key() + "\"] is not a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    // Rule: every other entry is a tensor {dtype, shape, data_offsets}.
    const std::string where = "tensor \"" + key + "\": ";
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      throw fail(where + "needs dtype, shape and data_offsets");
    TensorInfo t;
    t.name = key;
    // Rule: dtype is one the format knows (unknown variant).
    if (!v["dtype"].is_string()) throw fail(where + "dtype is not a string");
    const std::string dtype = v["dtype"].get<std::string>();
    try {
      t.dtype = dtype_from_name(dtype);
    } catch (const Error& e) {
      for (const char* other : kOtherReferenceDTypes)
        if (dtype == other)
          throw fail(where + "dtype " + dtype + " is not supported by invkit (it reads " + supported_dtypes() + ")");
      throw fail(where + e.what());
    }
    // Rule: shape is a list of non-negative integers (usize).
    if (!v["shape"].is_array()) throw fail(where + "shape is not an array");
    std::vector<uint64_t> dims;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) throw fail(where + "shape has an entry that is not a non-negative integer");
      dims.push_back(d.get<uint64_t>());
    }
    // Rule: data_offsets is two non-negative integers [begin, end].
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw fail(where + "data_offsets must be two non-negative integers");
    t.begin = off[0].get<uint64_t>();
    t.end = off[1].get<uint64_t>();
    // Rule: end >= begin (InvalidOffset).
    if (t.begin > t.end)
      throw fail(where + "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "] are reversed");
    // Rule: the element count and byte size, multiplied with overflow checks
    // (ValidationOverflow). invkit's limit is LibTorch's: int64 sizes, for
    // each dimension too (a zero elsewhere lets any dimension through the product).
    for (uint64_t d : dims)
      if (d > kMaxTensorBytes)
        throw fail(where + "shape " + shape_text(dims) + " has a dimension above " + std::to_string(kMaxTensorBytes));
    const auto nbytes = checked_product(dims, dtype_size(t.dtype));
    if (!nbytes)
      throw fail(where + "shape " + shape_text(dims) + " of " + dtype +
                 " overflows: its size in bytes does not fit in " + std::to_string(kMaxTensorBytes));
    // Rule: the size equals end - begin (TensorInvalidInfo).
    if (t.end - t.begin != *nbytes)
      throw fail(where + "shape x dtype is " + std::to_string(*nbytes) + " bytes but data_offsets span " +
                 std::to_string(t.end - t.begin));
    for (uint64_t d : dims) t.shape.push_back(static_cast<int64_t>(d));
    out.tensors.push_back(std::move(t));
  }
  // Rule: sorted by data_offsets, the tensors tile the data section from 0:
  // no gaps, no overlap (InvalidOffset).
  std::sort(out.tensors.begin(), out.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  for (const auto& t : out.tensors) {
    if (t.begin < expected) throw fail("tensor \"" + t.name + "\" overlaps the tensor before it");
    if (t.begin > expected) throw fail("gap in the data before tensor \"" + t.name + "\"");
    expected = t.end;
  }
  out.header_size = n;
  out.data_size = expected;
  return out;
}

Safetensors Safetensors::from(std::shared_ptr<const void> owner, const uint8_t* base, size_t size, bool mapped,
                              const std::string& source) {
  SafetensorsHeader h = parse_safetensors_header(base, size, source);
  // Rule: the tensors end exactly where the file does (MetadataIncompleteBuffer).
  check_data_size(h, size - 8 - h.header_size, source);
  Safetensors st;
  st.source_ = source;
  st.owner_ = std::move(owner);
  st.base_ = base;
  st.mapped_ = mapped;
  st.data_start_ = 8 + h.header_size;
  st.metadata_ = std::move(h.metadata);
  st.tensors_ = std::move(h.tensors);
  return st;
}

Safetensors Safetensors::parse(std::vector<uint8_t> bytes, const std::string& source) {
  auto owner = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  return from(owner, owner->data(), owner->size(), false, source);
}

void check_data_size(const SafetensorsHeader& h, uint64_t data_size, const std::string& source) {
  auto fail = [&](const std::string& what) { return Error(source + ": not a valid safetensors file: " + what); };
  for (const TensorInfo& t : h.tensors)  // the first that runs past the data: where the file was cut
    if (t.end > data_size)
      throw fail("tensor \"" + t.name + "\": data_offsets end " + std::to_string(t.end) + " is past the data (" +
                 std::to_string(data_size) + " bytes): truncated file?");
  if (h.data_size < data_size)
    throw fail("data section is " + std::to_string(data_size) + " bytes but the tensors cover " +
               std::to_string(h.data_size));
}

SafetensorsHeader read_safetensors_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const auto end = in.tellg();
  in.seekg(0, std::ios::beg);
  if (end < 0 || !in) throw Error(path + ": cannot read its length (not a regular file?)");
  const uint64_t file_size = static_cast<uint64_t>(end);
  std::vector<uint8_t> head(std::min<uint64_t>(file_size, 8));
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  if (head.size() == 8) {
    const uint64_t n = read_u64_le(head.data());
    if (n <= kMaxHeader && n <= file_size - 8) {
      head.resize(8 + n);
      in.read(reinterpret_cast<char*>(head.data() + 8), static_cast<std::streamsize>(n));
    }
  }
  if (!in) throw Error(path + ": read failed");
  SafetensorsHeader h = parse_safetensors_header(head.data(), head.size(), path, file_size);
  check_data_size(h, file_size - 8 - h.header_size, path);
  return h;
}

Safetensors Safetensors::read(const std::string& path) {
  // Not a regular file (a FIFO, a device), or too small to map: read it whole.
  auto mapped = map_file(path, 8);
  if (!mapped) return parse(read_all(path), input_name(path));
  return from(std::move(mapped->owner), mapped->data, mapped->size, true, input_name(path));
}

const TensorInfo* Safetensors::find(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

torch::Tensor empty_tensor(const TensorInfo& t) {
  return torch::empty(t.shape, torch::TensorOptions().dtype(row(t.dtype).scalar));
}

torch::Tensor Safetensors::tensor(const std::string& name) const {
  const TensorInfo* t = find(name);
  if (!t) throw Error(source_ + ": has no tensor \"" + name + "\"");
  torch::Tensor out = empty_tensor(*t);
  if (t->end > t->begin) std::memcpy(out.data_ptr(), data(*t), t->end - t->begin);
  return out;
}

torch::Tensor Safetensors::view(const std::string& name) const {
  const TensorInfo* t = find(name);
  if (!t) throw Error(source_ + ": has no tensor \"" + name + "\"");
  auto options = torch::TensorOptions().dtype(row(t->dtype).scalar);
  const auto address = reinterpret_cast<uintptr_t>(data(*t));
  if (!mapped_ || t->end == t->begin || address % options.dtype().itemsize() != 0) return tensor(name);
  std::shared_ptr<const void> owner = owner_;
  return torch::from_blob(const_cast<uint8_t*>(data(*t)), t->shape, [owner](void*) {}, options);
}

SafetensorsLayout layout_safetensors(std::vector<TensorInfo> tensors,
                                     const std::map<std::string, std::string>& metadata) {
  for (const auto& t : tensors)
    if (t.name == "__metadata__") throw Error("a tensor cannot be named __metadata__");
  std::stable_sort(tensors.begin(), tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    int ra = python_rank(a.dtype), rb = python_rank(b.dtype);
    return ra != rb ? ra > rb : a.name < b.name;
  });
  for (size_t i = 1; i < tensors.size(); ++i)
    if (tensors[i].name == tensors[i - 1].name) throw Error("two tensors named \"" + tensors[i].name + "\"");

  // Built by hand to keep Python's key order: __metadata__ first, then the
  // tensors in data order, each as dtype, shape, data_offsets.
  std::string h = "{";
  if (!metadata.empty()) {
    h += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      if (!first) h += ",";
      first = false;
      h += dump_json(k) + ":" + dump_json(v);
    }
    h += "}";
  }
  SafetensorsLayout out;
  size_t offset = 0;
  for (auto& t : tensors) {
    size_t nbytes = dtype_size(t.dtype);
    for (int64_t d : t.shape) nbytes *= static_cast<size_t>(d);
    if (h.size() > 1) h += ",";
    h += dump_json(t.name) + ":{\"dtype\":\"" + dtype_name(t.dtype) + "\",\"shape\":[";
    for (size_t d = 0; d < t.shape.size(); ++d) h += (d ? "," : "") + std::to_string(t.shape[d]);
    h += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + nbytes) + "]}";
    t.begin = offset;
    t.end = offset += nbytes;
  }
  h += "}";
  h.append((8 - h.size() % 8) % 8, ' ');
  out.header.resize(8 + h.size());
  const uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out.header[i] = static_cast<uint8_t>(n >> (8 * i));
  std::memcpy(out.header.data() + 8, h.data(), h.size());
  out.tensors = std::move(tensors);
  out.data_size = offset;
  return out;
}

std::vector<uint8_t> serialize_safetensors(const NamedTensors& tensors,
                                           const std::map<std::string, std::string>& metadata) {
  std::map<std::string, torch::Tensor> by_name;
  std::vector<TensorInfo> infos;
  for (const auto& [name, t] : tensors) {
    if (!t.defined()) throw Error("tensor \"" + name + "\" is undefined");
    auto c = t.to(torch::kCPU).contiguous();
    infos.push_back({name, dtype_of(c.scalar_type()), c.sizes().vec()});
    by_name[name] = c;
  }
  SafetensorsLayout layout = layout_safetensors(std::move(infos), metadata);
  std::vector<uint8_t> out(layout.header.size() + layout.data_size);
  std::memcpy(out.data(), layout.header.data(), layout.header.size());
  uint8_t* p = out.data() + layout.header.size();
  for (const auto& t : layout.tensors)
    if (t.end > t.begin) std::memcpy(p + t.begin, by_name[t.name].data_ptr(), t.end - t.begin);
  return out;
}

void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<uint8_t> bytes = serialize_safetensors(tensors, metadata);
  write_all(path, bytes.data(), bytes.size());
}

}  // namespace invkit::io
