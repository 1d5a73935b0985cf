#include "invkit/data/dataset.h"

#include <set>

#include "invkit/error.h"
#include "invkit/io/file.h"
#include "invkit/io/manifest.h"
#include "invkit/io/safetensors.h"

namespace invkit {

void Dataset::advise_random_reads() const {
  if (images.defined() && images.is_cpu() && images.numel() > 0)
    io::advise_random_access(images.data_ptr(), images.nbytes());
}

std::vector<int64_t> Dataset::class_counts() const {
  std::vector<int64_t> counts(class_names.size(), 0);
  if (size() == 0) return counts;
  auto bc = torch::bincount(labels.to(torch::kCPU), {}, num_classes());
  auto acc = bc.accessor<int64_t, 1>();
  for (int64_t c = 0; c < num_classes() && c < bc.size(0); ++c) counts[c] = acc[c];
  return counts;
}

nlohmann::json Dataset::manifest() const {
  nlohmann::json m = extra;
  m["format"] = kDatasetFormat;
  m["num_classes"] = num_classes();
  m["class_names"] = class_names;
  m["class_counts"] = class_counts();
  m["size"] = size();
  m["channels"] = channels();
  m["height"] = height();
  m["width"] = width();
  if (!m.contains("history")) m["history"] = nlohmann::json::array();
  return m;
}

void Dataset::validate(const std::string& source) const {
  auto fail = [&](const std::string& what) { return Error(source + ": " + what); };
  if (!images.defined() || images.dim() != 4 || images.scalar_type() != torch::kByte)
    throw fail("images must be a uint8 tensor [N, C, H, W]");
  if (!labels.defined() || labels.dim() != 1 || labels.scalar_type() != torch::kLong)
    throw fail("labels must be an int64 tensor [N]");
  if (labels.size(0) != images.size(0))
    throw fail("images has " + std::to_string(images.size(0)) + " rows but labels has " +
               std::to_string(labels.size(0)));
  if (images.size(1) < 1 || images.size(2) < 1 || images.size(3) < 1) throw fail("images have an empty dimension");
  if (class_names.empty()) throw fail("no classes");
  {
    // Classes are matched by name wherever two files meet: names must be unique.
    std::set<std::string> seen;
    for (const auto& n : class_names)
      if (!seen.insert(n).second) throw fail("class name \"" + n + "\" appears twice in class_names");
  }
  if (size() > 0) {
    int64_t lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
    if (lo < 0 || hi >= num_classes()) {
      int64_t bad = lo < 0 ? lo : hi;
      auto row = (labels == bad).nonzero()[0][0].item<int64_t>();
      throw fail("label " + std::to_string(bad) + " at row " + std::to_string(row) + " is out of range [0, " +
                 std::to_string(num_classes()) + ")");
    }
  }
  if (index.defined() && (index.dim() != 1 || index.scalar_type() != torch::kLong || index.size(0) != size()))
    throw fail("index must be an int64 tensor [N] matching labels");
  if (params.defined() &&
      (params.dim() != 2 || params.scalar_type() != torch::kFloat || params.size(0) != size()))
    throw fail("params must be a float32 tensor [N, P] matching labels");
}

void Dataset::require_rows(const std::string& source, const std::string& why) const {
  if (size() == 0) throw Error(source + ": the data set is empty (0 rows); " + why);
}

void Dataset::add_history(const nlohmann::json& entry) {
  if (!extra.contains("history") || !extra["history"].is_array()) extra["history"] = nlohmann::json::array();
  extra["history"].push_back(entry);
}

Dataset Dataset::select(const torch::Tensor& rows) const {
  Dataset out;
  if (images.defined()) out.images = images.index_select(0, rows);  // a DatasetReader's head has none
  out.labels = labels.index_select(0, rows);
  out.index = rows.to(torch::kLong).clone();
  if (params.defined()) out.params = params.index_select(0, rows);
  out.class_names = class_names;
  out.extra = extra;
  return out;
}

Dataset Dataset::load(const std::string& path) {
  const std::string source = io::input_name(path);
  io::Safetensors st = io::Safetensors::read(path);
  if (!st.find("images") || !st.find("labels")) throw Error(source + ": not a data set: needs tensors \"images\" and \"labels\"");
  return from_parts(io::manifest_of(st), st.view("images") /* no copy of a mapped file's pixels */,
                    st.tensor("labels"), st.find("index") ? st.tensor("index") : torch::Tensor(),
                    st.find("params") ? st.tensor("params") : torch::Tensor(), source);
}

Dataset Dataset::from_parts(nlohmann::json m, torch::Tensor images, torch::Tensor labels, torch::Tensor index,
                            torch::Tensor params, const std::string& source) {
  Dataset d;
  d.images = std::move(images);
  d.labels = std::move(labels);
  d.index = std::move(index);
  d.params = std::move(params);

  if (m.is_object() && m.contains("format") && m["format"] != kDatasetFormat)
    throw Error(source + ": manifest format is " + m["format"].dump() + ", expected \"" + kDatasetFormat + "\"");
  // Without names, classes are numbered: a count from the file is checked
  // before a name is made for each (2^61 classes would never finish).
  if (m.is_object() && m.contains("class_names")) {
    try {
      d.class_names = m["class_names"].get<std::vector<std::string>>();
    } catch (const nlohmann::json::exception&) {
      throw Error(source + ": manifest class_names is not a list of strings");
    }
  } else if (m.is_object() && m.contains("num_classes") && m["num_classes"].is_number_integer()) {
    const auto& k = m["num_classes"];
    if (!k.is_number_unsigned() || k.get<uint64_t>() < 1 || k.get<uint64_t>() > uint64_t(kMaxClasses))
      throw Error(source + ": manifest num_classes " + k.dump() + " is not a class count (expected 1.." +
                  std::to_string(kMaxClasses) + ")");
    d.class_names = numbered_class_names(k.get<int64_t>());
  } else if (d.labels.numel() > 0 && d.labels.dim() == 1 && d.labels.scalar_type() == torch::kLong) {
    const int64_t hi = d.labels.max().item<int64_t>();
    if (hi >= kMaxClasses)
      throw Error(source + ": label " + std::to_string(hi) + " is too large to number the classes by (no manifest " +
                  "names them; at most " + std::to_string(kMaxClasses) + " classes)");
    d.class_names = numbered_class_names(std::max<int64_t>(hi + 1, 1));
  } else {
    d.class_names = numbered_class_names(1);
  }
  if (m.is_object()) {
    if (m.contains("num_classes") && m["num_classes"] != d.num_classes())
      throw Error(source + ": manifest num_classes " + m["num_classes"].dump() + " disagrees with " +
                  std::to_string(d.num_classes()) + " class names");
  }
  d.validate(source);
  if (m.is_object()) {
    if (m.contains("class_counts") && m["class_counts"] != nlohmann::json(d.class_counts()))
      throw Error(source + ": manifest class_counts " + m["class_counts"].dump() + " disagree with the labels " +
                  nlohmann::json(d.class_counts()).dump());
    const std::pair<const char*, int64_t> dims[] = {{"channels", d.channels()}, {"height", d.height()}, {"width", d.width()}};
    for (const auto& [k, actual] : dims)
      if (m.contains(k) && m[k] != actual)
        throw Error(source + ": manifest " + k + " " + m[k].dump() + " disagrees with the images' " + std::to_string(actual));
    for (const char* k : {"format", "num_classes", "class_names", "class_counts", "size", "channels", "height", "width"})
      m.erase(k);
    d.extra = m;
  }
  return d;
}

void Dataset::save(const std::string& path) const {
  validate(io::output_name(path));
  io::NamedTensors tensors{{"images", images.contiguous()}, {"labels", labels.contiguous()}};
  if (index.defined()) tensors.emplace_back("index", index.contiguous());
  if (params.defined()) tensors.emplace_back("params", params.contiguous());
  io::write_safetensors(path, tensors, io::metadata_with_manifest(manifest()));
}

std::string ImageShape::str() const {
  return std::to_string(channels) + "x" + std::to_string(height) + "x" + std::to_string(width);
}

std::vector<std::string> numbered_class_names(int64_t num_classes) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < num_classes; ++i) names.push_back(std::to_string(i));
  return names;
}

}  // namespace invkit
