#include "invkit/metrics/transform_decoding.h"

#include <algorithm>
#include <cmath>

#include "invkit/error.h"
#include "invkit/metrics/wasserstein.h"
#include "invkit/random.h"

namespace invkit::metrics {
namespace {

constexpr double kPi = 3.14159265358979323846;

// "rotate#2.angle" -> op "rotate", param "angle".
std::pair<std::string, std::string> split_name(const std::string& name) {
  const auto dot = name.find('.');
  std::string op = name.substr(0, dot), param = dot == std::string::npos ? "" : name.substr(dot + 1);
  op = op.substr(0, op.find('#'));
  return {op, param};
}

int64_t width(const ParamColumn& c) {
  const int64_t block = c.kind == ParamKind::Angle ? 2 : c.kind == ParamKind::Category ? c.categories : 1;
  return block + (c.optional ? 1 : 0);
}

// The finite entries of column j of a [N, P] float tensor.
std::vector<double> present(const torch::Tensor& t, int64_t j) {
  auto col = t.select(1, j).to(torch::kDouble).contiguous();
  col = col.masked_select(torch::isfinite(col));
  return {col.data_ptr<double>(), col.data_ptr<double>() + col.numel()};
}

double wrap_degrees(double d) {
  d = std::fmod(d, 360.0);
  if (d > 180) d -= 360;
  if (d <= -180) d += 360;
  return d;
}

torch::Tensor to_unit(const torch::Tensor& images) { return images.to(torch::kFloat).div(127.5).sub(1.0); }

}  // namespace

const char* kind_name(ParamKind kind) {
  switch (kind) {
    case ParamKind::Angle: return "angle";
    case ParamKind::Category: return "category";
    case ParamKind::Value: return "value";
  }
  return "value";
}

std::vector<ParamColumn> describe_params(const std::vector<std::string>& names, const torch::Tensor& params) {
  if (params.dim() != 2 || params.size(1) != static_cast<int64_t>(names.size()))
    throw Error("transform decoding: params must be [N, " + std::to_string(names.size()) + "]");
  std::vector<ParamColumn> columns;
  for (size_t j = 0; j < names.size(); ++j) {
    ParamColumn c;
    c.name = names[j];
    const auto values = present(params, static_cast<int64_t>(j));
    if (values.empty())
      throw Error("transform decoding: params column " + c.name + " was not drawn once in " +
                  std::to_string(params.size(0)) + " draws");
    c.optional = static_cast<int64_t>(values.size()) < params.size(0);
    const auto [op, param] = split_name(c.name);
    if (op == "choice") {
      c.kind = ParamKind::Category;
      c.categories = static_cast<int64_t>(*std::max_element(values.begin(), values.end())) + 1;
    } else if (op == "rotate" && param == "angle") {
      c.kind = ParamKind::Angle;
    } else {
      double sum = 0, sq = 0;
      for (double v : values) sum += v;
      c.mean = sum / static_cast<double>(values.size());
      for (double v : values) sq += (v - c.mean) * (v - c.mean);
      c.std = std::sqrt(sq / static_cast<double>(values.size()));
      if (c.std < 1e-9) c.std = 1;  // a constant: any scale will do
    }
    columns.push_back(c);
  }
  return columns;
}

DecoderNetImpl::DecoderNetImpl(int64_t channels, int64_t outputs) {
  namespace nn = torch::nn;
  features = register_module("features", nn::Sequential());
  int64_t in = 2 * channels;
  for (auto [out, stride] : {std::pair<int64_t, int64_t>{32, 1}, {64, 2}, {128, 2}, {128, 2}}) {
    features->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
    features->push_back(nn::BatchNorm2d(out));
    features->push_back(nn::ReLU());
    in = out;
  }
  features->push_back(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(4)));
  head = register_module("head", nn::Sequential(nn::Flatten(), nn::Linear(128 * 16, 256), nn::ReLU(),
                                                nn::Linear(256, outputs)));
}

torch::Tensor DecoderNetImpl::forward(torch::Tensor pairs) { return head->forward(features->forward(pairs)); }

TransformDecoder::TransformDecoder(const transforms::Transform& truth, const torch::Tensor& images,
                                   const DecoderTraining& opt, torch::Device device,
                                   const std::function<void(int64_t, int64_t, double)>& progress)
    : device_(device) {
  if (images.dim() != 4 || images.size(0) < 1 || images.scalar_type() != torch::kByte)
    throw Error("transform decoding: the training images must be uint8 [N, C, H, W] with N >= 1");
  const int64_t n = images.size(0);
  // The columns, from a first sample of draws (at least 4096, so that every
  // alternative of a choice shows up).
  {
    const int64_t m = std::max<int64_t>(4096, opt.batch);
    auto rows = torch::arange(m, torch::kLong).remainder(n);
    torch::Tensor params;
    truth.apply(images.index_select(0, rows).to(device), opt.seed, torch::arange(m, torch::kLong) + opt.steps * opt.batch,
                &params);
    columns_ = describe_params(truth.param_names(), params.to(torch::kCPU));
  }
  int64_t outputs = 0;
  for (const auto& c : columns_) outputs += width(c);
  net_ = DecoderNet(images.size(1), outputs);
  net_->to(device);
  net_->train();
  torch::optim::Adam adam(net_->parameters(), torch::optim::AdamOptions(opt.lr));
  for (int64_t step = 0; step < opt.steps; ++step) {
    if (step == opt.steps * 3 / 4)
      for (auto& group : adam.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(opt.lr / 10);
    auto gen = cpu_generator(key_seed(opt.seed, step));
    auto rows = torch::randint(n, {opt.batch}, gen, torch::kLong);
    auto x = images.index_select(0, rows).to(device);
    torch::Tensor params;
    auto y = truth.apply(x, opt.seed, torch::arange(opt.batch, torch::kLong) + step * opt.batch, &params);
    auto out = net_->forward(torch::cat({to_unit(x), to_unit(y)}, 1));
    auto l = loss(out, params.to(device));
    adam.zero_grad();
    l.backward();
    adam.step();
    if (progress) progress(step + 1, opt.steps, l.item<double>());
  }
  net_->eval();
}

torch::Tensor TransformDecoder::loss(const torch::Tensor& out, const torch::Tensor& params) const {
  auto total = torch::zeros({}, out.options());
  int64_t at = 0;
  for (size_t j = 0; j < columns_.size(); ++j) {
    const auto& c = columns_[j];
    auto truth = params.select(1, static_cast<int64_t>(j));
    auto drawn = torch::isfinite(truth);
    if (c.optional) {
      total = total + torch::binary_cross_entropy_with_logits(out.select(1, at), drawn.to(out.dtype()));
      ++at;
    }
    const int64_t block = width(c) - (c.optional ? 1 : 0);
    auto rows = drawn.nonzero().squeeze(1);
    if (rows.numel() > 0) {
      auto pred = out.slice(1, at, at + block).index_select(0, rows);
      auto t = truth.index_select(0, rows);
      if (c.kind == ParamKind::Angle) {
        auto rad = t * (kPi / 180.0);
        total = total + torch::mse_loss(pred, torch::stack({torch::cos(rad), torch::sin(rad)}, 1));
      } else if (c.kind == ParamKind::Category) {
        total = total + torch::cross_entropy_loss(pred, t.to(torch::kLong));
      } else {
        total = total + torch::mse_loss(pred.squeeze(1), (t - c.mean) / c.std);
      }
    }
    at += block;
  }
  return total;
}

torch::Tensor TransformDecoder::decode(const torch::Tensor& x, const torch::Tensor& y, int64_t batch) const {
  if (x.sizes() != y.sizes() || x.dim() != 4) throw Error("transform decoding: x and y must be [N, C, H, W] alike");
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t b = 0; b < x.size(0); b += batch) {
    const int64_t e = std::min(x.size(0), b + batch);
    auto out = net_->forward(torch::cat({to_unit(x.slice(0, b, e).to(device_)), to_unit(y.slice(0, b, e).to(device_))}, 1))
                   .to(torch::kCPU, torch::kFloat);
    auto decoded = torch::empty({e - b, static_cast<int64_t>(columns_.size())}, torch::kFloat);
    int64_t at = 0;
    for (size_t j = 0; j < columns_.size(); ++j) {
      const auto& c = columns_[j];
      torch::Tensor absent;
      if (c.optional) absent = out.select(1, at++) <= 0;
      torch::Tensor v;
      if (c.kind == ParamKind::Angle) {
        v = torch::atan2(out.select(1, at + 1), out.select(1, at)) * (180.0 / kPi);
        at += 2;
      } else if (c.kind == ParamKind::Category) {
        v = out.slice(1, at, at + c.categories).argmax(1).to(torch::kFloat);
        at += c.categories;
      } else {
        v = out.select(1, at) * c.std + c.mean;
        at += 1;
      }
      if (absent.defined()) v = v.masked_fill(absent, std::numeric_limits<float>::quiet_NaN());
      decoded.select(1, static_cast<int64_t>(j)).copy_(v);
    }
    parts.push_back(decoded);
  }
  if (parts.empty()) return torch::empty({0, static_cast<int64_t>(columns_.size())}, torch::kFloat);
  return torch::cat(parts);
}

nlohmann::json decoding_accuracy(const std::vector<ParamColumn>& columns, const torch::Tensor& decoded,
                                 const torch::Tensor& truth) {
  auto result = nlohmann::json::array();
  auto d64 = decoded.to(torch::kDouble).contiguous(), t64 = truth.to(torch::kDouble).contiguous();
  for (size_t j = 0; j < columns.size(); ++j) {
    const auto& c = columns[j];
    auto dc = d64.select(1, static_cast<int64_t>(j)), tc = t64.select(1, static_cast<int64_t>(j));
    auto both = torch::isfinite(dc).logical_and(torch::isfinite(tc));
    auto dv = dc.masked_select(both), tv = tc.masked_select(both);
    std::vector<double> d(dv.data_ptr<double>(), dv.data_ptr<double>() + dv.numel());
    std::vector<double> t(tv.data_ptr<double>(), tv.data_ptr<double>() + tv.numel());
    nlohmann::json row = {{"name", c.name}, {"kind", kind_name(c.kind)}, {"pairs", d.size()}};
    double error = NAN, chance = NAN;
    const auto n = static_cast<double>(t.size());
    if (!t.empty()) {
      error = chance = 0;
      if (c.kind == ParamKind::Angle) {
        double s = 0, co = 0;
        for (double v : t) s += std::sin(v * kPi / 180), co += std::cos(v * kPi / 180);
        const double mean = std::atan2(s, co) * 180 / kPi;
        for (size_t i = 0; i < t.size(); ++i)
          error += std::abs(wrap_degrees(d[i] - t[i])) / n, chance += std::abs(wrap_degrees(mean - t[i])) / n;
        row["unit"] = "degrees";
      } else if (c.kind == ParamKind::Category) {
        std::vector<double> counts(static_cast<size_t>(c.categories), 0);
        for (size_t i = 0; i < t.size(); ++i) {
          error += (std::lround(d[i]) != std::lround(t[i])) / n;
          const auto k = static_cast<size_t>(std::lround(t[i]));
          if (k < counts.size()) counts[k] += 1;
        }
        chance = 1 - *std::max_element(counts.begin(), counts.end()) / n;
        row["unit"] = "share misread";
      } else {
        auto sorted = t;
        std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
        const double median = sorted[sorted.size() / 2];
        for (size_t i = 0; i < t.size(); ++i) error += std::abs(d[i] - t[i]) / n, chance += std::abs(median - t[i]) / n;
      }
    }
    row["error"] = error;
    row["chance"] = chance;
    if (c.optional)
      row["presence_error"] =
          torch::isfinite(dc).ne(torch::isfinite(tc)).to(torch::kDouble).mean().item<double>();
    result.push_back(row);
  }
  return result;
}

std::vector<double> param_distances(const std::vector<ParamColumn>& columns, const torch::Tensor& a,
                                    const torch::Tensor& b) {
  std::vector<double> out;
  for (size_t j = 0; j < columns.size(); ++j) {
    const auto va = present(a, static_cast<int64_t>(j)), vb = present(b, static_cast<int64_t>(j));
    if (va.empty() || vb.empty()) {
      out.push_back(NAN);
      continue;
    }
    switch (columns[j].kind) {
      case ParamKind::Angle: out.push_back(wasserstein1_circular(va, vb, 360)); break;
      case ParamKind::Category: {
        std::vector<int64_t> ca, cb;
        for (double v : va) ca.push_back(std::lround(v));
        for (double v : vb) cb.push_back(std::lround(v));
        out.push_back(total_variation(ca, cb));
        break;
      }
      case ParamKind::Value: out.push_back(wasserstein1(va, vb)); break;
    }
  }
  return out;
}

}  // namespace invkit::metrics
