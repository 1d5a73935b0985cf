#include "invkit/random.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

namespace invkit {

namespace {

// splitmix64's finalizer alone (without the increment).
uint64_t finalize(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

uint64_t Rng::next() {
  const uint64_t x = splitmix64(state_);
  state_ += 0x9e3779b97f4a7c15ULL;
  return x;
}

uint64_t Rng::below(uint64_t n) {
  // Reject the few values that would make x % n favour small numbers.
  const uint64_t threshold = (0 - n) % n;
  for (;;) {
    uint64_t x = next();
    if (x >= threshold) return x % n;
  }
}

uint64_t selection_seed(uint64_t seed, SelectionStream stream, uint64_t sub) {
  return finalize(finalize(seed ^ finalize(static_cast<uint64_t>(stream))) + 0x9e3779b97f4a7c15ULL * (sub + 1));
}

uint64_t epoch_seed(uint64_t seed, EpochStream stream, int64_t epoch) {
  return splitmix64(splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(stream)) ^ static_cast<uint64_t>(epoch));
}

uint64_t iteration_seed(uint64_t seed, IterationStream stream, int64_t iteration) {
  return splitmix64(seed ^ splitmix64(static_cast<uint64_t>(iteration) * 8 + static_cast<uint64_t>(stream)));
}

uint64_t key_seed(uint64_t seed, int64_t key) { return splitmix64(seed ^ splitmix64(static_cast<uint64_t>(key))); }

at::Tensor augment_keys(int64_t lo, int64_t hi, int64_t samples) {
  auto rows = torch::arange(lo, hi, torch::kLong).view({-1, 1}) * (samples + 1);
  return (rows + torch::arange(1, samples + 1, torch::kLong).view({1, -1})).view({-1});
}

at::Tensor ekld_keys(int64_t lo, int64_t hi, int64_t draws) {
  return torch::arange(lo * draws, hi * draws, torch::kLong);
}

at::Generator cpu_generator(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

}  // namespace invkit
