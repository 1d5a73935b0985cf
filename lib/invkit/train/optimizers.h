// The optimizers of the paper's recipes, with PyTorch's update rules, behind
// one interface whose state is named tensors a checkpoint holds:
//  * Sgd (the classifiers, as LDAM-DRW): d = g + wd*p; buf = momentum*buf + d,
//    buf = d on the first step; p -= lr*buf (torch.optim.SGD, no dampening).
//  * Adam (MUNIT): torch.optim.Adam with L2 weight decay on the gradient and
//    bias correction.
// LibTorch's torch::optim makes the same updates, but its per-parameter state
// is keyed by a string in LibTorch 1.x and by a pointer in 2.x, so reading and
// writing it for checkpoints would need a version check at each use; these
// are thirty lines each instead.
#pragma once
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "invkit/io/safetensors.h"

namespace invkit::train {

// Parameters under their state_dict names.
using NamedParameters = std::vector<std::pair<std::string, torch::Tensor>>;
NamedParameters named_parameters(const torch::nn::Module& module);

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void zero_grad() = 0;
  virtual void step(double lr) = 0;  // one update with this learning rate
  // The state as PREFIX + parameter name + "." + buffer name (CPU, contiguous).
  virtual io::NamedTensors state(const std::string& prefix) const = 0;
  // Restores what state() wrote; a misshapen tensor (and, where the state
  // must exist, a missing one) is an Error naming the file and the tensor.
  virtual void load_state(const io::Safetensors& st, const std::string& prefix) = 0;
};

class Sgd : public Optimizer {
 public:
  Sgd(NamedParameters params, double momentum, double weight_decay);
  void zero_grad() override;
  void step(double lr) override;
  // PREFIX + NAME + ".momentum_buffer" for each buffer that exists (a
  // parameter's buffer appears at its first step; a missing one loads as none).
  io::NamedTensors state(const std::string& prefix) const override;
  void load_state(const io::Safetensors& st, const std::string& prefix) override;

 private:
  NamedParameters params_;
  std::vector<torch::Tensor> buffers_;  // undefined until a parameter's first step
  double momentum_, weight_decay_;
};

class Adam : public Optimizer {
 public:
  Adam(NamedParameters params, double beta1, double beta2, double weight_decay);
  void zero_grad() override;  // gradients set to none
  void step(double lr) override;
  // PREFIX + NAME + ".exp_avg" and ".exp_avg_sq" for every parameter; the
  // step count (bias correction) is steps(), kept in the manifest.
  io::NamedTensors state(const std::string& prefix) const override;
  void load_state(const io::Safetensors& st, const std::string& prefix) override;
  int64_t steps() const { return steps_; }
  void set_steps(int64_t steps) { steps_ = steps; }

 private:
  NamedParameters params_;
  std::vector<torch::Tensor> m_, v_;
  double beta1_, beta2_, wd_;
  int64_t steps_ = 0;
};

}  // namespace invkit::train
