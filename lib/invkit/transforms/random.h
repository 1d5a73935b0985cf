// Counter-based random draws: every value is a hash of (seed, key, stream,
// draw number), so an image's draws depend only on its key, never on batch
// size, shard, thread or order of evaluation.
#pragma once
#include <cmath>
#include <cstdint>

#include "invkit/random.h"

namespace invkit::transforms {

using invkit::splitmix64;
inline uint64_t mix64(uint64_t z) { return splitmix64(z); }

// The draws of one image (key) for one operation (stream).
class Draws {
 public:
  Draws(uint64_t seed, int64_t key, uint64_t stream)
      : base_(mix64(mix64(mix64(seed) ^ static_cast<uint64_t>(key)) ^ (stream * 0xd1b54a32d192ed03ULL))) {}

  // The n-th 64-bit value of this stream (random access).
  uint64_t bits(uint64_t n) const { return mix64(base_ ^ mix64(n + 0x632be59bd9b4e019ULL)); }
  // Uniform in [0, 1), 53 bits.
  double uniform_at(uint64_t n) const { return static_cast<double>(bits(n) >> 11) * 0x1p-53; }

  double uniform() { return uniform_at(next_++); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Integer uniform in [lo, hi] (inclusive).
  int64_t integer(int64_t lo, int64_t hi) {
    auto span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(static_cast<uint64_t>(uniform() * static_cast<double>(span)) % span);
  }
  bool bernoulli(double p) { return uniform() < p; }
  // Standard normal (Box-Muller on two uniforms; 1 - u avoids log(0)).
  double normal_at(uint64_t n) const {
    double u1 = 1.0 - uniform_at(2 * n), u2 = uniform_at(2 * n + 1);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t base_;
  uint64_t next_ = 0;
};

}  // namespace invkit::transforms
