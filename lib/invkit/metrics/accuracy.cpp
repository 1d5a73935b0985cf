#include "invkit/metrics/accuracy.h"

#include "invkit/error.h"

namespace invkit::metrics {

ClassMetrics classification_metrics(const torch::Tensor& predictions, const torch::Tensor& labels,
                                    int64_t num_classes, const std::vector<int64_t>& train_counts,
                                    ShotThresholds thresholds) {
  auto p = predictions.to(torch::kCPU, torch::kLong).flatten();
  auto y = labels.to(torch::kCPU, torch::kLong).flatten();
  if (p.size(0) != y.size(0)) throw Error("metrics: predictions and labels differ in length");
  const int64_t k = num_classes;
  // The confusion matrix in one bincount over (true * K + predicted).
  auto cm = torch::bincount(y * k + p, {}, k * k).view({k, k});
  auto acc = cm.accessor<int64_t, 2>();
  ClassMetrics m;
  m.total = y.size(0);
  m.confusion.assign(k, std::vector<int64_t>(k, 0));
  m.per_class.assign(k, std::nullopt);
  m.support.assign(k, 0);
  double recall_sum = 0;
  int64_t present = 0;
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = 0; j < k; ++j) {
      m.confusion[i][j] = acc[i][j];
      m.support[i] += acc[i][j];
    }
    m.correct += acc[i][i];
    if (m.support[i] > 0) {
      m.per_class[i] = static_cast<double>(acc[i][i]) / static_cast<double>(m.support[i]);
      recall_sum += *m.per_class[i];
      ++present;
    }
  }
  m.accuracy = m.total ? static_cast<double>(m.correct) / static_cast<double>(m.total) : 0.0;
  m.balanced_accuracy = present ? recall_sum / static_cast<double>(present) : 0.0;
  if (!train_counts.empty()) {
    if (static_cast<int64_t>(train_counts.size()) != k) throw Error("metrics: training counts do not match the classes");
    double sums[3] = {0, 0, 0};
    int64_t ns[3] = {0, 0, 0};
    for (int64_t i = 0; i < k; ++i) {
      if (!m.per_class[i]) continue;
      const int g = shot_group(static_cast<double>(train_counts[i]), thresholds);
      sums[g] += *m.per_class[i];
      ++ns[g];
    }
    auto mean = [&](int g) -> std::optional<double> {
      if (!ns[g]) return std::nullopt;
      return sums[g] / static_cast<double>(ns[g]);
    };
    m.many_shot = mean(0);
    m.medium_shot = mean(1);
    m.few_shot = mean(2);
  }
  return m;
}

static nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json to_json(const ClassMetrics& m, const std::vector<std::string>& class_names,
                       const std::vector<int64_t>& train_counts, ShotThresholds thresholds, bool confusion) {
  nlohmann::json j = {{"accuracy", m.accuracy},
                      {"balanced_accuracy", m.balanced_accuracy},
                      {"correct", m.correct},
                      {"total", m.total}};
  nlohmann::json per = nlohmann::json::array();
  for (size_t i = 0; i < m.per_class.size(); ++i) {
    nlohmann::json c = {{"class", i}, {"support", m.support[i]}, {"accuracy", opt(m.per_class[i])}};
    if (i < class_names.size()) c["name"] = class_names[i];
    if (i < train_counts.size()) c["train_count"] = train_counts[i];
    per.push_back(c);
  }
  j["per_class"] = per;
  if (!train_counts.empty())
    j["groups"] = {{"many", opt(m.many_shot)},
                   {"medium", opt(m.medium_shot)},
                   {"few", opt(m.few_shot)},
                   {"many_threshold", thresholds.many},
                   {"few_threshold", thresholds.few}};
  if (confusion) j["confusion"] = m.confusion;
  return j;
}

}  // namespace invkit::metrics
