#include "invkit/metrics/ekld_protocol.h"

#include <cmath>

#include "invkit/metrics/accuracy.h"
#include "invkit/random.h"

namespace invkit::metrics {

torch::Tensor ekld_rows(const torch::Tensor& labels, int64_t num_classes, int64_t per_class, uint64_t seed) {
  auto lab = labels.to(torch::kCPU);
  auto gen = cpu_generator(seed);
  std::vector<torch::Tensor> chosen;
  for (int64_t c = 0; c < num_classes; ++c) {
    auto rows = (lab == c).nonzero().view(-1);
    auto order = torch::randperm(rows.size(0), gen, torch::TensorOptions().dtype(torch::kLong));
    chosen.push_back(rows.index_select(0, order.narrow(0, 0, std::min(per_class, rows.size(0)))));
  }
  return std::get<0>(torch::cat(chosen).sort());
}

ProtocolLogits collect_logits(const torch::Tensor& images, int64_t samples, int64_t batch, const TransformFn& transform,
                              const std::vector<LogitsFn>& models,
                              const std::function<void(int64_t, int64_t)>& progress) {
  const int64_t m = images.size(0), nm = static_cast<int64_t>(models.size());
  const int64_t total = nm * m * (samples + 1);
  int64_t done = 0;
  ProtocolLogits out;
  for (const auto& model : models) {
    out.original.push_back(model(images));
    done += m;
    if (progress) progress(done, total);
  }
  std::vector<std::vector<torch::Tensor>> parts(nm);
  // Whole originals per chunk, so each chunk holds complete sets of draws.
  const int64_t per_chunk = std::max<int64_t>(1, batch / std::max<int64_t>(samples, 1));
  for (int64_t start = 0; start < m; start += per_chunk) {
    int64_t count = std::min(per_chunk, m - start);
    auto originals = images.narrow(0, start, count).repeat_interleave(samples, 0);
    auto keys = ekld_keys(start, start + count, samples);
    auto transformed = transform(originals, keys);
    for (int64_t k = 0; k < nm; ++k) {
      parts[k].push_back(models[k](transformed).view({count, samples, -1}));
      done += count * samples;
      if (progress) progress(done, total);
    }
  }
  for (int64_t k = 0; k < nm; ++k) out.transformed.push_back(torch::cat(parts[k], 0));
  return out;
}

Summary summarize(const std::vector<ClassInvariance>& rows, int64_t many, int64_t few) {
  Summary s;
  std::vector<double> n, e;
  double sum[3] = {0, 0, 0};
  int count[3] = {0, 0, 0};
  for (const auto& r : rows) {
    if (r.images == 0) continue;
    n.push_back(static_cast<double>(r.n_train));
    e.push_back(r.ekld);
    const int g = shot_group(static_cast<double>(r.n_train), {many, few});
    sum[g] += r.ekld;
    ++count[g];
  }
  double total = 0;
  for (double v : e) total += v;
  s.mean_ekld = e.empty() ? NAN : total / e.size();
  s.spearman = spearman(n, e);
  const char* names[3] = {"many", "medium", "few"};
  s.groups = nlohmann::json::object();
  for (int g = 0; g < 3; ++g) s.groups[names[g]] = count[g] ? nlohmann::json(sum[g] / count[g]) : nlohmann::json(nullptr);
  return s;
}

nlohmann::json to_json(const ClassInvariance& r) {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"id", r.id},         {"name", r.name},         {"n_train", r.n_train},
          {"ekld", num(r.ekld)}, {"ekld_sem", num(r.ekld_sem)}, {"consistency", num(r.consistency)},
          {"accuracy", num(r.accuracy)}, {"images", r.images}};
}

}  // namespace invkit::metrics
