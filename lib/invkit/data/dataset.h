// A labelled image set as every tool passes it on: uint8 images N×C×H×W,
// int64 labels, class names, and the manifest (history and tool extras).
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace invkit {

constexpr const char* kDatasetFormat = "invkit.dataset/1";

// The most classes a set numbered from a count (a manifest's num_classes or
// the largest label, when no names are given) may have.
constexpr int64_t kMaxClasses = int64_t(1) << 24;

// The shape of a set's images, C×H×W: what a model or another set must
// accept, known without the pixels (DatasetReader::image_shape()).
struct ImageShape {
  int64_t channels = 0, height = 0, width = 0;
  std::string str() const;  // "CxHxW", as messages write it
  bool operator==(const ImageShape& o) const {
    return channels == o.channels && height == o.height && width == o.width;
  }
  bool operator!=(const ImageShape& o) const { return !(*this == o); }
};

struct Dataset {
  torch::Tensor images;  // uint8 [N, C, H, W]
  torch::Tensor labels;  // int64 [N]
  torch::Tensor index;   // int64 [N], row in the parent set; undefined if absent
  torch::Tensor params;  // float32 [N, P], drawn transform parameters; undefined if absent
  std::vector<std::string> class_names;
  // Everything else of the manifest: `history` and keys tools add
  // (class_order, params_columns, ...). format/counts/shape are derived.
  nlohmann::json extra = nlohmann::json::object();

  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
  int64_t num_classes() const { return static_cast<int64_t>(class_names.size()); }
  int64_t channels() const { return images.size(1); }
  int64_t height() const { return images.size(2); }
  int64_t width() const { return images.size(3); }
  ImageShape image_shape() const { return {channels(), height(), width()}; }
  std::vector<int64_t> class_counts() const;

  // Hints that the images will be read in random order, as training draws
  // its batches (io::advise_random_access); nothing for images off the CPU.
  void advise_random_reads() const;

  // The full manifest as stored in __metadata__["invkit"].
  nlohmann::json manifest() const;

  // Throws Error("SOURCE: ...") unless shapes, dtypes and labels agree.
  void validate(const std::string& source) const;

  // Throws Error("SOURCE: the data set is empty (0 rows); WHY") when the
  // set has no rows, for the tools that cannot give a correct answer then.
  void require_rows(const std::string& source, const std::string& why) const;

  // Appends {tool, version, arguments, seed} to extra["history"].
  void add_history(const nlohmann::json& entry);

  // Rows `rows` (int64 indices) of this set; the result's `index` holds
  // `rows`, each output row's row in this set, so a chain can be traced back.
  // A set without images (a DatasetReader's head) gives one without images.
  Dataset select(const torch::Tensor& rows) const;

  static Dataset load(const std::string& path);  // "-" reads stdin
  // A set from a file's tensors and its manifest (null: none), checked as
  // load() checks a file: class names from the manifest (else numbered),
  // num_classes, class_counts and sizes against it. Errors name `source`.
  static Dataset from_parts(nlohmann::json manifest, torch::Tensor images, torch::Tensor labels, torch::Tensor index,
                            torch::Tensor params, const std::string& source);
  void save(const std::string& path) const;      // "-" writes stdout
};

// Generic class names "0", "1", ... for sets without names.
std::vector<std::string> numbered_class_names(int64_t num_classes);

}  // namespace invkit
