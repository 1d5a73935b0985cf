// SGD with momentum and weight decay, PyTorch's update rule
// (d = g + wd*p; buf = momentum*buf + d, buf = d on the first step; p -= lr*buf),
// with named momentum buffers so a checkpoint can store and restore them.
#pragma once
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "invkit/io/safetensors.h"

namespace invkit::train {

class Sgd {
 public:
  Sgd(std::vector<std::pair<std::string, torch::Tensor>> params, double momentum, double weight_decay);

  void zero_grad();
  void step(double lr);

  // "optimizer.NAME.momentum_buffer" for every buffer that exists (CPU copies).
  io::NamedTensors state() const;
  // Restores buffers from a checkpoint; a missing or misshapen one is an Error.
  void load_state(const io::Safetensors& st);

 private:
  std::vector<std::pair<std::string, torch::Tensor>> params_;
  std::vector<torch::Tensor> buffers_;  // undefined until a parameter's first step
  double momentum_, weight_decay_;
};

}  // namespace invkit::train
