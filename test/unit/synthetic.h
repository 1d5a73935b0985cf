// Tiny synthetic inputs shared by the training tests: a separable 4-class
// set and a small generator configuration.
#pragma once
#include <vector>

#include "invkit/data/dataset.h"
#include "invkit/models/munit.h"
#include "invkit/random.h"
#include "invkit/train/rules.h"

namespace invkit::testing {

// Class c lights up quadrant c of a 12x12 image, over noise: separable.
// counts[c] images of class c.
inline Dataset quadrants(const std::vector<int64_t>& counts, uint64_t seed) {
  auto gen = cpu_generator(seed);
  std::vector<torch::Tensor> xs, ys;
  for (int64_t c = 0; c < 4; ++c) {
    auto x = torch::randint(0, 100, {counts[c], 1, 12, 12}, gen, torch::kLong);
    x.slice(2, (c / 2) * 6, (c / 2) * 6 + 6).slice(3, (c % 2) * 6, (c % 2) * 6 + 6) += 120;
    xs.push_back(x.to(torch::kByte));
    ys.push_back(torch::full({counts[c]}, c, torch::kLong));
  }
  Dataset d;
  d.images = torch::cat(xs);
  d.labels = torch::cat(ys);
  d.class_names = {"nw", "ne", "sw", "se"};
  return d;
}

// A MUNIT model small enough to train a few steps in a test, on 12x12.
inline models::MunitOptions tiny_munit() {
  models::MunitOptions o;
  o.height = o.width = 12;
  o.dim = 8;
  o.style_dim = 2;
  o.mlp_dim = 16;
  o.n_res = 1;
  o.dis_dim = 8;
  o.dis_layers = 2;
  return o;
}

}  // namespace invkit::testing
