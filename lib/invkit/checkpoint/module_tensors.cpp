#include "invkit/checkpoint/module_tensors.h"

#include "invkit/error.h"

namespace invkit::checkpoint {

io::NamedTensors model_tensors(const torch::nn::Module& model, const std::string& prefix) {
  io::NamedTensors out;
  for (const auto& p : model.named_parameters())
    out.emplace_back(prefix + p.key(), p.value().detach().to(torch::kCPU).contiguous());
  for (const auto& b : model.named_buffers())
    out.emplace_back(prefix + b.key(), b.value().detach().to(torch::kCPU).contiguous());
  return out;
}

void load_model_tensors(torch::nn::Module& model, const io::Safetensors& st, const std::string& prefix) {
  torch::NoGradGuard no_grad;
  auto copy = [&](const std::string& key, torch::Tensor& target) {
    const std::string name = prefix + key;
    if (!st.find(name)) throw Error(st.source() + ": checkpoint lacks tensor \"" + name + "\"");
    auto t = st.tensor(name);
    if (t.sizes() != target.sizes())
      throw Error(st.source() + ": tensor \"" + name + "\" has shape " + c10::str(t.sizes()) + ", the model expects " +
                  c10::str(target.sizes()));
    target.copy_(t);
  };
  for (auto& p : model.named_parameters()) copy(p.key(), p.value());
  for (auto& b : model.named_buffers()) copy(b.key(), b.value());
}

}  // namespace invkit::checkpoint
