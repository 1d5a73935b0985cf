// Image classifiers by architecture name, and what every tool needs to run
// one: the input normalization and batched prediction.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace invkit::models {

// The scale s LDAM trains with (Cao et al. 2019, the LDAM-DRW code's s = 30):
// the normalized last layer outputs cosines, and a model trained with it has
// class probabilities softmax(s · cosines).
constexpr double kLdamScale = 30.0;

// What fixes a classifier's shape; stored in every checkpoint's manifest.
struct ClassifierSpec {
  std::string arch = "resnet32";  // resnet20|32|44|56|cnn
  int64_t num_classes = 10;
  int64_t channels = 1;
  int64_t height = 28;
  int64_t width = 28;
  bool normed_linear = false;  // LDAM's normalized last layer (--loss ldam)
};

// Normalized float images [N, C, H, W] -> logits [N, K], in eval mode.
using InferenceFn = std::function<torch::Tensor(const torch::Tensor&)>;

// A classifier maps float images [N, C, H, W] (normalized) to logits [N, K].
class ClassifierImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;

  // Eval-mode logits by the fastest route the architecture has, equal to
  // forward's up to float rounding. It may be a snapshot of the current
  // weights: make a new one after they change. Default: forward itself,
  // which the caller runs in eval mode.
  virtual InferenceFn inference(torch::Device device);
};

// The architectures make_classifier knows.
const std::vector<std::string>& classifier_archs();

// A freshly initialized classifier (draws from torch's global generator).
// Unknown arch or an input smaller than 8x8 is a UsageError.
std::shared_ptr<ClassifierImpl> make_classifier(const ClassifierSpec& spec);

// Converts every 4-D parameter (the convolutions' weights) to channels-last
// memory, in place. On CPU, oneDNN trains such a model about 1.2x faster than
// in the default layout; its inputs should be channels-last too.
void use_channels_last(torch::nn::Module& model);

// Per-channel mean and std of the training images scaled to [0, 1].
struct Normalization {
  std::vector<double> mean, std;

  // uint8 images [N, C, H, W] -> float (x/255 - mean)/std on the images' device.
  torch::Tensor apply(const torch::Tensor& images) const;
  // Computed over a uint8 set [N, C, H, W] in chunks of at most 4096 rows and 2^22
  // pixels (no float copy of it all; at most about 64 MB of temporaries).
  static Normalization of(const torch::Tensor& images);
};

// Batched prediction with a model's inference route, made once and reused.
class Predictor {
 public:
  Predictor(ClassifierImpl& model, Normalization norm, torch::Device device);
  // Logits [N, K] (float, CPU) of uint8 images [N, C, H, W] in eval mode,
  // `batch` images at a time.
  torch::Tensor operator()(const torch::Tensor& images, int64_t batch) const;

 private:
  ClassifierImpl& model_;
  Normalization norm_;
  torch::Device device_;
  InferenceFn inference_;
};

// Predictor(model, norm, device)(images, batch), for a single use.
torch::Tensor predict_logits(ClassifierImpl& model, const Normalization& norm, const torch::Tensor& images,
                             int64_t batch, torch::Device device);

}  // namespace invkit::models
