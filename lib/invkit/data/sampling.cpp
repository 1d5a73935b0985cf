#include "invkit/data/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "invkit/data/class_match.h"
#include "invkit/error.h"

namespace invkit {

namespace {

std::string class_label(const std::vector<std::string>& names, int64_t c) {
  std::string s = "class " + std::to_string(c);
  if (c < static_cast<int64_t>(names.size()) && names[c] != std::to_string(c)) s += " (" + names[c] + ")";
  return s;
}

}  // namespace

std::vector<int64_t> permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(std::max<int64_t>(n, 0));
  std::iota(p.begin(), p.end(), 0);
  Rng rng(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[rng.below(static_cast<uint64_t>(i) + 1)]);
  return p;
}

std::vector<int64_t> random_subset(int64_t n, int64_t k, uint64_t seed) {
  if (k < 0 || k > n) throw Error("random_subset: cannot draw " + std::to_string(k) + " of " + std::to_string(n));
  // Partial Fisher-Yates: the first k places of a random permutation.
  std::vector<int64_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  Rng rng(seed);
  for (int64_t i = 0; i < k; ++i) std::swap(p[i], p[i + static_cast<int64_t>(rng.below(static_cast<uint64_t>(n - i)))]);
  p.resize(k);
  std::sort(p.begin(), p.end());
  return p;
}

std::vector<std::vector<int64_t>> rows_by_class(const std::vector<int64_t>& labels, int64_t num_classes) {
  std::vector<std::vector<int64_t>> rows(num_classes);
  for (size_t r = 0; r < labels.size(); ++r) {
    const int64_t c = labels[r];
    if (c < 0 || c >= num_classes)
      throw Error("label " + std::to_string(c) + " at row " + std::to_string(r) + " is out of range [0, " +
                  std::to_string(num_classes) + ")");
    rows[c].push_back(static_cast<int64_t>(r));
  }
  return rows;
}

std::vector<int64_t> label_vector(const Dataset& d) {
  if (d.size() == 0) return {};
  torch::Tensor l = d.labels.to(torch::kCPU).contiguous();
  return std::vector<int64_t>(l.data_ptr<int64_t>(), l.data_ptr<int64_t>() + l.numel());
}

Selection select_per_class(const std::vector<int64_t>& labels, const std::vector<int64_t>& targets,
                           const std::vector<std::string>& class_names, uint64_t seed, bool allow_repeat) {
  const auto c_count = static_cast<int64_t>(targets.size());
  auto by_class = rows_by_class(labels, c_count);
  Selection sel;
  for (int64_t c = 0; c < c_count; ++c) {
    const auto& rows = by_class[c];
    const auto n = static_cast<int64_t>(rows.size());
    const int64_t want = targets[c];
    if (want < 0) throw Error(class_label(class_names, c) + ": negative target " + std::to_string(want));
    if (want > n && (!allow_repeat || n == 0))
      throw Error(class_label(class_names, c) + " has " + std::to_string(n) + " rows but " + std::to_string(want) +
                  " are asked" + (n == 0 ? "" : " (" + param("allow_repeat") + " repeats rows)"));
    std::vector<int64_t> picked;
    if (want <= n) {
      for (int64_t k : random_subset(n, want, selection_seed(seed, SelectionStream::subset, c))) picked.push_back(rows[k]);
    } else {
      // Every row floor(want / n) times, then a random subset for the rest.
      for (int64_t copy = 0; copy < want / n; ++copy) picked.insert(picked.end(), rows.begin(), rows.end());
      for (int64_t k : random_subset(n, want % n, selection_seed(seed, SelectionStream::repeat, c))) picked.push_back(rows[k]);
      sel.repeated.push_back({{"class", c}, {"name", c < static_cast<int64_t>(class_names.size()) ? class_names[c] : ""},
                              {"available", n}, {"rows", want}});
    }
    sel.rows.insert(sel.rows.end(), picked.begin(), picked.end());
  }
  std::sort(sel.rows.begin(), sel.rows.end());
  return sel;
}

SplitRows stratified_split(const std::vector<int64_t>& labels, int64_t num_classes, double fraction, uint64_t seed) {
  if (!(fraction >= 0 && fraction <= 1)) throw UsageError("split fraction must lie in [0, 1]");
  auto by_class = rows_by_class(labels, num_classes);
  std::vector<char> named(labels.size(), 0);
  for (int64_t c = 0; c < num_classes; ++c) {
    const auto n = static_cast<int64_t>(by_class[c].size());
    const int64_t k = std::llround(fraction * static_cast<double>(n));
    for (int64_t i : random_subset(n, k, selection_seed(seed, SelectionStream::split, c))) named[by_class[c][i]] = 1;
  }
  SplitRows s;
  for (size_t r = 0; r < labels.size(); ++r) (named[r] ? s.named : s.remainder).push_back(static_cast<int64_t>(r));
  return s;
}

std::pair<int64_t, int64_t> shard_range(int64_t num_rows, int64_t i, int64_t n) {
  if (n < 1 || i < 0 || i >= n) throw UsageError("shard " + std::to_string(i) + "/" + std::to_string(n) + ": need 0 <= i < n");
  auto edge = [&](int64_t k) {
    return static_cast<int64_t>(static_cast<__int128>(k) * num_rows / n);
  };
  return {edge(i), edge(i + 1)};
}

Dataset select_rows(const Dataset& d, const std::vector<int64_t>& rows) {
  torch::Tensor r = torch::tensor(rows, torch::kLong);
  if (rows.empty()) r = torch::empty({0}, torch::kLong);
  return d.select(r.to(d.labels.device()));
}

Dataset concat(const std::vector<Dataset>& parts, const std::vector<ImageShape>& shapes,
               const std::vector<std::string>& sources) {
  if (parts.empty()) throw UsageError("nothing to concatenate");
  const Dataset& first = parts[0];
  const nlohmann::json columns = first.extra.value("params_columns", nlohmann::json());
  std::vector<torch::Tensor> images, labels, index, params;
  for (size_t k = 0; k < parts.size(); ++k) {
    const Dataset& d = parts[k];
    const std::string& src = sources.at(k);
    // "B.st has image shape 1x8x8 but A.st has 1x4x4; cannot concatenate"
    auto differ = [&](const std::string& mine, const std::string& theirs) {
      return Error(src + " has " + mine + " but " + sources[0] + " has " + theirs + "; cannot concatenate");
    };
    auto has = [](const torch::Tensor& t, const char* what) {
      return std::string(t.defined() ? "a " : "no ") + what;
    };
    // Labels in the first part's classes, matched by name.
    Dataset aligned = d;
    align_classes(aligned, src, first.class_names, sources[0]);
    if (shapes.at(k) != shapes[0]) throw differ("image shape " + shapes[k].str(), shapes[0].str());
    if (d.index.defined() != first.index.defined())
      throw differ(has(d.index, "tensor index"), has(first.index, "tensor index"));
    if (d.params.defined() != first.params.defined())
      throw differ(has(d.params, "tensor params"), has(first.params, "tensor params"));
    if (d.params.defined() && d.params.size(1) != first.params.size(1))
      throw differ(std::to_string(d.params.size(1)) + " params columns", std::to_string(first.params.size(1)));
    const auto cols = d.extra.value("params_columns", nlohmann::json());
    if (cols != columns) throw differ("params_columns " + cols.dump(), columns.dump());
    if (d.images.defined()) images.push_back(d.images);
    labels.push_back(aligned.labels);
    if (d.index.defined()) index.push_back(d.index);
    if (d.params.defined()) params.push_back(d.params);
  }
  Dataset out;
  if (images.size() == parts.size()) out.images = torch::cat(images, 0);
  out.labels = torch::cat(labels, 0);
  if (!index.empty()) out.index = torch::cat(index, 0);
  if (!params.empty()) out.params = torch::cat(params, 0);
  out.class_names = first.class_names;
  out.extra = first.extra;
  return out;
}

}  // namespace invkit
