// CIFAR-style ResNets (He et al. 2016, section 4.2) as in the LDAM-DRW code:
// 3 stages of 16/32/64 channels, BasicBlocks, option-A shortcuts (stride-2
// subsampling and zero-padded channels), global average pooling, Kaiming
// normal init; optionally LDAM's normalized linear layer.
#pragma once
#include "invkit/models/classifier.h"

namespace invkit::models {

// LDAM's last layer: logits = normalize(x, dim 1) @ normalize(W, dim 0) with
// W [in, out], so each logit is a cosine in [-1, 1].
class NormedLinearImpl : public torch::nn::Module {
 public:
  NormedLinearImpl(int64_t in, int64_t out);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
};
TORCH_MODULE(NormedLinear);

// A 3x3 convolution with the BatchNorm after it folded in (eval mode):
// w' = w * gamma / sqrt(var + eps), b' = beta - mean * gamma / sqrt(var + eps).
// With `onednn` the weights are prepacked for oneDNN and run() takes and
// returns tensors in oneDNN's layout (CPU only).
struct FoldedConv {
  FoldedConv(const torch::nn::Conv2d& conv, const torch::nn::BatchNorm2d& bn, bool onednn);
  torch::Tensor run(const torch::Tensor& x) const;
  torch::Tensor weight, bias;  // oneDNN tensors with `onednn`
  int64_t stride;
};

// A BasicBlock's eval-mode forward with its convolutions folded.
struct FoldedBlock {
  torch::Tensor run(const torch::Tensor& x) const;
  FoldedConv conv1, conv2;
  int64_t pad;
  bool subsample;
};

class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);
  FoldedBlock folded(bool onednn) const;

 private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  int64_t pad_ = 0;       // channels zero-padded on each side by the shortcut
  bool subsample_ = false;
};
TORCH_MODULE(BasicBlock);

class ResNetImpl : public ClassifierImpl {
 public:
  // depth 20, 32, 44 or 56 (6n+2).
  ResNetImpl(int64_t depth, int64_t channels, int64_t num_classes, bool normed_linear);
  torch::Tensor forward(torch::Tensor x) override;
  // Folded BatchNorms; on CPU, where LibTorch has oneDNN, in oneDNN's layout.
  InferenceFn inference(torch::Device device) override;
  // The same with the layout chosen: onednn needs CPU and LibTorch with oneDNN.
  InferenceFn folded_inference(bool onednn);

 private:
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr};
  torch::nn::Linear linear{nullptr};
  NormedLinear normed{nullptr};
};

}  // namespace invkit::models
