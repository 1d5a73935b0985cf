#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include <fstream>

#include "invkit/checkpoint/classifier.h"
#include "invkit/checkpoint/external_model.h"
#include "invkit/error.h"
#include "invkit/io/safetensors.h"
#include "testing.h"

using invkit::Dataset;
using invkit::testing::error_of;
using invkit::testing::TempDir;
using invkit::checkpoint::ExternalOptions;

namespace {

// load_any_classifier on CPU for a set with pixels (the shape from them).
invkit::checkpoint::LoadedClassifier load_any(const std::string& path, const ExternalOptions& opt, const Dataset& data,
                                              const std::string& data_name) {
  return invkit::checkpoint::load_any_classifier(path, torch::kCPU, opt, data, data.image_shape(), data_name);
}

// Four classes of 1x12x12 uint8 images.
Dataset small_set(int64_t n = 8) {
  torch::manual_seed(5);
  Dataset d;
  d.images = torch::randint(0, 256, {n, 1, 12, 12}, torch::kUInt8);
  d.labels = torch::arange(n, torch::kLong).remainder(4);
  d.class_names = {"a", "b", "c", "d"};
  return d;
}

// A small cnn with non-trivial BatchNorm statistics.
std::shared_ptr<invkit::models::ClassifierImpl> trained_cnn(bool normed) {
  torch::manual_seed(3);
  invkit::models::ClassifierSpec spec;
  spec.arch = "cnn";
  spec.num_classes = 4;
  spec.height = spec.width = 12;
  spec.normed_linear = normed;
  auto model = invkit::models::make_classifier(spec);
  model->train();
  torch::NoGradGuard no_grad;
  for (int i = 0; i < 3; ++i) model->forward(torch::randn({16, 1, 12, 12}) * 2 + 1);
  model->eval();
  return model;
}

ExternalOptions cnn_options() {
  ExternalOptions o;
  o.arch = "cnn";
  o.mean = {0.25};
  o.std = {0.5};
  return o;
}

torch::Tensor logits_of(invkit::models::ClassifierImpl& m, const invkit::models::Normalization& norm,
                        const Dataset& d) {
  return invkit::models::predict_logits(m, norm, d.images, 3, torch::kCPU);
}

}  // namespace

TEST(ExternalModel, SafetensorsStateDictGivesTheModelsLogits) {
  TempDir dir;
  auto model = trained_cnn(false);
  invkit::io::write_safetensors(dir / "sd.safetensors", invkit::checkpoint::model_tensors(*model), {});
  Dataset data = small_set();
  auto clf = load_any(dir / "sd.safetensors", cnn_options(), data, "data.st");
  EXPECT_EQ(clf.kind, "safetensors");
  EXPECT_EQ(clf.spec.num_classes, 4);
  EXPECT_EQ(clf.class_names, data.class_names);
  EXPECT_TRUE(clf.class_counts.empty());
  EXPECT_EQ(clf.logit_scale, 1.0);
  invkit::models::Normalization norm{{0.25}, {0.5}};
  EXPECT_TRUE(torch::allclose(logits_of(*clf.model, clf.normalization, data), logits_of(*model, norm, data), 0, 0));
}

TEST(ExternalModel, DataParallelPrefixAndTorchSaveDictAreRead) {
  TempDir dir;
  auto model = trained_cnn(true);
  c10::impl::GenericDict sd(c10::StringType::get(), c10::TensorType::get());
  // Saved in float64, as a model trained in double precision would be.
  for (auto& [name, t] : invkit::checkpoint::model_tensors(*model))
    sd.insert("module." + name, t.is_floating_point() ? t.to(torch::kDouble) : t);
  c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
  root.insert("epoch", int64_t{7});
  root.insert("state_dict", sd);
  std::vector<char> bytes = torch::pickle_save(root);
  std::ofstream(dir / "ckpt.pth", std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  EXPECT_EQ(invkit::checkpoint::model_file_kind(dir / "ckpt.pth"), "torch.save");

  Dataset data = small_set();
  ExternalOptions o = cnn_options();
  o.train_counts = "50,20,10,5";
  auto clf = load_any(dir / "ckpt.pth", o, data, "data.st");
  EXPECT_TRUE(clf.spec.normed_linear);
  EXPECT_EQ(clf.logit_scale, 30.0);  // LDAM's s
  EXPECT_EQ(clf.class_counts, (std::vector<int64_t>{50, 20, 10, 5}));
  invkit::models::Normalization norm{{0.25}, {0.5}};
  EXPECT_TRUE(torch::allclose(logits_of(*clf.model, clf.normalization, data), logits_of(*model, norm, data), 0, 0));

  o.state_dict_key = "optimizer";
  EXPECT_EQ(error_of([&] { load_any(dir / "ckpt.pth", o, data, "data.st"); }),
            dir / "ckpt.pth" + ": no state dict: it is a dict of epoch, state_dict; it has no entry \"optimizer\"");
}

TEST(ExternalModel, StrictLoadingNamesMissingUnexpectedAndMisshapenKeys) {
  TempDir dir;
  auto tensors = invkit::checkpoint::model_tensors(*trained_cnn(false));
  invkit::io::NamedTensors edited;
  for (auto& [name, t] : tensors) {
    if (name == "bn2.running_var" || name.find("num_batches_tracked") != std::string::npos) continue;
    edited.emplace_back(name == "conv2.weight" ? "conv2.weights" : name, t);
  }
  edited.emplace_back("linear.bias", torch::zeros({5}));  // replaces the 4-class bias
  edited.erase(std::find_if(edited.begin(), edited.end(), [](auto& p) { return p.first == "linear.bias"; }));
  invkit::io::write_safetensors(dir / "bad.safetensors", edited, {});
  Dataset data = small_set();
  EXPECT_EQ(error_of([&] { load_any(dir / "bad.safetensors", cnn_options(), data, "d"); }),
            dir / "bad.safetensors" +
                " (as cnn): the state dict does not fit the model: missing conv2.weight, bn2.running_var; unexpected "
                "conv2.weights; wrong shape: linear.bias [5] (the model's is [4])");
}

TEST(ExternalModel, WhatTheFileDoesNotSayMustBeGiven) {
  TempDir dir;
  invkit::io::write_safetensors(dir / "sd.safetensors", invkit::checkpoint::model_tensors(*trained_cnn(false)), {});
  Dataset data = small_set();
  auto load = [&](ExternalOptions o, const Dataset& d) {
    return error_of([&] { load_any(dir / "sd.safetensors", o, d, "data.st"); });
  };
  ExternalOptions no_arch = cnn_options();
  no_arch.arch.clear();
  EXPECT_NE(load(no_arch, data).find("is a state dict (safetensors): say which architecture it is with arch"),
            std::string::npos);
  ExternalOptions no_norm = cnn_options();
  no_norm.std.clear();
  EXPECT_NE(load(no_norm, data).find("needs its input normalization: mean and std"), std::string::npos);
  ExternalOptions two_means = cnn_options();
  two_means.mean = {0.1, 0.2};
  EXPECT_EQ(load(two_means, data), "mean has 2 values; give 1 or one per channel (1)");

  Dataset rgb = small_set();
  rgb.images = rgb.images.repeat({1, 3, 1, 1});
  EXPECT_EQ(load(cnn_options(), rgb),
            dir / "sd.safetensors" + ": the model takes 1-channel images but data.st has 3");
  Dataset five = small_set(10);
  five.labels = torch::arange(10, torch::kLong).remainder(5);
  five.class_names = {"a", "b", "c", "d", "e"};
  EXPECT_EQ(load(cnn_options(), five), dir / "sd.safetensors" +
                                           ": the model has 4 outputs but data.st has 5 classes; name the model's "
                                           "outputs with class_names or train");
  ExternalOptions counts = cnn_options();
  counts.train_counts = "1,2,3";
  EXPECT_EQ(load(counts, data), dir / "sd.safetensors" + ": the model has 4 outputs but train_counts has 3 classes");
  counts.train_counts = "1,2,x,4";
  EXPECT_EQ(load(counts, data), "train_counts: \"x\" (item 3) is not a count (an integer >= 0)");
}

TEST(ExternalModel, TorchScriptModuleRunsAndIsChecked) {
  TempDir dir;
  torch::manual_seed(11);
  torch::jit::Module m("Tiny");
  auto w = torch::randn({144, 3}), b = torch::randn({3});
  m.register_parameter("w", w, false);
  m.register_parameter("b", b, false);
  m.define(R"JIT(
def forward(self, x):
    return torch.flatten(x, 1).mm(self.w) + self.b
)JIT");
  m.save(dir / "tiny.pt");
  EXPECT_EQ(invkit::checkpoint::model_file_kind(dir / "tiny.pt"), "torchscript");

  Dataset data = small_set();
  data.labels = torch::arange(8, torch::kLong).remainder(3);
  data.class_names = {"x", "y", "z"};
  ExternalOptions o;
  o.mean = {0};
  o.std = {1};
  o.pixel_max = 255;  // the model sees raw pixel values
  auto clf = load_any(dir / "tiny.pt", o, data, "data.st");
  EXPECT_EQ(clf.kind, "torchscript");
  EXPECT_EQ(clf.spec.num_classes, 3);
  auto expected = data.images.to(torch::kFloat).flatten(1).mm(w) + b;
  EXPECT_TRUE(torch::allclose(logits_of(*clf.model, clf.normalization, data), expected, 1e-5, 1e-3));

  Dataset small = small_set();
  small.images = small.images.slice(2, 0, 10).slice(3, 0, 10).contiguous();
  small.labels = data.labels;
  small.class_names = data.class_names;
  EXPECT_EQ(error_of([&] { load_any(dir / "tiny.pt", o, small, "small.st"); }),
            dir / "tiny.pt" + ": the model does not run on images of 1x10x10 (the images of small.st)");
  ExternalOptions with_arch = o;
  with_arch.arch = "resnet20";
  EXPECT_EQ(error_of([&] { load_any(dir / "tiny.pt", with_arch, data, "data.st"); }),
            dir / "tiny.pt" + " is a TorchScript module: it needs no arch or state_dict_key");
}

TEST(ExternalModel, FilesLibTorchCannotReadAreNamedWithWhatToDo) {
  TempDir dir;
  {
    caffe2::serialize::PyTorchStreamWriter w(dir / "future.pt");
    w.setMinVersion(99);
    std::string empty;
    w.writeRecord("constants.pkl", empty.data(), 0);
    w.writeRecord("data.pkl", empty.data(), 0);
    w.writeEndOfFile();
  }
  Dataset data = small_set();
  ExternalOptions o;
  o.mean = {0};
  o.std = {1};
  std::string e = error_of([&] { load_any(dir / "future.pt", o, data, "d"); });
  EXPECT_NE(e.find("future.pt: PyTorch file format version 99 is newer than LibTorch "), std::string::npos) << e;
  EXPECT_NE(e.find(" reads (up to 10); save it with an older PyTorch, or as a state dict in safetensors"),
            std::string::npos) << e;

  invkit::testing::write_bytes(dir / "legacy.pth", {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20});
  EXPECT_EQ(error_of([&] { invkit::checkpoint::model_file_kind(dir / "legacy.pth"); }),
            dir / "legacy.pth" +
                ": a legacy torch.save file (PyTorch before 1.6, or _use_new_zipfile_serialization=False), which "
                "LibTorch cannot read; save it again with torch.save in PyTorch 1.6 or later");
  invkit::testing::write_bytes(dir / "text.txt", {'h', 'i'});
  EXPECT_EQ(error_of([&] { invkit::checkpoint::model_file_kind(dir / "text.txt"); }),
            dir / "text.txt" + ": not a model file (safetensors, TorchScript or torch.save)");
}

TEST(ExternalModel, InvkitCheckpointsRefuseTheOptionsTheyRecord) {
  TempDir dir;
  auto model = trained_cnn(false);
  invkit::models::ClassifierSpec spec;
  spec.arch = "cnn";
  spec.num_classes = 4;
  spec.height = spec.width = 12;
  invkit::models::Normalization norm{{0.25}, {0.5}};
  invkit::checkpoint::save_checkpoint(dir / "c.st", *model, {},
                                 invkit::checkpoint::describe_classifier(spec, norm, {"a", "b", "c", "d"}, {9, 8, 7, 6}));
  Dataset data = small_set();
  auto clf = load_any(dir / "c.st", ExternalOptions{}, data, "d");
  EXPECT_EQ(clf.kind, "invkit");
  EXPECT_EQ(clf.class_counts, (std::vector<int64_t>{9, 8, 7, 6}));
  ExternalOptions scale;
  scale.logit_scale = 2;
  EXPECT_EQ(load_any(dir / "c.st", scale, data, "d").logit_scale, 2.0);
  EXPECT_NE(error_of([&] { load_any(dir / "c.st", cnn_options(), data, "d"); })
                .find("is an invkit checkpoint, which records its architecture"),
            std::string::npos);
}
