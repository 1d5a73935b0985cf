// Classifiers trained elsewhere, for evaluate and measure-ekld: TorchScript
// modules (torch.jit.save), and state dicts of the architectures invkit knows
// (resnet20/32/44/56 as the paper's cifar_resnet.py and LDAM-DRW's
// resnet_cifar.py define them, NormedLinear included; the small cnn) as
// safetensors files without an invkit manifest or as torch.save files.
// What such a file does not record (input normalization, class names,
// training class counts, logit scale) comes from ExternalOptions.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "invkit/checkpoint/classifier.h"
#include "invkit/data/dataset.h"

namespace invkit::checkpoint {

// What a model file trained elsewhere does not say, from the command line.
struct ExternalOptions {
  std::string arch;            // --arch: the architecture of a state dict
  std::string state_dict_key;  // --state-dict-key: the entry of a torch.save dict that holds it
  // --mean/--std: the model's input normalization, in the units of its input
  // pixels (pixel_max); one value for every channel, or one per channel.
  std::vector<double> mean, std;
  double pixel_max = 1.0;              // --pixel-max: input pixels span [0, pixel_max] before normalization (1 or 255)
  double logit_scale = 0;              // --logit-scale: logits are multiplied by it before the softmax (0: default)
  std::string class_names;             // --class-names LIST|FILE: the names of the model's outputs, in order
  std::string train;                   // --train SET: class names and training counts from the training set
  std::string train_counts;            // --train-counts LIST|FILE: training counts in output order

  // Whether any option that only models trained elsewhere take was given.
  bool any_given() const;
};

// The kind of model file at PATH, from its first bytes and, for a zip
// archive, its records: "invkit" (a safetensors file with an
// invkit.classifier/1 manifest), "safetensors" (one without: a state dict),
// "torchscript" (a zip with constants.pkl), "torch.save" (any other zip).
// A legacy (pre-1.6, non-zip) torch.save file or anything else is an Error
// naming the file and saying what to do.
std::string model_file_kind(const std::string& path);

// Copies a state dict into the model's parameters and buffers, strictly:
// missing tensors (BatchNorm's num_batches_tracked excepted: PyTorch before
// 0.4.1 did not save it and evaluation never reads it), unexpected ones and
// shape mismatches are one Error naming `source` and the keys. A "module."
// prefix on every key (nn.DataParallel's) is dropped first. Tensors of any
// floating dtype are converted to the model's.
void load_state_dict(torch::nn::Module& model, std::map<std::string, torch::Tensor> tensors,
                     const std::string& source);

// The state dict in a torch.save (zip) file: the file's object itself when
// it is a dict of tensors, else its entry `key` (when given), "state_dict" or
// "model". Objects a weights-only reader refuses (io/torch_save.h), a missing
// entry (the message lists the entries there are) and non-tensor values are
// an Error naming the file.
std::map<std::string, torch::Tensor> read_torch_save_state_dict(const std::string& path, const std::string& key);

// Any classifier file: an invkit checkpoint as load_classifier reads it (then
// `opt` must give nothing but --logit-scale, a UsageError otherwise), or a
// model trained elsewhere completed by `opt` and by the data it will see:
// `data` for its class names (its pixels, if any, are not read; a
// DatasetReader's head will do) and `shape`, its images' shape, which the
// model must accept (one black image is run through it to find its output
// count). DATA_NAME names the data in messages. The result's class names are
// those of the model's outputs (from --train, whose pixels are not read,
// --class-names or, failing both, the data's own, when the output count
// matches); check_data_matches then aligns the data by name, as for an invkit
// checkpoint.
LoadedClassifier load_any_classifier(const std::string& path, torch::Device device, const ExternalOptions& opt,
                                     const Dataset& data, const ImageShape& shape, const std::string& data_name);

}  // namespace invkit::checkpoint
