// The one 64-bit mixing function every seeded draw in invkit hashes with.
#pragma once
#include <cstdint>

namespace invkit {

// splitmix64's step and finalizer: a bijective mix with good avalanche, so
// hash(seed, key, ...) chains give independent-looking streams.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace invkit
