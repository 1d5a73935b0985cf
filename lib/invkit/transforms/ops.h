// The operations a spec may name, one record each: its name, arguments,
// recorded parameters, preset, example and sentence, its argument check, and
// how it runs (draw and apply). Adding an operation is adding its record to the
// table in ops.cpp (and its kernel to geometric, pixel, morphology or
// elastic); the parser and the pipeline know operations only through these
// records.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "invkit/random.h"
#include "invkit/transforms/geometric.h"

namespace invkit::transforms {

using Args = std::vector<double>;  // an operation's numbers, as written in the spec

// Where one image's drawn parameters go: column i of the op's columns of the
// image's params row (nothing when params are not recorded).
struct Params {
  float* row = nullptr;
  void set(size_t i, double v) const {
    if (row) row[i] = static_cast<float>(v);
  }
};

// One image on the CPU, uint8 [C, H, W] contiguous, in the hands of one
// thread. An op leaves its result in `pixels`: written in place, or written
// to `spare` (same size) and the two pointers swapped. `scratch` is the
// thread's, for the op to resize and use.
struct Image {
  uint8_t* pixels;
  uint8_t* spare;
  int64_t channels, height, width;
  std::vector<float>& scratch;
  int64_t bytes() const { return channels * height * width; }
};

// A geometric op: draws one image's map from input to output positions
// (Affine's conventions: pixels, about the image centre) from `draws`,
// writing its recorded parameters to `params`. Adjacent geometric ops compose
// into one map, and the image is resampled once.
struct Geometric {
  Affine (*map)(const Args& args, Draws& draws, double height, double width, Params params);
  // Whether it asks for the interpolation written in the spec (interp=,
  // bicubic by default); flips are exact under any and ask for none.
  bool interpolates = true;
};

// Any other op: draws one value per image (a level, factor, kernel size or
// 0/1 flag; null: none, the value is 0), then applies it.
struct PerImage {
  double (*draw)(const Args& args, Draws& draws, Params params);
  // One image on the CPU; `draws` is the image's stream, after `draw`.
  void (*image)(const Args& args, double value, const Draws& draws, Image& image);
  // The same for a batch with tensor ops on the images' device: images uint8
  // [N, C, H, W], values float64 [N] on the CPU; returns uint8 [N, C, H, W].
  // Null: the batch goes through `image` on the CPU (and back).
  torch::Tensor (*tensor)(const torch::Tensor& images, const torch::Tensor& values) = nullptr;
};

struct Op {
  std::string name;
  std::vector<std::string> args;    // argument names, in order (the arity)
  std::vector<std::string> params;  // the columns it records per image (NAME.PARAM)
  std::string preset;               // the spec a bare name stands for ("" = none)
  std::string example;              // a spec that uses it, with typical arguments (docs, tests)
  std::string about;                // one sentence for docs and help
  // What is wrong with `args` (finite, of the right count), or "" if nothing.
  std::string (*check)(const Args& args) = nullptr;
  // How it runs; monostate: it does nothing itself (identity, a preset).
  std::variant<std::monostate, Geometric, PerImage> run = std::monostate{};
};

// The operation called `name`, or null.
const Op* find_op(const std::string& name);
// Every operation, in documentation order.
const std::vector<Op>& all_ops();
// Comma-separated names, for "unknown operation" messages.
std::string op_names();
// Empty if `args` (as many as op.args) suit `op`, else what is wrong with them.
std::string check_args(const Op& op, const Args& args);

}  // namespace invkit::transforms
