// ResNet inference with every BatchNorm folded into its convolution. On CPU
// the activations stay in oneDNN's blocked layout between convolutions, with
// the weights reordered once, instead of being converted on every call; this
// and the folding make evaluation 1.3-1.4x faster than the module's forward
// (scripts/bench classifier).
#include <ATen/Context.h>

#include "invkit/models/resnet.h"

namespace invkit::models {

FoldedConv::FoldedConv(const torch::nn::Conv2d& conv, const torch::nn::BatchNorm2d& bn, bool onednn)
    : stride(conv->options.stride()->at(0)) {
  auto scale = bn->weight / torch::sqrt(bn->running_var + bn->options.eps());
  weight = (conv->weight * scale.view({-1, 1, 1, 1})).contiguous();
  bias = bn->bias - bn->running_mean * scale;
  if (onednn) {
    weight = at::mkldnn_reorder_conv2d_weight(weight.to_mkldnn(), {1, 1}, {stride, stride}, {1, 1}, 1);
    bias = bias.to_mkldnn();
  }
}

torch::Tensor FoldedConv::run(const torch::Tensor& x) const {
  if (weight.is_mkldnn()) return at::mkldnn_convolution(x, weight, bias, {1, 1}, {stride, stride}, {1, 1}, 1);
  return torch::conv2d(x, weight, bias, stride, 1);
}

torch::Tensor FoldedBlock::run(const torch::Tensor& x) const {
  auto out = conv2.run(conv1.run(x).relu_());
  if (!subsample && pad == 0) return out.add_(x).relu_();
  // Option A's shortcut slices and pads, which oneDNN tensors cannot: do it dense.
  const bool onednn = x.is_mkldnn();
  auto shortcut = onednn ? x.to_dense() : x;
  if (subsample) shortcut = shortcut.slice(2, 0, c10::nullopt, 2).slice(3, 0, c10::nullopt, 2);
  if (pad > 0) shortcut = torch::constant_pad_nd(shortcut, {0, 0, 0, 0, pad, pad});
  if (onednn) shortcut = shortcut.to_mkldnn();
  return out.add_(shortcut).relu_();
}

FoldedBlock BasicBlockImpl::folded(bool onednn) const {
  return {FoldedConv(conv1, bn1, onednn), FoldedConv(conv2, bn2, onednn), pad_, subsample_};
}

InferenceFn ResNetImpl::inference(torch::Device device) {
  return folded_inference(device.is_cpu() && at::hasMKLDNN());
}

InferenceFn ResNetImpl::folded_inference(bool onednn) {
  auto stem = std::make_shared<FoldedConv>(conv1, bn1, onednn);
  auto blocks = std::make_shared<std::vector<FoldedBlock>>();
  for (const auto& layer : {layer1, layer2, layer3})
    for (const auto& block : layer->children()) blocks->push_back(block->as<BasicBlockImpl>()->folded(onednn));
  // The last layer stays the module (plain or LDAM's normed linear), so the
  // function shares its weights; the ResNet must outlive the function.
  return [this, stem, blocks, onednn](const torch::Tensor& x) {
    auto out = stem->run(onednn ? x.contiguous().to_mkldnn() : x).relu_();
    for (const auto& block : *blocks) out = block.run(out);
    if (onednn) out = out.to_dense();
    out = out.mean({2, 3});
    return normed ? normed->forward(out) : linear->forward(out);
  };
}

}  // namespace invkit::models
