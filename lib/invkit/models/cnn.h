// A small, fast convolutional net for tests and quick runs:
// conv(3x3, 16) - BN - ReLU - maxpool 2 - conv(3x3, 32) - BN - ReLU -
// global average pool - linear (or LDAM's normalized linear).
#pragma once
#include "invkit/models/classifier.h"
#include "invkit/models/resnet.h"

namespace invkit::models {

class SmallCnnImpl : public ClassifierImpl {
 public:
  SmallCnnImpl(int64_t channels, int64_t num_classes, bool normed_linear);
  torch::Tensor forward(torch::Tensor x) override;

 private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Linear linear{nullptr};
  NormedLinear normed{nullptr};
};

}  // namespace invkit::models
