#include "invkit/metrics/generator_measure.h"

#include <cmath>

#include "invkit/error.h"
#include "invkit/metrics/stats.h"

namespace invkit::metrics {
namespace {

const char* kGroups[3] = {"many", "medium", "few"};

using DrawFn = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& keys, torch::Tensor* params)>;

// fn over x in slices of `batch` rows; params (if asked) concatenated alike.
torch::Tensor in_batches(const torch::Tensor& x, const torch::Tensor& keys, int64_t batch, const DrawFn& fn,
                         torch::Tensor* params, const std::function<void(int64_t)>& advance) {
  std::vector<torch::Tensor> out, ps;
  for (int64_t b = 0; b < x.size(0); b += batch) {
    const int64_t e = std::min(x.size(0), b + batch);
    torch::Tensor p;
    out.push_back(fn(x.slice(0, b, e), keys.slice(0, b, e), params ? &p : nullptr).to(torch::kCPU));
    if (params) ps.push_back(p.to(torch::kCPU));
    advance(e - b);
  }
  if (params) *params = torch::cat(ps);
  return torch::cat(out);
}

nlohmann::json by_column(const std::vector<ParamColumn>& columns, const std::vector<double>& v) {
  nlohmann::json out = nlohmann::json::object();
  for (size_t j = 0; j < columns.size(); ++j)
    out[columns[j].name] = std::isfinite(v[j]) ? nlohmann::json(v[j]) : nlohmann::json();
  return out;
}

// Column-wise means of rows, skipping NaN; NaN where a column has none.
std::vector<double> column_means(const std::vector<std::vector<double>>& rows, size_t width) {
  std::vector<double> sum(width, 0), n(width, 0);
  for (const auto& r : rows)
    for (size_t j = 0; j < width; ++j)
      if (std::isfinite(r[j])) sum[j] += r[j], n[j] += 1;
  for (size_t j = 0; j < width; ++j) sum[j] = n[j] > 0 ? sum[j] / n[j] : NAN;
  return sum;
}

// Per-class distances between decoded samples a and b (rows labelled by
// `labels`), their class means overall and by shot group.
struct ClassDistances {
  std::vector<std::vector<double>> per_class;  // empty for a class without rows
  nlohmann::json summary;
};
ClassDistances class_distances(const std::vector<ParamColumn>& columns, const torch::Tensor& a,
                               const torch::Tensor& a_labels, const torch::Tensor& b, const torch::Tensor& b_labels,
                               const HeldOut& data, ShotThresholds shots) {
  const auto K = static_cast<int64_t>(data.class_names.size());
  ClassDistances out;
  out.per_class.resize(static_cast<size_t>(K));
  std::vector<std::vector<double>> all, groups[3];
  for (int64_t k = 0; k < K; ++k) {
    auto ra = (a_labels == k).nonzero().squeeze(1), rb = (b_labels == k).nonzero().squeeze(1);
    if (ra.numel() == 0 || rb.numel() == 0) continue;
    auto d = param_distances(columns, a.index_select(0, ra), b.index_select(0, rb));
    out.per_class[static_cast<size_t>(k)] = d;
    all.push_back(d);
    const int64_t n = data.n_train[static_cast<size_t>(k)];
    if (n >= 0) groups[shot_group(static_cast<double>(n), shots)].push_back(d);
  }
  out.summary = {{"overall", by_column(columns, column_means(all, columns.size()))}, {"groups", nlohmann::json::object()}};
  for (int g = 0; g < 3; ++g)
    out.summary["groups"][kGroups[g]] =
        groups[g].empty() ? nlohmann::json() : by_column(columns, column_means(groups[g], columns.size()));
  return out;
}

double accuracy(const torch::Tensor& logits, const torch::Tensor& labels) {
  return logits.argmax(1).eq(labels).to(torch::kDouble).mean().item<double>();
}

// Mean absolute pixel difference between rows 2m and 2m+1 of uint8 [2M, ...].
double pair_difference(const torch::Tensor& images) {
  auto v = images.to(torch::kFloat).view({images.size(0) / 2, 2, -1});
  return (v.select(1, 0) - v.select(1, 1)).abs().mean().item<double>();
}

}  // namespace

GeneratorMeasurement measure_generator(const HeldOut& data, const transforms::Transform& truth,
                                       const GeneratorFn& generate, const TransformDecoder& decoder,
                                       const LogitsFn& classifier, const GeneratorMeasureOptions& opt,
                                       const std::function<void(int64_t, int64_t)>& progress) {
  const auto K = static_cast<int64_t>(data.class_names.size());
  if (data.images.dim() != 4 || data.images.scalar_type() != torch::kByte || data.images.size(0) < 1 ||
      data.labels.dim() != 1 || data.labels.size(0) != data.images.size(0) ||
      static_cast<int64_t>(data.n_train.size()) != K || opt.samples < 1 || opt.batch < 1)
    throw Error("measure_generator: the held-out images, labels and classes do not fit together");
  const int64_t M = data.images.size(0), S = opt.samples, sweep_draws = 2 * M;
  const auto& columns = decoder.columns();
  const auto sweeps = static_cast<int64_t>(opt.sweep.size());
  const int64_t total = M * S * 3 + (sweeps > 0 ? (sweeps + 1) * sweep_draws : 0);
  int64_t done = 0;
  auto advance = [&](int64_t n) {
    done += n;
    if (progress) progress(done, total);
  };
  const DrawFn true_draw = [&](const torch::Tensor& x, const torch::Tensor& keys, torch::Tensor* params) {
    return truth.apply(x, opt.seed, keys, params);
  };
  auto generated_at = [&](double temperature) {
    return DrawFn([&, temperature](const torch::Tensor& x, const torch::Tensor& keys, torch::Tensor*) {
      return generate(x, keys, temperature);
    });
  };

  auto reps = torch::arange(M, torch::kLong).repeat_interleave(S);
  auto keys = torch::arange(M * S, torch::kLong);
  auto x = data.images.index_select(0, reps);
  auto labels = data.labels.index_select(0, reps);
  torch::Tensor params;
  auto t1 = in_batches(x, keys, opt.batch, true_draw, &params, advance);
  auto t2 = in_batches(x, keys + M * S, opt.batch, true_draw, nullptr, advance);
  auto g = in_batches(x, keys, opt.batch, generated_at(opt.temperature), nullptr, advance);
  GeneratorMeasurement m;
  m.decoded_true = decoder.decode(x, t1, opt.batch);
  m.decoded_generated = decoder.decode(x, g, opt.batch);
  m.labels = labels;
  auto d2 = decoder.decode(x, t2, opt.batch);

  auto& j = m.json;
  j["decoder"] = decoding_accuracy(columns, m.decoded_true, params);
  auto generated = class_distances(columns, m.decoded_generated, labels, m.decoded_true, labels, data, opt.shots);
  auto floor = class_distances(columns, d2, labels, m.decoded_true, labels, data, opt.shots);
  j["distance"] = {{"generated", generated.summary}, {"floor", floor.summary}};
  j["classes"] = nlohmann::json::array();
  for (int64_t k = 0; k < K; ++k) {
    const auto& d = generated.per_class[static_cast<size_t>(k)];
    if (d.empty()) continue;
    j["classes"].push_back({{"id", k},
                            {"name", data.class_names[static_cast<size_t>(k)]},
                            {"n_train", data.n_train[static_cast<size_t>(k)]},
                            {"images", (data.labels == k).sum().item<int64_t>()},
                            {"generated", by_column(columns, d)},
                            {"floor", by_column(columns, floor.per_class[static_cast<size_t>(k)])}});
  }

  if (classifier) {
    auto original = classifier(data.images);
    auto on_true = classifier(t1), on_generated = classifier(g);
    const int64_t C = original.size(1);
    auto rows_true = per_class_invariance(original, on_true.view({M, S, C}), data.labels, C);
    auto rows_gen = per_class_invariance(original, on_generated.view({M, S, C}), data.labels, C);
    std::vector<double> ekld_true, ekld_gen;
    double ratio = 0;
    auto classes = nlohmann::json::array();
    for (size_t k = 0; k < rows_true.size(); ++k) {
      if (rows_true[k].images == 0) continue;
      ekld_true.push_back(rows_true[k].ekld);
      ekld_gen.push_back(rows_gen[k].ekld);
      ratio += rows_gen[k].ekld / rows_true[k].ekld;
      classes.push_back({{"name", data.class_names[k]},
                         {"n_train", data.n_train[k]},
                         {"ekld_true", rows_true[k].ekld},
                         {"ekld_generated", rows_gen[k].ekld}});
    }
    const double rho = spearman(ekld_true, ekld_gen);
    j["ekld_agreement"] = {{"spearman", std::isfinite(rho) ? nlohmann::json(rho) : nlohmann::json()},
                           {"mean_ratio", ratio / static_cast<double>(ekld_true.size())},
                           {"classes", classes}};
    const double acc_true = accuracy(on_true, labels), acc_gen = accuracy(on_generated, labels);
    j["fidelity"] = {{"accuracy_true", acc_true}, {"accuracy_generated", acc_gen}, {"ratio", acc_gen / acc_true}};
  }

  if (!opt.sweep.empty()) {
    auto x2 = data.images.index_select(0, torch::arange(M, torch::kLong).repeat_interleave(2));
    auto labels2 = data.labels.index_select(0, torch::arange(M, torch::kLong).repeat_interleave(2));
    auto keys2 = torch::arange(sweep_draws, torch::kLong) + 2 * M * S;
    auto tt = in_batches(x2, keys2, opt.batch, true_draw, nullptr, advance);
    const double true_difference = pair_difference(tt);
    const double acc_true = classifier ? accuracy(classifier(tt), labels2) : NAN;
    j["temperatures"] = nlohmann::json::array();
    for (double temperature : opt.sweep) {
      // The same keys at every temperature: the style codes are scaled, not redrawn.
      auto gt = in_batches(x2, keys2, opt.batch, generated_at(temperature), nullptr, advance);
      auto dist = class_distances(columns, decoder.decode(x2, gt, opt.batch), labels2, m.decoded_true, labels, data,
                                  opt.shots);
      nlohmann::json row = {{"temperature", temperature},
                            {"distance", dist.summary["overall"]},
                            {"diversity", pair_difference(gt) / true_difference}};
      if (classifier) row["fidelity"] = accuracy(classifier(gt), labels2) / acc_true;
      j["temperatures"].push_back(row);
    }
  }
  return m;
}

}  // namespace invkit::metrics
