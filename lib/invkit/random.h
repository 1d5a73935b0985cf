// Every seeded draw in invkit starts here: the mixing function, the streams
// and the seed of each stream. Each formula is fixed: changing one changes the
// data, orders, augmentations and initial weights of every experiment run with
// a given --seed, so test/unit/random_test.cpp pins their values (a change
// must fail a test and be stated).
//
// Two kinds of draws:
//  * sequential (Rng): resample's selections (long tails, subsets, splits);
//  * keyed: a value is a hash of (seed, stream, key, draw number), so what an
//    image, an epoch or an iteration draws depends on its key alone, never on
//    batch size, shard, thread, resume point or order of evaluation. Training
//    loops turn a keyed seed into a LibTorch CPU generator (cpu_generator);
//    the transforms draw straight from the hash (Draws).
#pragma once
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cmath>
#include <cstdint>

namespace invkit {

// splitmix64's step and finalizer (Steele, Lea & Flood 2014): a bijective
// mix with good avalanche, so hash chains give independent-looking streams.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A small portable sequential stream (splitmix64): the same seed gives the same
// draws with every compiler and library, unlike std::uniform_int_distribution.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  uint64_t below(uint64_t n);  // uniform in [0, n), unbiased by rejection; n > 0

 private:
  uint64_t state_;
};

// ---------------------------------------------------------------- streams
// Independent streams, so that changing one draw leaves the others as they
// were. The numbers are part of the formulas below: never renumber.

// resample's selections (data/sampling, data/longtail); `sub` is the class.
enum class SelectionStream : uint64_t { class_order = 1, subset = 2, split = 3, repeat = 4 };
uint64_t selection_seed(uint64_t seed, SelectionStream stream, uint64_t sub = 0);

// train-classifier, one seed per stream and epoch (a resumed run draws what
// an uninterrupted one does).
enum class EpochStream : uint64_t { order = 1, flip = 2, augment = 3, twin = 4, keep = 5, style = 6 };
uint64_t epoch_seed(uint64_t seed, EpochStream stream, int64_t epoch);

// train-generator, one seed per stream and iteration (the data order stream
// is keyed by data epoch instead).
enum class IterationStream : uint64_t { style = 1, balanced = 2, data_epoch = 3, flip = 4 };
uint64_t iteration_seed(uint64_t seed, IterationStream stream, int64_t iteration);

// The style code of the image with key `key` when a generator is sampled
// (augment --generator, GIT, measure-ekld --generator).
uint64_t key_seed(uint64_t seed, int64_t key);

// The seed of the style codes train-generator's sample grids show: fixed for
// a run, so that every grid shows the same styles.
inline uint64_t sample_grid_seed(uint64_t seed) { return seed ^ 0x5a5a5a5aULL; }

// Model initialisation: the tools seed LibTorch's default generator with
// --seed itself (cli/tool.cpp), so initial weights follow from the seed.

// A LibTorch CPU generator seeded with `seed` (its mt19937 draws are
// LibTorch's; invkit's formulas end at the seed).
at::Generator cpu_generator(uint64_t seed);

// ---------------------------------------------------------------- keys
// Which key an image's draws use (Draws below, key_seed above). Each tool
// keeps its own rule, since changing one would change every data set or
// measurement made with it:
//  * augment: sample s (1..K) of input row i has key i*(K+1) + s (the key
//    i*(K+1) is the original's place in the output), whatever the shard or
//    batch;
//  * measure-ekld: draw s (0..S-1) of held-out image m has key m*S + s;
//  * train-classifier (--augment, GIT): a row's position in the epoch's order,
//    with the epoch's seed.

// int64 [(hi - lo) * samples]: the augment keys of samples 1..K of rows [lo, hi), row-major.
at::Tensor augment_keys(int64_t lo, int64_t hi, int64_t samples);
// int64 [(hi - lo) * draws]: the measure-ekld keys of draws 0..S-1 of images [lo, hi), row-major.
at::Tensor ekld_keys(int64_t lo, int64_t hi, int64_t draws);

// ---------------------------------------------------------------- keyed draws
// The draws of one image (key) for one transform operation (stream; numbered
// by the transform spec), by random access: value n is a hash of (seed, key,
// stream, n).
class Draws {
 public:
  Draws(uint64_t seed, int64_t key, uint64_t stream)
      : base_(splitmix64(splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(key)) ^
                         (stream * 0xd1b54a32d192ed03ULL))) {}

  // The n-th 64-bit value of this stream.
  uint64_t bits(uint64_t n) const { return splitmix64(base_ ^ splitmix64(n + 0x632be59bd9b4e019ULL)); }
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
  // Standard normal (Box-Muller on uniforms 2n and 2n+1; 1 - u avoids log(0)).
  double normal_at(uint64_t n) const {
    double u1 = 1.0 - uniform_at(2 * n), u2 = uniform_at(2 * n + 1);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t base_;
  uint64_t next_ = 0;
};

}  // namespace invkit
