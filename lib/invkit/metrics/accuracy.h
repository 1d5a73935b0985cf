// Classification metrics: accuracy, balanced accuracy (mean per-class
// recall), per-class accuracy, many/medium/few-shot groups by training size,
// and the confusion matrix.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace invkit::metrics {

// Shot groups by training-set size: many > `many`, few < `few`, medium otherwise.
struct ShotThresholds {
  int64_t many = 100;
  int64_t few = 20;
};

// 0 (many), 1 (medium) or 2 (few): the group of a class of `count` training examples.
inline int shot_group(double count, ShotThresholds t) {
  return count > static_cast<double>(t.many) ? 0 : count < static_cast<double>(t.few) ? 2 : 1;
}

struct ClassMetrics {
  int64_t total = 0;
  int64_t correct = 0;
  double accuracy = 0;                       // correct / total
  double balanced_accuracy = 0;              // mean over classes with examples
  std::vector<std::optional<double>> per_class;  // none for classes without examples
  std::vector<int64_t> support;              // examples per true class
  std::vector<std::vector<int64_t>> confusion;   // [true][predicted]
  // Mean per-class accuracy of each group (none when the group has no
  // class with examples); only with training counts.
  std::optional<double> many_shot, medium_shot, few_shot;
};

// Metrics of predictions [N] (int64) against labels [N] over `num_classes`.
// `train_counts` (may be empty) assigns the shot groups.
ClassMetrics classification_metrics(const torch::Tensor& predictions, const torch::Tensor& labels,
                                    int64_t num_classes, const std::vector<int64_t>& train_counts = {},
                                    ShotThresholds thresholds = {});

// JSON: accuracy, balanced_accuracy, correct, total, per_class [{class, name,
// train_count, support, accuracy}], groups {many, medium, few, thresholds};
// with `confusion` the matrix too.
nlohmann::json to_json(const ClassMetrics& m, const std::vector<std::string>& class_names,
                       const std::vector<int64_t>& train_counts, ShotThresholds thresholds, bool confusion);

}  // namespace invkit::metrics
