#include "invkit/io/safetensors.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "invkit/error.h"
#include "invkit/io/file.h"

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

Safetensors Safetensors::parse(std::vector<uint8_t> bytes, const std::string& source) {
  Safetensors st;
  st.source_ = source;
  auto fail = [&](const std::string& what) { return Error(source + ": not a valid safetensors file: " + what); };
  if (bytes.empty()) throw fail("empty input");
  if (bytes.size() < 8) throw fail("truncated: " + std::to_string(bytes.size()) + " bytes, need at least 8");
  uint64_t n = read_u64_le(bytes.data());
  if (n > kMaxHeader) throw fail("header length " + std::to_string(n) + " is too large");
  if (n > bytes.size() - 8)
    throw fail("header length " + std::to_string(n) + " runs past the end of the file (" +
               std::to_string(bytes.size()) + " bytes)");
  if (n < 2 || bytes[8] != '{') throw fail("header does not start with '{'");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n));
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("header is not JSON: ") + e.what());
  }
  if (!header.is_object()) throw fail("header is not a JSON object");
  st.data_start_ = 8 + n;
  const size_t data_size = bytes.size() - st.data_start_;

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& key = it.key();
    const auto& v = it.value();
    if (key == "__metadata__") {
      if (!v.is_object()) throw fail("__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) throw fail("__metadata__[\"" + m.key() + "\"] is not a string");
        st.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    std::string where = "tensor \"" + key + "\": ";
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      throw fail(where + "needs dtype, shape and data_offsets");
    TensorInfo t;
    t.name = key;
    if (!v["dtype"].is_string()) throw fail(where + "dtype is not a string");
    try {
      t.dtype = dtype_from_name(v["dtype"].get<std::string>());
    } catch (const Error& e) {
      throw fail(where + e.what());
    }
    if (!v["shape"].is_array()) throw fail(where + "shape is not an array");
    size_t count = 1;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) throw fail(where + "shape has an entry that is not a non-negative integer");
      uint64_t dim = d.get<uint64_t>();
      if (dim > 0 && count > (uint64_t(1) << 62) / dim) throw fail(where + "shape is too large");
      count *= dim;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw fail(where + "data_offsets must be two non-negative integers");
    uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    if (b > e) throw fail(where + "data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + "] are reversed");
    if (e > data_size)
      throw fail(where + "data_offsets end " + std::to_string(e) + " is past the data (" +
                 std::to_string(data_size) + " bytes): truncated file?");
    if (e - b != count * dtype_size(t.dtype))
      throw fail(where + "shape x dtype is " + std::to_string(count * dtype_size(t.dtype)) + " bytes but data_offsets span " +
                 std::to_string(e - b));
    t.begin = b;
    t.end = e;
    st.tensors_.push_back(std::move(t));
  }
  std::sort(st.tensors_.begin(), st.tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  // The data section must be covered exactly: no gaps, no overlap, nothing after.
  size_t expected = 0;
  for (const auto& t : st.tensors_) {
    if (t.begin < expected) throw fail("tensor \"" + t.name + "\" overlaps the tensor before it");
    if (t.begin > expected) throw fail("gap in the data before tensor \"" + t.name + "\"");
    expected = t.end;
  }
  if (expected != data_size)
    throw fail("data section is " + std::to_string(data_size) + " bytes but the tensors cover " + std::to_string(expected));
  st.bytes_ = std::move(bytes);
  return st;
}

Safetensors Safetensors::read(const std::string& path) { return parse(read_all(path), input_name(path)); }

const TensorInfo* Safetensors::find(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

torch::Tensor Safetensors::tensor(const std::string& name) const {
  const TensorInfo* t = find(name);
  if (!t) throw Error(source_ + ": has no tensor \"" + name + "\"");
  auto options = torch::TensorOptions().dtype(row(t->dtype).scalar);
  torch::Tensor out = torch::empty(t->shape, options);
  if (t->end > t->begin) std::memcpy(out.data_ptr(), data(*t), t->end - t->begin);
  return out;
}

std::vector<uint8_t> serialize_safetensors(const NamedTensors& tensors,
                                           const std::map<std::string, std::string>& metadata) {
  struct Item {
    std::string name;
    DType dtype;
    torch::Tensor t;
  };
  std::vector<Item> items;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__") throw Error("a tensor cannot be named __metadata__");
    if (!t.defined()) throw Error("tensor \"" + name + "\" is undefined");
    items.push_back({name, dtype_of(t.scalar_type()), t.to(torch::kCPU).contiguous()});
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    int ra = python_rank(a.dtype), rb = python_rank(b.dtype);
    return ra != rb ? ra > rb : a.name < b.name;
  });
  for (size_t i = 1; i < items.size(); ++i)
    if (items[i].name == items[i - 1].name) throw Error("two tensors named \"" + items[i].name + "\"");

  // Built by hand to keep Python's key order: __metadata__ first, then the
  // tensors in data order, each as dtype, shape, data_offsets.
  std::string h = "{";
  if (!metadata.empty()) {
    h += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      if (!first) h += ",";
      first = false;
      h += nlohmann::json(k).dump() + ":" + nlohmann::json(v).dump();
    }
    h += "}";
  }
  size_t offset = 0;
  for (const auto& it : items) {
    size_t nbytes = static_cast<size_t>(it.t.numel()) * dtype_size(it.dtype);
    if (h.size() > 1) h += ",";
    h += nlohmann::json(it.name).dump() + ":{\"dtype\":\"" + dtype_name(it.dtype) + "\",\"shape\":[";
    for (int64_t d = 0; d < it.t.dim(); ++d) h += (d ? "," : "") + std::to_string(it.t.size(d));
    h += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + nbytes) + "]}";
    offset += nbytes;
  }
  h += "}";
  h.append((8 - h.size() % 8) % 8, ' ');

  std::vector<uint8_t> out(8 + h.size() + offset);
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(n >> (8 * i));
  std::memcpy(out.data() + 8, h.data(), h.size());
  uint8_t* p = out.data() + 8 + h.size();
  for (const auto& it : items) {
    size_t nbytes = static_cast<size_t>(it.t.numel()) * dtype_size(it.dtype);
    if (nbytes) std::memcpy(p, it.t.data_ptr(), nbytes);
    p += nbytes;
  }
  return out;
}

void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<uint8_t> bytes = serialize_safetensors(tensors, metadata);
  write_all(path, bytes.data(), bytes.size());
}

}  // namespace invkit::io
