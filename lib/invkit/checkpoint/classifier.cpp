#include "invkit/checkpoint/classifier.h"

#include "invkit/data/class_match.h"
#include "invkit/error.h"
#include "invkit/io/manifest.h"
#include "invkit/io/text.h"

namespace invkit::checkpoint {

nlohmann::json describe_classifier(const models::ClassifierSpec& spec, const models::Normalization& norm,
                                   const std::vector<std::string>& class_names,
                                   const std::vector<int64_t>& class_counts) {
  return {{"format", kClassifierFormat},
          {"arch", spec.arch},
          {"num_classes", spec.num_classes},
          {"channels", spec.channels},
          {"height", spec.height},
          {"width", spec.width},
          {"normed_linear", spec.normed_linear},
          {"normalization", {{"mean", norm.mean}, {"std", norm.std}}},
          {"class_names", class_names},
          {"class_counts", class_counts}};
}

void save_checkpoint(const std::string& path, torch::nn::Module& model, const io::NamedTensors& extra,
                     const nlohmann::json& manifest) {
  io::NamedTensors tensors = model_tensors(model);
  tensors.insert(tensors.end(), extra.begin(), extra.end());
  io::write_safetensors(path, tensors, io::metadata_with_manifest(manifest));
}

void write_resume_point(nlohmann::json& manifest, const ResumePoint& point) {
  manifest["epoch"] = point.epoch;
  manifest["step_in_epoch"] = point.step_in_epoch;
  manifest["best"] = {{"epoch", point.best_epoch}, {"val_accuracy", point.best_val_accuracy}, {"val", point.best_val}};
}

ResumePoint read_resume_point(const io::Safetensors& st, const nlohmann::json& description) {
  nlohmann::json m = io::manifest_of(st);
  if (!m.is_object() || m.value("format", "") != kClassifierFormat)
    throw Error(st.source() + ": not a classifier checkpoint");
  for (const char* k : {"arch", "num_classes", "channels", "height", "width", "normed_linear"}) {
    const nlohmann::json& mine = description.at(k);
    if (m.value(k, nlohmann::json()) != mine)
      throw Error(st.source() + ": checkpoint " + k + " is " + io::dump_json(m.value(k, nlohmann::json())) +
                  " but this run has " + io::dump_json(mine));
  }
  const nlohmann::json best = m.value("best", nlohmann::json::object());
  ResumePoint p;
  p.epoch = m.value("epoch", int64_t{0});
  p.step_in_epoch = m.value("step_in_epoch", int64_t{0});
  p.best_epoch = best.value("epoch", int64_t{-1});
  p.best_val_accuracy = best.value("val_accuracy", -1.0);
  p.best_val = best.value("val", nlohmann::json());
  return p;
}

LoadedClassifier load_classifier(const std::string& path, torch::Device device) {
  return load_classifier(io::Safetensors::read(path), device);
}

LoadedClassifier load_classifier(const io::Safetensors& st, torch::Device device) {
  const std::string& src = st.source();
  nlohmann::json m = io::manifest_of(st);
  if (!m.is_object() || m.value("format", "") != kClassifierFormat)
    throw Error(src + ": not a classifier checkpoint (manifest format must be \"" + kClassifierFormat + "\")");
  LoadedClassifier c;
  try {
    c.spec.arch = m.at("arch").get<std::string>();
    c.spec.num_classes = m.at("num_classes").get<int64_t>();
    c.spec.channels = m.at("channels").get<int64_t>();
    c.spec.height = m.at("height").get<int64_t>();
    c.spec.width = m.at("width").get<int64_t>();
    c.spec.normed_linear = m.value("normed_linear", false);
    c.normalization.mean = m.at("normalization").at("mean").get<std::vector<double>>();
    c.normalization.std = m.at("normalization").at("std").get<std::vector<double>>();
    c.class_names = m.at("class_names").get<std::vector<std::string>>();
    c.class_counts = m.at("class_counts").get<std::vector<int64_t>>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(src + ": classifier manifest is incomplete: " + e.what());
  }
  if (static_cast<int64_t>(c.normalization.mean.size()) != c.spec.channels ||
      static_cast<int64_t>(c.normalization.std.size()) != c.spec.channels)
    throw Error(src + ": normalization does not have one mean and std per channel");
  if (static_cast<int64_t>(c.class_names.size()) != c.spec.num_classes)
    throw Error(src + ": class_names does not have num_classes entries");
  try {
    c.model = models::make_classifier(c.spec);
  } catch (const UsageError& e) {
    throw Error(src + ": " + e.text());
  }
  load_model_tensors(*c.model, st);
  c.model->to(device);
  c.model->eval();
  c.logit_scale = c.spec.normed_linear ? models::kLdamScale : 1.0;
  c.manifest = std::move(m);
  return c;
}

void check_data_matches(const LoadedClassifier& clf, const ImageShape& shape, Dataset& data,
                        const std::string& checkpoint_name, const std::string& data_name) {
  const ImageShape expected{clf.spec.channels, clf.spec.height, clf.spec.width};
  if (shape != expected)
    throw Error(data_name + ": images are " + shape.str() + " but " + checkpoint_name + " expects " + expected.str());
  align_classes(data, data_name, clf.class_names, checkpoint_name);
}

}  // namespace invkit::checkpoint
