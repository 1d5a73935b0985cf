#include <gtest/gtest.h>

#include "invkit/error.h"
#include "invkit/models/classifier.h"
#include "invkit/models/resnet.h"

using invkit::models::ClassifierSpec;
using invkit::models::make_classifier;

namespace {

// Parameters of a CIFAR ResNet with n blocks per stage, counted by hand:
// 3x3 convs without bias, BN weight+bias, option-A shortcuts (no parameters).
int64_t resnet_params(int64_t n, int64_t c, int64_t k) {
  auto conv = [](int64_t in, int64_t out) { return in * out * 9; };
  int64_t p = conv(c, 16) + 32;
  int64_t in = 16;
  for (int64_t planes : {16, 32, 64})
    for (int64_t i = 0; i < n; ++i) {
      p += conv(in, planes) + conv(planes, planes) + 4 * planes;
      in = planes;
    }
  return p + 64 * k + k;
}

int64_t count(torch::nn::Module& m) {
  int64_t total = 0;
  for (auto& p : m.parameters()) total += p.numel();
  return total;
}

}  // namespace

TEST(Models, ResnetSizesAndShapes) {
  for (auto [arch, n] : {std::pair<const char*, int64_t>{"resnet20", 3}, {"resnet32", 5}, {"resnet44", 7}, {"resnet56", 9}}) {
    ClassifierSpec s;
    s.arch = arch;
    s.channels = 3;
    s.num_classes = 10;
    auto m = make_classifier(s);
    EXPECT_EQ(count(*m), resnet_params(n, 3, 10)) << arch;
  }
  // The well-known figure: resnet32 on CIFAR-10 has 0.46M parameters.
  ClassifierSpec s;
  s.arch = "resnet32";
  s.channels = 3;
  EXPECT_EQ(count(*make_classifier(s)), 464154);

  s.arch = "resnet20";
  s.channels = 1;
  s.num_classes = 7;
  for (auto [h, w] : {std::pair<int64_t, int64_t>{28, 28}, {8, 8}, {9, 13}}) {
    s.height = h;
    s.width = w;
    auto m = make_classifier(s);
    m->eval();
    auto y = m->forward(torch::randn({2, 1, h, w}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 7}));
  }
}

TEST(Models, StateDictNamesMatchPytorch) {
  ClassifierSpec s;
  s.arch = "resnet20";
  auto m = make_classifier(s);
  std::set<std::string> names;
  for (auto& p : m->named_parameters()) names.insert(p.key());
  for (auto& b : m->named_buffers()) names.insert(b.key());
  for (const char* want : {"conv1.weight", "bn1.weight", "bn1.running_mean", "bn1.num_batches_tracked",
                           "layer1.0.conv1.weight", "layer2.0.bn2.running_var", "layer3.2.conv2.weight",
                           "linear.weight", "linear.bias"})
    EXPECT_TRUE(names.count(want)) << want;
  EXPECT_FALSE(names.count("layer3.3.conv1.weight"));
  // 1 stem conv + 9 blocks x 2 convs, each with a BN of 5 tensors, + linear 2.
  EXPECT_EQ(names.size(), 19u * 6 + 2);
  EXPECT_EQ(m->named_parameters()["linear.weight"].sizes(), (std::vector<int64_t>{10, 64}));
}

TEST(Models, NormedLinearGivesCosines) {
  torch::manual_seed(1);
  ClassifierSpec s;
  s.arch = "cnn";
  s.normed_linear = true;
  s.num_classes = 5;
  auto m = make_classifier(s);
  auto w = m->named_parameters()["linear.weight"];
  EXPECT_EQ(w.sizes(), (std::vector<int64_t>{32, 5}));  // [in, out] as in LDAM
  // Initialized with unit-norm columns.
  EXPECT_TRUE(torch::allclose(w.norm(2, {0}), torch::ones({5}), 1e-4, 1e-4));
  EXPECT_FALSE(m->named_parameters().contains("linear.bias"));
  m->eval();
  auto y = m->forward(torch::randn({4, 1, 28, 28}) * 10);
  EXPECT_LE(y.abs().max().item<float>(), 1.0f + 1e-5f);
}

TEST(Models, KaimingInit) {
  torch::manual_seed(2);
  ClassifierSpec s;
  s.arch = "resnet56";
  auto m = make_classifier(s);
  auto w = m->named_parameters()["layer3.0.conv2.weight"];  // fan in 64*9
  EXPECT_NEAR(w.std().item<double>(), std::sqrt(2.0 / (64 * 9)), 0.003);
}

TEST(Models, Errors) {
  ClassifierSpec s;
  s.arch = "resnet21";
  EXPECT_THROW(make_classifier(s), invkit::UsageError);
  s.arch = "resnet20";
  s.height = 7;
  EXPECT_THROW(make_classifier(s), invkit::UsageError);
}

TEST(Models, NormalizationFromData) {
  auto images = torch::tensor({0, 255, 0, 255, 51, 51, 51, 51}, torch::kByte).view({2, 1, 2, 2});
  auto n = invkit::models::Normalization::of(images);
  const double mean = (2 * 1.0 + 4 * 0.2) / 8;  // = 0.35
  double var = 0;
  for (double v : {0.0, 1.0, 0.0, 1.0, 0.2, 0.2, 0.2, 0.2}) var += (v - mean) * (v - mean);
  var /= 7;
  EXPECT_NEAR(n.mean[0], mean, 1e-12);
  EXPECT_NEAR(n.std[0], std::sqrt(var), 1e-12);
  auto x = n.apply(images);
  EXPECT_NEAR(x[0][0][0][1].item<float>(), (1.0 - mean) / std::sqrt(var), 1e-5);
}

// 3x64x64 images: 341 rows a chunk, so 700 rows take three chunks; the result
// is the same as over the whole set at once.
TEST(Models, NormalizationOverChunks) {
  torch::manual_seed(3);
  auto images = torch::randint(0, 256, {700, 3, 64, 64}, torch::kByte);
  images.select(1, 2).fill_(9);  // a constant channel keeps std 1
  auto n = invkit::models::Normalization::of(images);
  auto x = images.to(torch::kDouble).div_(255.0);
  for (int64_t c = 0; c < 2; ++c) {
    EXPECT_NEAR(n.mean[c], x.select(1, c).mean().item<double>(), 1e-12);
    EXPECT_NEAR(n.std[c], x.select(1, c).std().item<double>(), 1e-12);
  }
  EXPECT_NEAR(n.mean[2], 9.0 / 255, 1e-15);
  EXPECT_EQ(n.std[2], 1.0);
}

namespace {

// Non-trivial BatchNorm statistics and affine parameters, so that folding
// them into the convolutions is actually exercised.
void randomize_batchnorms(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& bn : m.modules())
    if (auto* b = bn->as<torch::nn::BatchNorm2d>()) {
      b->running_mean.uniform_(-0.5, 0.5);
      b->running_var.uniform_(0.3, 2.0);
      b->weight.uniform_(0.5, 1.5);
      b->bias.uniform_(-0.3, 0.3);
    }
}

}  // namespace

TEST(Models, FoldedResnetEqualsEvalForward) {
  torch::manual_seed(3);
  for (bool normed : {false, true})
    for (auto [h, w] : {std::pair<int64_t, int64_t>{28, 28}, {9, 13}}) {
      ClassifierSpec s;
      s.arch = "resnet20";
      s.channels = 3;
      s.num_classes = 5;
      s.normed_linear = normed;
      auto model = make_classifier(s);
      randomize_batchnorms(*model);
      model->eval();
      auto x = torch::randn({6, 3, h, w});
      torch::NoGradGuard no_grad;
      auto expected = model->forward(x);
      auto& resnet = dynamic_cast<invkit::models::ResNetImpl&>(*model);
      std::vector<bool> layouts{false};
      if (at::hasMKLDNN()) layouts.push_back(true);
      for (bool onednn : layouts) {
        auto got = resnet.folded_inference(onednn)(x);
        ASSERT_EQ(got.sizes(), expected.sizes());
        EXPECT_LT((got - expected).abs().max().item<float>(), 1e-4 * (1 + expected.abs().max().item<float>()))
            << "onednn " << onednn << " normed " << normed << " " << h << "x" << w;
      }
    }
}

TEST(Models, PredictorUsesEvalModeAndRestoresTraining) {
  torch::manual_seed(4);
  for (const char* arch : {"resnet20", "cnn"}) {
    ClassifierSpec s;
    s.arch = arch;
    auto model = make_classifier(s);
    randomize_batchnorms(*model);
    auto images = torch::randint(0, 256, {7, 1, 28, 28}, torch::kByte);
    invkit::models::Normalization norm{{0.3}, {0.4}};
    model->train();
    // Batches of 3 (the last one short) give the same logits as one pass.
    auto logits = invkit::models::Predictor(*model, norm, torch::kCPU)(images, 3);
    EXPECT_TRUE(model->is_training()) << arch;
    model->eval();
    torch::NoGradGuard no_grad;
    auto expected = model->forward(norm.apply(images));
    EXPECT_LT((logits - expected).abs().max().item<float>(), 1e-4 * (1 + expected.abs().max().item<float>())) << arch;
  }
}
