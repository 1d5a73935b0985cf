#include "invkit/train/optimizers.h"

#include <cmath>

#include "invkit/error.h"

namespace invkit::train {

namespace {

// The tensor `name` of `st` on the device and in the type of `like`; an Error
// naming it when it is missing or has another shape.
torch::Tensor state_tensor(const io::Safetensors& st, const std::string& name, const torch::Tensor& like) {
  if (!st.find(name)) throw Error(st.source() + ": checkpoint lacks tensor \"" + name + "\"");
  auto t = st.tensor(name);
  if (t.sizes() != like.sizes()) throw Error(st.source() + ": " + name + " has the wrong shape");
  return t.to(like.device(), like.scalar_type());
}

torch::Tensor cpu(const torch::Tensor& t) { return t.detach().to(torch::kCPU).contiguous(); }

}  // namespace

NamedParameters named_parameters(const torch::nn::Module& module) {
  NamedParameters out;
  for (const auto& p : module.named_parameters()) out.emplace_back(p.key(), p.value());
  return out;
}

// ---------------------------------------------------------------- SGD

Sgd::Sgd(NamedParameters params, double momentum, double weight_decay)
    : params_(std::move(params)), buffers_(params_.size()), momentum_(momentum), weight_decay_(weight_decay) {}

void Sgd::zero_grad() {
  for (auto& [name, p] : params_)
    if (p.grad().defined()) p.mutable_grad().zero_();
}

void Sgd::step(double lr) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i].second;
    if (!p.grad().defined()) continue;
    auto d = p.grad();
    if (weight_decay_ != 0) d = d.add(p, weight_decay_);
    if (momentum_ != 0) {
      if (!buffers_[i].defined())
        buffers_[i] = d.clone();
      else
        buffers_[i].mul_(momentum_).add_(d);
      d = buffers_[i];
    }
    p.add_(d, -lr);
  }
}

io::NamedTensors Sgd::state(const std::string& prefix) const {
  io::NamedTensors out;
  for (size_t i = 0; i < params_.size(); ++i)
    if (buffers_[i].defined()) out.emplace_back(prefix + params_[i].first + ".momentum_buffer", cpu(buffers_[i]));
  return out;
}

void Sgd::load_state(const io::Safetensors& st, const std::string& prefix) {
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string name = prefix + params_[i].first + ".momentum_buffer";
    buffers_[i] = st.find(name) ? state_tensor(st, name, params_[i].second) : torch::Tensor();
  }
}

// ---------------------------------------------------------------- Adam

Adam::Adam(NamedParameters params, double beta1, double beta2, double weight_decay)
    : params_(std::move(params)), beta1_(beta1), beta2_(beta2), wd_(weight_decay) {
  for (const auto& [name, p] : params_) {
    m_.push_back(torch::zeros_like(p));
    v_.push_back(torch::zeros_like(p));
  }
}

void Adam::zero_grad() {
  for (auto& [name, p] : params_) p.mutable_grad().reset();  // set_to_none
}

void Adam::step(double lr) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const double bc1 = 1 - std::pow(beta1_, static_cast<double>(steps_));
  const double bc2_sqrt = std::sqrt(1 - std::pow(beta2_, static_cast<double>(steps_)));
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i].second;
    const torch::Tensor& grad = p.grad();
    if (!grad.defined()) continue;
    torch::Tensor g = wd_ != 0 ? grad.add(p, wd_) : grad;
    m_[i].mul_(beta1_).add_(g, 1 - beta1_);
    v_[i].mul_(beta2_).addcmul_(g, g, 1 - beta2_);
    torch::Tensor denom = (v_[i].sqrt() / bc2_sqrt).add_(1e-8);
    p.addcdiv_(m_[i], denom, -lr / bc1);
  }
}

io::NamedTensors Adam::state(const std::string& prefix) const {
  io::NamedTensors out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out.emplace_back(prefix + params_[i].first + ".exp_avg", cpu(m_[i]));
    out.emplace_back(prefix + params_[i].first + ".exp_avg_sq", cpu(v_[i]));
  }
  return out;
}

void Adam::load_state(const io::Safetensors& st, const std::string& prefix) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    m_[i].copy_(state_tensor(st, prefix + params_[i].first + ".exp_avg", m_[i]));
    v_[i].copy_(state_tensor(st, prefix + params_[i].first + ".exp_avg_sq", v_[i]));
  }
}

}  // namespace invkit::train
