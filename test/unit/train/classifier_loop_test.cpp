#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "invkit/checkpoint/classifier.h"
#include "invkit/error.h"
#include "invkit/io/manifest.h"
#include "invkit/io/safetensors.h"
#include "invkit/train/classifier_loop.h"
#include "invkit/train/rules.h"

#include "synthetic.h"
#include "testing.h"

using namespace invkit;

namespace {

// One temporary folder per test process, removed when the process ends.
std::string temp_path(const std::string& name) {
  static invkit::testing::TempDir dir;
  return dir / name;
}

// per_class images of each class, or counts[c] of class c when given.
Dataset quadrants(int64_t per_class, uint64_t seed, std::vector<int64_t> counts = {}) {
  if (counts.empty()) counts.assign(4, per_class);
  return invkit::testing::quadrants(counts, seed);
}

train::TrainConfig quick(const std::string& out) {
  train::TrainConfig c;
  c.output = out;
  c.arch = "cnn";
  c.epochs = 4;
  c.warmup = 1;
  c.step1 = 3;
  c.step2 = 4;
  c.batch = 16;
  c.lr = 0.05;
  c.seed = 11;
  return c;
}

io::NamedTensors all_tensors(const std::string& path) {
  auto st = io::Safetensors::read(path);
  io::NamedTensors out;
  for (const auto& t : st.tensors()) out.emplace_back(t.name, st.tensor(t.name));
  return out;
}

}  // namespace

TEST(Train, SeparableSetReaches95Percent) {
  torch::manual_seed(1);
  train::TrainInputs in;
  in.train = quadrants(64, 1);
  in.val = quadrants(16, 2);
  in.test = quadrants(32, 3);
  in.train_name = "train";
  in.val_name = "val";
  in.test_name = "test";
  auto cfg = quick(temp_path("sep.st"));
  cfg.epochs = 6;
  cfg.step1 = 5;
  cfg.step2 = 6;
  auto report = train::train_classifier(cfg, in, torch::kCPU, {{"tool", "test"}});
  EXPECT_GE(report["test"]["accuracy"].get<double>(), 0.95) << report.dump();
  EXPECT_EQ(report["test"]["total"], 128);
  // 64 training images per class: all medium-shot.
  EXPECT_TRUE(report["test"]["groups"]["few"].is_null());
  EXPECT_EQ(report["test"]["groups"]["medium"], report["test"]["balanced_accuracy"]);
  auto m = io::manifest_of(io::Safetensors::read(cfg.output));
  EXPECT_EQ(m["metrics"]["test"]["accuracy"], report["test"]["accuracy"]);
  EXPECT_EQ(m["training"]["arch"], "cnn");
  EXPECT_TRUE(std::filesystem::exists(cfg.output + ".last"));
}

TEST(Train, ResumeEqualsUninterrupted) {
  torch::set_num_threads(1);
  train::TrainInputs in;
  in.train = quadrants(0, 4, {40, 20, 10, 5});
  in.val = quadrants(4, 5);
  in.train_name = "train";
  in.val_name = "val";
  for (std::string rule : {"drs", "drw"}) {
    auto full = quick(temp_path("full-" + rule + ".st"));
    full.rule = rule;
    full.flip = true;
    full.loss = rule == "drw" ? "ldam" : "focal";
    torch::manual_seed(9);
    train::train_classifier(full, in, torch::kCPU, {});

    auto part = full;
    part.output = temp_path("part-" + rule + ".st");
    part.epochs = 2;
    torch::manual_seed(9);
    train::train_classifier(part, in, torch::kCPU, {});
    auto rest = full;
    rest.output = part.output;
    rest.resume = part.output + ".last";
    torch::manual_seed(1234);  // resuming must not depend on the init draws
    train::train_classifier(rest, in, torch::kCPU, {});

    auto a = all_tensors(full.output + ".last"), b = all_tensors(part.output + ".last");
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].first, b[i].first);
      EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << rule << " " << a[i].first;
    }
    EXPECT_EQ(io::manifest_of(io::Safetensors::read(full.output + ".last"))["epoch"], 4);
  }
  torch::set_num_threads(2);
}

TEST(Train, KeepLastKeepsTheFinalWeightsAndTestsThem) {
  torch::set_num_threads(1);
  train::TrainInputs in;
  in.train = quadrants(0, 4, {40, 20, 10, 5});
  in.val = quadrants(4, 5);
  in.test = quadrants(4, 6);
  in.train_name = "train";
  in.val_name = "val";
  in.test_name = "test";
  auto best = quick(temp_path("best.st"));
  best.lr = 0.5;  // a high rate makes the validation accuracy move about
  auto last = best;
  last.output = temp_path("last.st");
  last.keep = "last";
  torch::manual_seed(3);
  auto rb = train::train_classifier(best, in, torch::kCPU, {});
  torch::manual_seed(3);
  auto rl = train::train_classifier(last, in, torch::kCPU, {});
  // The same run: the same best epoch; CKPT is the final epoch's weights.
  EXPECT_EQ(rl["best_epoch"], rb["best_epoch"]);
  EXPECT_EQ(rl["kept_epoch"], 4);
  EXPECT_FALSE(rb.contains("kept_epoch"));
  auto kept = all_tensors(last.output), final = all_tensors(last.output + ".last");
  ASSERT_EQ(kept.size(), final.size());
  for (size_t i = 0; i < kept.size(); ++i) EXPECT_TRUE(torch::equal(kept[i].second, final[i].second)) << kept[i].first;
  const auto m = io::manifest_of(io::Safetensors::read(last.output));
  EXPECT_EQ(m["epoch"], 4);
  EXPECT_EQ(m["training"]["keep"], "last");
  EXPECT_EQ(m["metrics"]["test"]["accuracy"], rl["test"]["accuracy"]);
  // With the best epoch before the last, the two checkpoints differ.
  ASSERT_NE(rb["best_epoch"], 4);
  EXPECT_FALSE(torch::equal(all_tensors(best.output)[0].second, kept[0].second));
  last.keep = "first";
  EXPECT_THROW(train::train_classifier(last, in, torch::kCPU, {}), invkit::UsageError);
  torch::set_num_threads(2);
}

TEST(Train, InputErrors) {
  train::TrainInputs in;
  in.train = quadrants(0, 6, {5, 0, 5, 5});
  in.train_name = "lt.st";
  auto cfg = quick(temp_path("err.st"));
  try {
    train::train_classifier(cfg, in, torch::kCPU, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "lt.st: class 1 (\"ne\") has no training examples (pass allow_empty_classes to train anyway)");
  }
  cfg.allow_empty_classes = true;
  cfg.epochs = 1;
  EXPECT_NO_THROW(train::train_classifier(cfg, in, torch::kCPU, {}));

  in.train = quadrants(5, 6);
  Dataset val = quadrants(2, 7);
  val.class_names.push_back("extra");
  val.labels[3] = 4;
  in.val = val;
  in.val_name = "val.st";
  try {
    train::check_inputs(cfg, in);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "val.st: class \"extra\" is not one of the classes of lt.st (nw, ne, sw, se)");
  }
  in.val.reset();
  Dataset test = quadrants(2, 8);
  test.images = torch::zeros({8, 3, 12, 12}, torch::kByte);
  in.test = test;
  in.test_name = "test.st";
  try {
    train::check_inputs(cfg, in);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "test.st: images are 3x12x12 but lt.st has 1x12x12");
  }
}

TEST(Train, NonFiniteLossStops) {
  train::TrainInputs in;
  in.train = quadrants(16, 9);
  in.train_name = "train";
  auto cfg = quick(temp_path("nan.st"));
  cfg.epochs = 3;
  cfg.warmup = 0;
  cfg.lr = 1e30;
  try {
    train::train_classifier(cfg, in, torch::kCPU, {});
    FAIL() << "expected the loss to blow up";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("loss is "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(" at epoch "), std::string::npos) << e.what();
  }
}

TEST(Train, ValAndTestClassesAreMatchedByName) {
  train::TrainInputs in;
  in.train = quadrants(5, 6);
  in.train_name = "lt.st";
  // The val set names its classes in another order and lacks "ne".
  Dataset val = quadrants(2, 7);
  val = val.select(torch::nonzero(val.labels != 1).flatten());
  val.labels = torch::tensor(std::vector<int64_t>{0, 0, 2, 2, 1, 1}, torch::kLong);  // nw, nw, se, se, sw, sw
  val.class_names = {"nw", "sw", "se"};
  in.val = val;
  in.val_name = "val.st";
  auto cfg = quick(temp_path("names.st"));
  train::check_inputs(cfg, in);
  EXPECT_EQ(in.val->class_names, in.train.class_names);
  EXPECT_TRUE(torch::equal(in.val->labels, torch::tensor(std::vector<int64_t>{0, 0, 3, 3, 2, 2}, torch::kLong)));
}
