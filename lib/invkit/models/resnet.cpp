#include "invkit/models/resnet.h"

#include "invkit/error.h"

namespace invkit::models {

namespace nn = torch::nn;

NormedLinearImpl::NormedLinearImpl(int64_t in, int64_t out) {
  // uniform(-1, 1), then each column scaled to norm 1 (renorm along dim 1
  // with max norm 1e-5, times 1e5), as LDAM-DRW initializes it.
  weight = register_parameter("weight", torch::empty({in, out}).uniform_(-1, 1).renorm(2, 1, 1e-5).mul(1e5));
}

torch::Tensor NormedLinearImpl::forward(const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  return F::normalize(x, F::NormalizeFuncOptions().dim(1)).mm(F::normalize(weight, F::NormalizeFuncOptions().dim(0)));
}

static nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}

BasicBlockImpl::BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride) {
  conv1 = register_module("conv1", conv3x3(in_planes, planes, stride));
  bn1 = register_module("bn1", nn::BatchNorm2d(planes));
  conv2 = register_module("conv2", conv3x3(planes, planes, 1));
  bn2 = register_module("bn2", nn::BatchNorm2d(planes));
  if (stride != 1 || in_planes != planes) {
    // Option A: no parameters; the stage doubles channels and halves size.
    subsample_ = stride != 1;
    pad_ = (planes - in_planes) / 2;
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  auto out = torch::relu(bn1->forward(conv1->forward(x)));
  out = bn2->forward(conv2->forward(out));
  torch::Tensor shortcut = x;
  if (subsample_) shortcut = shortcut.slice(2, 0, c10::nullopt, 2).slice(3, 0, c10::nullopt, 2);
  if (pad_ > 0) shortcut = torch::constant_pad_nd(shortcut, {0, 0, 0, 0, pad_, pad_});
  return torch::relu(out + shortcut);
}

ResNetImpl::ResNetImpl(int64_t depth, int64_t channels, int64_t num_classes, bool normed_linear) {
  if (depth < 8 || (depth - 2) % 6 != 0) throw UsageError("resnet depth must be 6n+2, got " + std::to_string(depth));
  const int64_t n = (depth - 2) / 6;
  conv1 = register_module("conv1", conv3x3(channels, 16, 1));
  bn1 = register_module("bn1", nn::BatchNorm2d(16));
  int64_t in_planes = 16;
  auto stage = [&](int64_t planes, int64_t stride) {
    nn::Sequential s;
    for (int64_t i = 0; i < n; ++i) {
      s->push_back(BasicBlock(in_planes, planes, i == 0 ? stride : 1));
      in_planes = planes;
    }
    return s;
  };
  layer1 = register_module("layer1", stage(16, 1));
  layer2 = register_module("layer2", stage(32, 2));
  layer3 = register_module("layer3", stage(64, 2));
  // PyTorch calls the last layer `linear` in both variants.
  if (normed_linear)
    normed = register_module("linear", NormedLinear(64, num_classes));
  else
    linear = register_module("linear", nn::Linear(64, num_classes));
  // Kaiming normal (fan in, gain sqrt 2) for every conv and plain linear weight.
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* c = m->as<nn::Conv2d>()) nn::init::kaiming_normal_(c->weight);
    if (auto* l = m->as<nn::Linear>()) nn::init::kaiming_normal_(l->weight);
  }
}

torch::Tensor ResNetImpl::forward(torch::Tensor x) {
  auto out = torch::relu(bn1->forward(conv1->forward(x)));
  out = layer3->forward(layer2->forward(layer1->forward(out)));
  out = out.mean({2, 3});  // global average pooling, any input size
  return normed ? normed->forward(out) : linear->forward(out);
}

}  // namespace invkit::models
