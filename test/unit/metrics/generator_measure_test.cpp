// The generator measurement on a synthetic set whose true transform is
// known: a decoder reads the rotations it was trained on; the identity
// "generator" is far from rotate(-180,180); true samples passed off as
// generated are as close as two true samples are.
#include "invkit/metrics/generator_measure.h"

#include <gtest/gtest.h>

#include <cmath>

#include "invkit/metrics/transform_decoding.h"
#include "invkit/random.h"

using namespace invkit::metrics;
namespace it = invkit::transforms;

namespace {

// n pointers on 16x16: a bar from the centre to the right edge with a blob
// at its tip, each turned by a random angle.
torch::Tensor pointers(int64_t n, uint64_t seed) {
  auto x = torch::zeros({n, 1, 16, 16}, torch::kByte);
  x.slice(2, 7, 9).slice(3, 8, 15).fill_(200);
  x.slice(2, 5, 11).slice(3, 12, 15).fill_(255);
  return it::parse_transform("rotate(-180,180)")->apply(x, seed, torch::arange(n, torch::kLong));
}

TransformDecoder rotation_decoder(const it::Transform& rotate) {
  torch::manual_seed(0);
  DecoderTraining opt;
  opt.steps = 150;
  opt.batch = 32;
  opt.seed = 1;
  return TransformDecoder(rotate, pointers(256, 9), opt, torch::kCPU);
}

}  // namespace

// The decoder reads a rotation from (x, rotate(x)) far better than chance,
// and the measurement tells the identity from the true transform.
TEST(GeneratorMeasure, SeparatesIdentityFromTheTrueTransform) {
  auto rotate = it::parse_transform("rotate(-180,180)");
  auto decoder = rotation_decoder(*rotate);
  auto x = pointers(64, 21);
  torch::Tensor params;
  auto y = rotate->apply(x, 5, torch::arange(64, torch::kLong), &params);
  auto acc = decoding_accuracy(decoder.columns(), decoder.decode(x, y), params);
  const double error = acc[0]["error"].get<double>(), chance = acc[0]["chance"].get<double>();
  EXPECT_GT(chance, 70);
  EXPECT_LT(error, 30) << "chance " << chance;

  HeldOut held{x, torch::arange(64, torch::kLong).remainder(4), {"a", "b", "c", "d"}, {500, 100, 30, 5}};
  GeneratorMeasureOptions opt;
  opt.samples = 8;
  opt.shots = {200, 20};
  opt.sweep = {0.0, 1.0};
  opt.seed = 3;
  auto logits_of = [](const torch::Tensor& images) {  // a fixed random linear classifier
    auto w = torch::randn({256, 4}, invkit::cpu_generator(4));
    return images.to(torch::kFloat).flatten(1).matmul(w) / 400;
  };
  auto identity = [](const torch::Tensor& images, const torch::Tensor&, double) { return images.clone(); };
  auto fake = [&](const torch::Tensor& images, const torch::Tensor& keys, double temperature) {
    // True draws passed off as generated, with another seed; the temperature
    // scales the angle as it scales a style code.
    torch::Tensor p;
    auto scaled = it::parse_transform("rotate(" + std::to_string(-180 * temperature) + "," +
                                      std::to_string(180 * temperature) + ")");
    return scaled->apply(images, 77, keys, &p);
  };
  auto id = measure_generator(held, *rotate, identity, decoder, logits_of, opt).json;
  auto real = measure_generator(held, *rotate, fake, decoder, logits_of, opt).json;
  const double d_id = id["distance"]["generated"]["overall"]["rotate.angle"].get<double>();
  const double d_real = real["distance"]["generated"]["overall"]["rotate.angle"].get<double>();
  const double floor = real["distance"]["floor"]["overall"]["rotate.angle"].get<double>();
  EXPECT_GT(d_id, 50);
  EXPECT_LT(d_real, 2 * floor + 5) << "floor " << floor;
  EXPECT_LT(floor, 25);
  // Groups: class a (500) is many-shot, b and c medium, d (5) few-shot.
  EXPECT_EQ(id["distance"]["generated"]["groups"]["few"]["rotate.angle"], id["classes"][3]["generated"]["rotate.angle"]);
  ASSERT_EQ(id["classes"].size(), 4u);
  EXPECT_EQ(id["classes"][0]["images"], 16);
  // eKLD: the identity changes nothing (eKLD 0), the fake agrees with T.
  EXPECT_EQ(id["ekld_agreement"]["mean_ratio"].get<double>(), 0);
  EXPECT_NEAR(real["ekld_agreement"]["mean_ratio"].get<double>(), 1, 0.35);
  EXPECT_EQ(id["fidelity"]["accuracy_true"], real["fidelity"]["accuracy_true"]);
  // The sweep: at t = 0 the fake gives x itself (no diversity); at 1, as much as T.
  ASSERT_EQ(real["temperatures"].size(), 2u);
  EXPECT_EQ(real["temperatures"][0]["diversity"].get<double>(), 0);
  EXPECT_NEAR(real["temperatures"][1]["diversity"].get<double>(), 1, 0.2);
  EXPECT_GT(real["temperatures"][0]["distance"]["rotate.angle"].get<double>(), 50);
}
