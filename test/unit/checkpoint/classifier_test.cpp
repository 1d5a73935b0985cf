#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "invkit/checkpoint/classifier.h"
#include "invkit/error.h"
#include "invkit/io/manifest.h"
#include "invkit/io/safetensors.h"

#include "testing.h"

using namespace invkit;

namespace {
// One temporary folder per test process, removed when the process ends.
std::string temp_path(const std::string& name) {
  static invkit::testing::TempDir dir;
  return dir / name;
}
}  // namespace

TEST(Checkpoint, RoundTrip) {
  torch::manual_seed(3);
  models::ClassifierSpec spec;
  spec.arch = "resnet20";
  spec.channels = 3;
  spec.num_classes = 4;
  spec.height = spec.width = 16;
  auto model = models::make_classifier(spec);
  // Move the BN statistics away from their initial values.
  model->train();
  model->forward(torch::randn({4, 3, 16, 16}));
  models::Normalization norm{{0.1, 0.2, 0.3}, {0.5, 0.6, 0.7}};
  auto manifest = checkpoint::describe_classifier(spec, norm, {"a", "b", "c", "d"}, {10, 20, 30, 40});
  manifest["epoch"] = 3;
  const std::string path = temp_path("rt.st");
  io::NamedTensors extra{{"optimizer.conv1.weight.momentum_buffer", torch::ones({16, 3, 3, 3})}};
  checkpoint::save_checkpoint(path, *model, extra, manifest);

  auto st = io::Safetensors::read(path);
  EXPECT_NE(st.find("bn1.running_var"), nullptr);
  EXPECT_EQ(st.find("bn1.num_batches_tracked")->dtype, io::DType::I64);
  EXPECT_NE(st.find("optimizer.conv1.weight.momentum_buffer"), nullptr);
  EXPECT_EQ(io::manifest_of(st)["format"], "invkit.classifier/1");

  auto loaded = checkpoint::load_classifier(path, torch::kCPU);
  EXPECT_EQ(loaded.spec.arch, "resnet20");
  EXPECT_EQ(loaded.spec.num_classes, 4);
  EXPECT_EQ(loaded.spec.height, 16);
  EXPECT_EQ(loaded.normalization.std, norm.std);
  EXPECT_EQ(loaded.class_names[2], "c");
  EXPECT_EQ(loaded.class_counts[3], 40);
  EXPECT_EQ(loaded.manifest["epoch"], 3);
  auto a = checkpoint::model_tensors(*model), b = checkpoint::model_tensors(*loaded.model);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
  }
  EXPECT_EQ(b[0].second.scalar_type(), torch::kFloat);
  model->eval();
  auto x = torch::randn({2, 3, 16, 16});
  EXPECT_TRUE(torch::equal(model->forward(x), loaded.model->forward(x)));
}

TEST(Checkpoint, Errors) {
  models::ClassifierSpec spec;
  spec.arch = "cnn";
  spec.num_classes = 2;
  auto model = models::make_classifier(spec);
  models::Normalization norm{{0.5}, {0.25}};
  auto manifest = checkpoint::describe_classifier(spec, norm, {"x", "y"}, {1, 1});
  // A tensor missing from the file.
  auto tensors = checkpoint::model_tensors(*model);
  io::NamedTensors partial(tensors.begin() + 1, tensors.end());
  const std::string path = temp_path("missing.st");
  io::write_safetensors(path, partial, io::metadata_with_manifest(manifest));
  try {
    checkpoint::load_classifier(path, torch::kCPU);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lacks tensor \"" + tensors[0].first + "\""), std::string::npos) << e.what();
  }
  // A data set is not a checkpoint.
  const std::string data = temp_path("data.st");
  io::write_safetensors(data, {{"labels", torch::zeros({1}, torch::kLong)}},
                        io::metadata_with_manifest({{"format", "invkit.dataset/1"}}));
  EXPECT_THROW(checkpoint::load_classifier(data, torch::kCPU), Error);
  // A wrong shape.
  manifest["num_classes"] = 3;
  manifest["class_names"] = {"x", "y", "z"};
  const std::string bad = temp_path("shape.st");
  checkpoint::save_checkpoint(bad, *model, {}, manifest);
  EXPECT_THROW(checkpoint::load_classifier(bad, torch::kCPU), Error);
}
