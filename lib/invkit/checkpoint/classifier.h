// Classifier checkpoints: safetensors with the PyTorch state_dict names of
// the model (buffers included), optimizer momentum under "optimizer.", and
// the manifest (format invkit.classifier/1: architecture, input shape,
// normalization, classes and training counts, arguments, epoch, metrics).
#pragma once
#include <torch/torch.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "invkit/checkpoint/module_tensors.h"
#include "invkit/data/dataset.h"
#include "invkit/io/safetensors.h"
#include "invkit/models/classifier.h"

namespace invkit::checkpoint {

constexpr const char* kClassifierFormat = "invkit.classifier/1";

// The manifest keys that fix the model: format, arch, num_classes, channels,
// height, width, normed_linear, normalization, class_names, class_counts.
nlohmann::json describe_classifier(const models::ClassifierSpec& spec, const models::Normalization& norm,
                                   const std::vector<std::string>& class_names,
                                   const std::vector<int64_t>& class_counts);

// Writes model tensors + `extra` tensors (optimizer state) + manifest atomically.
void save_checkpoint(const std::string& path, torch::nn::Module& model, const io::NamedTensors& extra,
                     const nlohmann::json& manifest);

// Where a training run stands, kept in its checkpoints' manifests ("epoch",
// "step_in_epoch", "best"): what a resumed run continues from.
struct ResumePoint {
  int64_t epoch = 0;          // epochs finished
  int64_t step_in_epoch = 0;  // steps done of the next epoch (a run stopped by a signal)
  int64_t best_epoch = -1;    // 1-based epoch of the best validation accuracy so far; -1 for none
  double best_val_accuracy = -1;
  nlohmann::json best_val;    // that epoch's validation metrics
};
// Writes `point` into a checkpoint manifest.
void write_resume_point(nlohmann::json& manifest, const ResumePoint& point);
// Reads the resume point of `st`, a checkpoint to continue a run of the model
// `description` (describe_classifier's): an Error naming the file if it is
// not a classifier checkpoint or one of arch, num_classes, channels, height,
// width and normed_linear differs.
ResumePoint read_resume_point(const io::Safetensors& st, const nlohmann::json& description);

// A classifier ready to use, as measure-ekld and evaluate need it.
struct LoadedClassifier {
  std::shared_ptr<models::ClassifierImpl> model;  // on the device, eval mode
  models::ClassifierSpec spec;
  models::Normalization normalization;
  std::vector<std::string> class_names;
  std::vector<int64_t> class_counts;  // of the training set; empty when unknown (a model trained elsewhere)
  nlohmann::json manifest;
  std::string kind = "invkit";  // or safetensors, torch.save, torchscript (checkpoint/external_model.h)
  // Probabilities are softmax(logit_scale * logits): LDAM's normalized last
  // layer outputs cosines, trained with s = 30 (models::kLdamScale).
  double logit_scale = 1.0;
};

// Reads a checkpoint; a file that is not an invkit.classifier/1 checkpoint
// or lacks a tensor is an Error naming it.
LoadedClassifier load_classifier(const std::string& path, torch::Device device);
// Throws Error unless images of `shape` fit the classifier, and re-expresses
// the labels of `data` (its labels and class names are read; its pixels, if
// any, are not) in the classifier's classes, matched by name
// (data/class_match.h): another order is remapped, a set lacking some of the
// classes is fine, a class the classifier does not know is an Error naming
// both files.
void check_data_matches(const LoadedClassifier& clf, const ImageShape& shape, Dataset& data,
                        const std::string& checkpoint_name, const std::string& data_name);

// Same, from an already parsed file.
LoadedClassifier load_classifier(const io::Safetensors& st, torch::Device device);

}  // namespace invkit::checkpoint
