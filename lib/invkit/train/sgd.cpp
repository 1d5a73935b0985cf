#include "invkit/train/sgd.h"

#include "invkit/error.h"

namespace invkit::train {

Sgd::Sgd(std::vector<std::pair<std::string, torch::Tensor>> params, double momentum, double weight_decay)
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

io::NamedTensors Sgd::state() const {
  io::NamedTensors out;
  for (size_t i = 0; i < params_.size(); ++i)
    if (buffers_[i].defined())
      out.emplace_back("optimizer." + params_[i].first + ".momentum_buffer", buffers_[i].detach().to(torch::kCPU).contiguous());
  return out;
}

void Sgd::load_state(const io::Safetensors& st) {
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string name = "optimizer." + params_[i].first + ".momentum_buffer";
    if (!st.find(name)) {
      buffers_[i] = torch::Tensor();
      continue;
    }
    auto t = st.tensor(name);
    if (t.sizes() != params_[i].second.sizes())
      throw Error(st.source() + ": " + name + " has the wrong shape");
    buffers_[i] = t.to(params_[i].second.device(), params_[i].second.scalar_type());
  }
}

}  // namespace invkit::train
