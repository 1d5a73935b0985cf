// Size arithmetic that cannot wrap. Every reader multiplies a file's
// dimensions by an element size through these before it allocates, indexes
// or compares: a product that overflows is an Error, never a small number.
#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace invkit::io {

// The largest element count or byte size a tensor may have: LibTorch indexes
// with int64_t.
constexpr uint64_t kMaxTensorBytes = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// a * b, or nullopt when the product does not fit in `limit`.
inline std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b, uint64_t limit = kMaxTensorBytes) {
  uint64_t p = 0;
  if (__builtin_mul_overflow(a, b, &p) || p > limit) return std::nullopt;
  return p;
}

// dims[0] * dims[1] * ... * elem_size, multiplied left to right (as the
// safetensors reference does: a partial product that overflows is an
// overflow even when a later dimension is 0), or nullopt when any partial
// product exceeds `limit`.
inline std::optional<uint64_t> checked_product(const std::vector<uint64_t>& dims, uint64_t elem_size,
                                               uint64_t limit = kMaxTensorBytes) {
  uint64_t p = 1;
  for (uint64_t d : dims) {
    auto next = checked_mul(p, d, limit);
    if (!next) return std::nullopt;
    p = *next;
  }
  return checked_mul(p, elem_size, limit);
}

// "[2, 3, 4]": a shape for messages.
inline std::string shape_text(const std::vector<uint64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

}  // namespace invkit::io
