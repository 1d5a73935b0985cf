#include "invkit/models/classifier.h"

#include <algorithm>

#include "invkit/error.h"
#include "invkit/models/cnn.h"
#include "invkit/models/resnet.h"

namespace invkit::models {

const std::vector<std::string>& classifier_archs() {
  static const std::vector<std::string> archs{"resnet20", "resnet32", "resnet44", "resnet56", "cnn"};
  return archs;
}

std::shared_ptr<ClassifierImpl> make_classifier(const ClassifierSpec& spec) {
  if (spec.channels < 1) throw UsageError("a classifier needs at least 1 input channel");
  if (spec.num_classes < 1) throw UsageError("a classifier needs at least 1 class");
  if (spec.height < 8 || spec.width < 8)
    throw UsageError("input " + std::to_string(spec.height) + "x" + std::to_string(spec.width) +
                     " is too small: classifiers need at least 8x8");
  if (spec.arch == "cnn") return std::make_shared<SmallCnnImpl>(spec.channels, spec.num_classes, spec.normed_linear);
  for (int depth : {20, 32, 44, 56})
    if (spec.arch == "resnet" + std::to_string(depth))
      return std::make_shared<ResNetImpl>(depth, spec.channels, spec.num_classes, spec.normed_linear);
  throw UsageError("unknown architecture '" + spec.arch + "' (expected resnet20, resnet32, resnet44, resnet56 or cnn)");
}

void use_channels_last(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
}

torch::Tensor Normalization::apply(const torch::Tensor& images) const {
  // One fused multiply-add per pixel: x*scale + shift.
  const int64_t c = images.size(1);
  std::vector<float> scale(c), shift(c);
  for (int64_t i = 0; i < c; ++i) {
    scale[i] = static_cast<float>(1.0 / (255.0 * std[i]));
    shift[i] = static_cast<float>(-mean[i] / std[i]);
  }
  auto opts = torch::TensorOptions().dtype(torch::kFloat);
  auto s = torch::from_blob(scale.data(), {1, c, 1, 1}, opts).to(images.device());
  auto b = torch::from_blob(shift.data(), {1, c, 1, 1}, opts).to(images.device());
  return torch::addcmul(b, images.to(torch::kFloat), s);
}

Normalization Normalization::of(const torch::Tensor& images) {
  const int64_t c = images.size(1);
  auto sum = torch::zeros({c}, torch::kDouble), sq = torch::zeros({c}, torch::kDouble);
  // A chunk is at most 4096 rows and 2^22 pixels (32 MB as doubles, twice that with
  // its squares): a set of large images is not copied whole into memory. (models/
  // may not include data/, whose rows_per_chunk has the same 32 MB budget.)
  const int64_t row_pixels = std::max<int64_t>(1, images.size(1) * images.size(2) * images.size(3));
  const int64_t chunk = std::clamp<int64_t>((int64_t{1} << 22) / row_pixels, 1, 4096);
  for (int64_t i = 0; i < images.size(0); i += chunk) {
    auto x = images.slice(0, i, std::min(i + chunk, images.size(0))).to(torch::kDouble).div_(255.0);
    sum += x.sum({0, 2, 3}).cpu();
    sq += x.pow(2).sum({0, 2, 3}).cpu();
  }
  const double n = static_cast<double>(images.size(0)) * images.size(2) * images.size(3);
  Normalization norm;
  for (int64_t i = 0; i < c; ++i) {
    double m = n > 0 ? sum[i].item<double>() / n : 0.0;
    double var = n > 1 ? (sq[i].item<double>() - n * m * m) / (n - 1) : 0.0;
    norm.mean.push_back(m);
    // A constant channel would divide by zero; leave it unscaled.
    norm.std.push_back(var > 1e-12 ? std::sqrt(var) : 1.0);
  }
  return norm;
}

InferenceFn ClassifierImpl::inference(torch::Device) {
  return [this](const torch::Tensor& x) { return forward(x); };
}

Predictor::Predictor(ClassifierImpl& model, Normalization norm, torch::Device device)
    : model_(model), norm_(std::move(norm)), device_(device) {
  c10::InferenceMode inference;
  inference_ = model.inference(device);
}

torch::Tensor Predictor::operator()(const torch::Tensor& images, int64_t batch) const {
  c10::InferenceMode inference;  // no autograd bookkeeping at all, unlike NoGradGuard
  const bool was_training = model_.is_training();
  model_.eval();
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < images.size(0); i += batch) {
    auto x = images.slice(0, i, std::min(i + batch, images.size(0))).to(device_);
    out.push_back(inference_(norm_.apply(x)).to(torch::kCPU, torch::kFloat));
  }
  model_.train(was_training);
  if (out.empty()) return torch::zeros({0, 0});
  return torch::cat(out);
}

torch::Tensor predict_logits(ClassifierImpl& model, const Normalization& norm, const torch::Tensor& images,
                             int64_t batch, torch::Device device) {
  return Predictor(model, norm, device)(images, batch);
}

}  // namespace invkit::models
