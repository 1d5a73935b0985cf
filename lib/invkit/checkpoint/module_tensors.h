// A module's tensors to and from a checkpoint: the one loop that copies named
// tensors into a network, for classifiers and generators alike.
#pragma once
#include <torch/torch.h>

#include <string>

#include "invkit/io/safetensors.h"

namespace invkit::checkpoint {

// The module's parameters and buffers under their state_dict names with
// `prefix` prepended (CPU, contiguous, detached), parameters first.
io::NamedTensors model_tensors(const torch::nn::Module& model, const std::string& prefix = "");

// Copies the tensors prefix + name of `st` into the module's parameters and
// buffers (onto their devices, without gradients). A missing tensor or a shape
// mismatch is an Error naming the file and the tensor; tensors of `st` the
// module does not have are left alone (optimizer state, other networks).
void load_model_tensors(torch::nn::Module& model, const io::Safetensors& st, const std::string& prefix = "");

}  // namespace invkit::checkpoint
