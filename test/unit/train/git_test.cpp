// GIT batches: which rows are generated, the keep probabilities, labels,
// no gradient into the generator, and GIT inside the training loop.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "invkit/checkpoint/generator.h"
#include "invkit/error.h"
#include "invkit/io/manifest.h"
#include "invkit/io/safetensors.h"
#include "invkit/models/classifier.h"
#include "invkit/models/generator_sampling.h"
#include "invkit/train/classifier_loop.h"
#include "invkit/train/generator_loop.h"
#include "invkit/train/git.h"
#include "invkit/train/rules.h"

#include "synthetic.h"
#include "testing.h"

using namespace invkit;

using invkit::testing::quadrants;

namespace {

std::string temp_path(const std::string& name) {
  static invkit::testing::TempDir dir;
  return dir / name;
}

// An untrained 12x12 generator, saved once per test process.
std::string tiny_generator() {
  static const std::string path = [] {
    train::GeneratorTrainOptions t;
    t.seed = 3;
    train::GeneratorTrainer trainer(invkit::testing::tiny_munit(), t, torch::kCPU);
    const std::string p = temp_path("gen.st");
    trainer.save(p);
    return p;
  }();
  return path;
}

}  // namespace

TEST(Git, KeepProbabilitiesFollowThePapersFormula) {
  // K = 60, n_min = 5: (60 - n) / 55, floored at 0.
  auto keep = train::keep_probabilities({100, 50, 10, 5}, 60);
  ASSERT_EQ(keep.size(), 4u);
  EXPECT_DOUBLE_EQ(keep[0], 0.0);
  EXPECT_DOUBLE_EQ(keep[1], 10.0 / 55);
  EXPECT_DOUBLE_EQ(keep[2], 50.0 / 55);
  EXPECT_DOUBLE_EQ(keep[3], 1.0);
  // No threshold: every generated example is kept.
  EXPECT_EQ(train::keep_probabilities({100, 5}, 0), (std::vector<double>{1.0, 1.0}));
  // An empty class does not set n_min.
  EXPECT_DOUBLE_EQ(train::keep_probabilities({0, 10, 20}, 30)[1], 1.0);
  EXPECT_THROW(train::keep_probabilities({100, 5}, 5), UsageError);
}

TEST(Git, GeneratedRowsAreTheBatchsLastFraction) {
  EXPECT_EQ(train::generated_rows(128, 0.5), 64);
  EXPECT_EQ(train::generated_rows(7, 0.5), 3);
  EXPECT_EQ(train::generated_rows(7, 1.0), 7);
  EXPECT_EQ(train::generated_rows(10, 0.25), 2);
}

TEST(Git, MaskKeepsEachClassWithItsProbability) {
  // A large batch: only the last half may be generated, and a row of class y
  // there is generated with probability keep[y] (binomial, 5 sigma).
  const int64_t b = 200000;
  auto gen = cpu_generator(5);
  auto labels = torch::randint(0, 4, {b}, gen, torch::kLong);
  auto uniforms = torch::rand({b}, gen);
  auto keep = torch::tensor({0.0f, 0.25f, 0.5f, 1.0f});
  auto mask = train::git_mask(0.5, uniforms, keep, labels);
  ASSERT_EQ(mask.scalar_type(), torch::kBool);
  EXPECT_EQ(mask.slice(0, 0, b / 2).sum().item<int64_t>(), 0);
  auto tail_mask = mask.slice(0, b / 2, b), tail_labels = labels.slice(0, b / 2, b);
  for (int64_t c = 0; c < 4; ++c) {
    auto in_class = tail_labels == c;
    const double n = in_class.sum().item<double>();
    const double rate = torch::logical_and(tail_mask, in_class).sum().item<double>() / n;
    const double p = keep[c].item<double>();
    EXPECT_NEAR(rate, p, 5 * std::sqrt(p * (1 - p) / n) + 1e-12) << "class " << c;
  }
  // Without a threshold exactly the last floor(frac * B) rows are generated.
  auto all = train::git_mask(0.3, torch::rand({10}, gen), torch::ones({4}), torch::zeros({10}, torch::kLong));
  EXPECT_TRUE(torch::equal(all, torch::arange(10) >= 7));
}

TEST(Git, MixTakesTwinLabelsAndGeneratesOnlyMaskedRows) {
  const int64_t b = 8;
  auto images = torch::zeros({b, 1, 4, 4}, torch::kUInt8);
  auto labels = torch::arange(b, torch::kLong);
  auto twin_images = torch::full({b, 1, 4, 4}, 7, torch::kUInt8);
  auto twin_labels = torch::arange(100, 100 + b, torch::kLong);
  auto mask = torch::tensor({0, 0, 0, 0, 1, 0, 1, 1}, torch::kBool);
  torch::Tensor asked;
  auto mixed = train::mix_git_batch(images, labels, twin_images, twin_labels, mask,
                                    [&](const torch::Tensor& x, const torch::Tensor& rows) {
                                      asked = rows;
                                      EXPECT_TRUE(torch::all(x == 7).item<bool>());  // the twin's images
                                      return torch::full_like(x, 200);
                                    });
  EXPECT_TRUE(torch::equal(asked, torch::tensor({4, 6, 7}, torch::kLong)));
  EXPECT_TRUE(torch::equal(mixed.labels, torch::tensor({0, 1, 2, 3, 104, 5, 106, 107}, torch::kLong)));
  for (int64_t i = 0; i < b; ++i)
    EXPECT_EQ(mixed.images[i].max().item<int64_t>(), mask[i].item<bool>() ? 200 : 0) << i;
  EXPECT_TRUE(torch::equal(mixed.generated, mask));
}

TEST(Git, NoGradientReachesTheGenerator) {
  auto g = checkpoint::load_generator(tiny_generator(), torch::kCPU);
  auto x = quadrants({4, 4, 4, 4}, 1).images;
  auto made = models::generate(g, x, 1);
  EXPECT_FALSE(made.requires_grad());
  models::ClassifierSpec spec;
  spec.arch = "cnn";
  spec.num_classes = 4;
  spec.height = spec.width = 12;
  auto model = models::make_classifier(spec);
  auto loss = model->forward(made.to(torch::kFloat) / 255).logsumexp(1).mean();
  loss.backward();
  for (const auto& p : g.gen->named_parameters()) {
    EXPECT_FALSE(p.value().requires_grad()) << p.key();
    EXPECT_FALSE(p.value().grad().defined()) << p.key();
  }
}

TEST(Git, TrainingMixesGeneratedRowsFromStep1WhenDelayed) {
  torch::set_num_threads(1);
  train::TrainInputs in;
  in.train = quadrants({32, 16, 8, 8}, 2);  // 64 rows: four full batches of 16
  in.train_name = "train";
  train::TrainConfig c;
  c.output = temp_path("git.st");
  c.arch = "cnn";
  c.epochs = 3;
  c.warmup = 1;
  c.step1 = 2;
  c.step2 = 3;
  c.batch = 16;
  c.lr = 0.05;
  c.seed = 4;
  c.rule = "drs";
  c.git.generator = tiny_generator();
  c.git.delayed = true;
  std::vector<nlohmann::json> log;
  Observer observer;
  observer.record = [&](const nlohmann::json& record) { log.push_back(record); };
  train::train_classifier(c, in, torch::kCPU, {}, observer);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0]["generated"], 0.0);
  EXPECT_EQ(log[1]["generated"], 0.0);
  EXPECT_EQ(log[2]["generated"], 0.5);  // 8 of every 16 rows
  auto m = io::manifest_of(io::Safetensors::read(c.output));
  EXPECT_EQ(m["training"]["generator"], c.git.generator);
  EXPECT_EQ(m["training"]["gen_delayed"], true);

  // With a threshold, the big class is never replaced and the smallest always
  // is: 0 < generated < 0.5.
  c.output = temp_path("git-threshold.st");
  c.git.delayed = false;
  c.git.threshold = 20;
  log.clear();
  train::train_classifier(c, in, torch::kCPU, {}, observer);
  ASSERT_EQ(log.size(), 3u);
  for (const auto& r : log) {
    EXPECT_GT(r["generated"].get<double>(), 0.0);
    EXPECT_LT(r["generated"].get<double>(), 0.5);
  }
  torch::set_num_threads(2);
}

TEST(Git, ResumeEqualsUninterrupted) {
  torch::set_num_threads(1);
  train::TrainInputs in;
  in.train = quadrants({30, 12, 6, 5}, 3);
  in.train_name = "train";
  train::TrainConfig full;
  full.output = temp_path("full.st");
  full.arch = "cnn";
  full.epochs = 3;
  full.warmup = 1;
  full.step1 = 1;
  full.step2 = 3;
  full.batch = 16;
  full.seed = 6;
  full.git.generator = tiny_generator();
  full.git.threshold = 25;
  torch::manual_seed(9);  // the tools seed model init this way
  train::train_classifier(full, in, torch::kCPU, {});
  auto part = full;
  part.output = temp_path("part.st");
  part.epochs = 2;
  torch::manual_seed(9);
  train::train_classifier(part, in, torch::kCPU, {});
  auto rest = full;
  rest.output = part.output;
  rest.resume = part.output + ".last";
  train::train_classifier(rest, in, torch::kCPU, {});
  auto a = io::Safetensors::read(full.output + ".last"), b = io::Safetensors::read(part.output + ".last");
  for (const auto& t : a.tensors()) EXPECT_TRUE(torch::equal(a.tensor(t.name), b.tensor(t.name))) << t.name;
  torch::set_num_threads(2);
}

TEST(Git, GeneratorOfAnotherSizeIsANamedError) {
  train::TrainInputs in;
  in.train = quadrants({4, 4, 4, 4}, 1);
  in.train.images = torch::zeros({16, 1, 14, 14}, torch::kUInt8);
  in.train_name = "train.st";
  train::TrainConfig c;
  c.output = temp_path("never.st");
  c.arch = "cnn";
  c.git.generator = tiny_generator();
  try {
    train::train_classifier(c, in, torch::kCPU, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("takes 1x12x12 images but train.st has 1x14x14"), std::string::npos) << e.what();
  }
}
