#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <string>

#include "invkit/io/safetensors.h"
#include "invkit/train/optimizers.h"

using namespace invkit::train;

TEST(Optimizers, AdamMatchesTorchOptimAdam) {
  // One step from zero state: m̂ = g, v̂ = g², so p moves by lr · g / (|g| + eps),
  // with g = grad + weight_decay · p.
  auto p = torch::tensor({1.0f, -2.0f}).set_requires_grad(true);
  Adam adam({{"p", p}}, 0.5, 0.999, 0.1);
  (p * torch::tensor({3.0f, 0.5f})).sum().backward();
  adam.step(0.01);
  EXPECT_NEAR(p[0].item<float>(), 1.0f - 0.01f * 3.1f / (3.1f + 1e-8f), 1e-6);
  EXPECT_NEAR(p[1].item<float>(), -2.0f - 0.01f * 0.3f / (0.3f + 1e-8f), 1e-6);
  EXPECT_EQ(adam.steps(), 1);
  adam.zero_grad();
  EXPECT_FALSE(p.grad().defined());
}

TEST(Optimizers, SgdFollowsPyTorchsRuleAndItsStateRoundTrips) {
  // d = g + wd*p; buf = d on the first step, momentum*buf + d after; p -= lr*buf.
  auto p = torch::tensor({1.0}, torch::kDouble).set_requires_grad(true);
  Sgd sgd({{"w", p}}, 0.9, 0.5);
  (p * 2.0).sum().backward();  // g = 2
  sgd.step(0.1);               // d = 2.5, buf = 2.5, p = 1 - 0.25 = 0.75
  EXPECT_DOUBLE_EQ(p.item<double>(), 0.75);
  sgd.zero_grad();
  (p * 2.0).sum().backward();  // d = 2 + 0.375 = 2.375, buf = 2.25 + 2.375 = 4.625
  sgd.step(0.1);
  EXPECT_DOUBLE_EQ(p.item<double>(), 0.75 - 0.4625);
  auto state = sgd.state("optimizer.");
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state[0].first, "optimizer.w.momentum_buffer");
  EXPECT_DOUBLE_EQ(state[0].second.item<double>(), 4.625);

  const std::string path = ::testing::TempDir() + "sgd-state.st";
  invkit::io::write_safetensors(path, state, {});
  auto q = torch::tensor({0.0}, torch::kDouble).set_requires_grad(true);
  Sgd again({{"w", q}}, 0.9, 0.5);
  again.load_state(invkit::io::Safetensors::read(path), "optimizer.");
  EXPECT_DOUBLE_EQ(again.state("optimizer.")[0].second.item<double>(), 4.625);
  std::remove(path.c_str());
}
