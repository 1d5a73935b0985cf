#include "invkit/data/class_match.h"

#include <algorithm>
#include <unordered_map>

#include "invkit/data/dataset.h"
#include "invkit/error.h"

namespace invkit {

namespace {

// "a, b, c" or the first few and a count.
std::string name_list(const std::vector<std::string>& names) {
  std::string s;
  const size_t shown = std::min<size_t>(names.size(), 12);
  for (size_t i = 0; i < shown; ++i) s += (i ? ", " : "") + names[i];
  if (shown < names.size()) s += ", ... (" + std::to_string(names.size()) + " classes)";
  return s;
}

}  // namespace

bool numbered_names(const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] != std::to_string(i)) return false;
  return true;
}

std::vector<int64_t> match_classes(const std::vector<std::string>& names, const std::string& names_source,
                                   const std::vector<std::string>& reference, const std::string& reference_source) {
  std::vector<int64_t> map(names.size());
  if (names == reference) {
    for (size_t i = 0; i < map.size(); ++i) map[i] = static_cast<int64_t>(i);
    return map;
  }
  if (numbered_names(names) || numbered_names(reference)) {
    if (names.size() != reference.size())
      throw Error(names_source + ": has " + std::to_string(names.size()) + " classes but " + reference_source +
                  " has " + std::to_string(reference.size()) +
                  "; without class names on both sides, classes are matched by position and the counts must agree");
    for (size_t i = 0; i < map.size(); ++i) map[i] = static_cast<int64_t>(i);
    return map;
  }
  std::unordered_map<std::string, int64_t> where;
  for (size_t i = 0; i < reference.size(); ++i) where.emplace(reference[i], static_cast<int64_t>(i));
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = where.find(names[i]);
    if (it == where.end())
      throw Error(names_source + ": class \"" + names[i] + "\" is not one of the classes of " + reference_source +
                  " (" + name_list(reference) + ")");
    map[i] = it->second;
  }
  return map;
}

void align_classes(Dataset& data, const std::string& data_source, const std::vector<std::string>& reference,
                   const std::string& reference_source) {
  auto map = match_classes(data.class_names, data_source, reference, reference_source);
  bool identity = map.size() == reference.size();
  for (size_t i = 0; identity && i < map.size(); ++i) identity = map[i] == static_cast<int64_t>(i);
  if (!identity && data.size() > 0) {
    auto lookup = torch::tensor(map, torch::kLong);
    data.labels = lookup.index_select(0, data.labels.to(torch::kCPU));
  }
  data.class_names = reference;
}

void check_generator_classes(const nlohmann::json& generator_manifest, const std::string& generator_source,
                             const Dataset& data, const std::string& data_source) {
  const auto data_entry = generator_manifest.is_object() ? generator_manifest.value("data", nlohmann::json()) : nlohmann::json();
  if (!data_entry.is_object() || !data_entry.contains("class_names")) return;
  const auto& names = data_entry["class_names"];
  if (!names.is_array() || !std::all_of(names.begin(), names.end(), [](const auto& n) { return n.is_string(); }))
    throw Error(generator_source + ": manifest data.class_names is not a list of strings");
  match_classes(data.class_names, data_source, names.get<std::vector<std::string>>(),
                generator_source + " (the classes the generator was trained on)");
}

}  // namespace invkit
