#include "invkit/metrics/ekld_result.h"

#include <cmath>

#include "invkit/error.h"

namespace invkit::metrics {

namespace {

nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

// obj[key] as a number; NaN when absent or null; an Error naming `where` when
// it is something else.
double number(const nlohmann::json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return NAN;
  if (!it->is_number()) throw Error(where + "." + key + " is not a number");
  return it->get<double>();
}

ClassInvariance read_class(const nlohmann::json& c, const std::string& where) {
  if (!c.is_object()) throw Error(where + "a \"classes\" entry is not an object");
  const std::string at = where + "classes[]";
  ClassInvariance r;
  const double id = number(c, "id", at), n_train = number(c, "n_train", at), images = number(c, "images", at);
  r.id = std::isfinite(id) ? static_cast<int64_t>(id) : -1;
  r.n_train = std::isfinite(n_train) ? static_cast<int64_t>(n_train) : -1;
  r.images = std::isfinite(images) ? static_cast<int64_t>(images) : 0;
  if (c.contains("name") && c["name"].is_string()) r.name = c["name"].get<std::string>();
  r.ekld = number(c, "ekld", at);
  r.ekld_sem = number(c, "ekld_sem", at);
  r.consistency = number(c, "consistency", at);
  r.accuracy = number(c, "accuracy", at);
  return r;
}

EkldCheckpoint read_checkpoint(const nlohmann::json& entry, const std::string& source) {
  if (!entry.is_object() || !entry.contains("checkpoint") || !entry["checkpoint"].is_string())
    throw Error(source + ": a \"checkpoints\" entry has no \"checkpoint\" path");
  EkldCheckpoint e;
  e.checkpoint = entry["checkpoint"].get<std::string>();
  const std::string where = source + ": checkpoint " + e.checkpoint + ": ";
  if (!entry.contains("summary") || !entry["summary"].is_object())
    throw Error(where + "no \"summary\" object (is this measure-ekld's output?)");
  const auto& summary = entry["summary"];
  e.summary.mean_ekld = number(summary, "mean_ekld", where + "summary");
  e.summary.spearman = number(summary, "spearman", where + "summary");
  e.summary.groups = summary.value("ekld_by_group", nlohmann::json());
  if (!e.summary.groups.is_null()) {
    if (!e.summary.groups.is_object()) throw Error(where + "summary.ekld_by_group is not an object");
    for (const char* g : {"many", "medium", "few"}) number(e.summary.groups, g, where + "summary.ekld_by_group");
  }
  if (entry.contains("classes")) {
    if (!entry["classes"].is_array()) throw Error(where + "\"classes\" is not an array");
    for (const auto& c : entry["classes"]) e.classes.push_back(read_class(c, where));
  }
  return e;
}

}  // namespace

nlohmann::json to_json(const EkldResult& result) {
  nlohmann::json out = {{"settings", result.settings}, {"checkpoints", nlohmann::json::array()}};
  for (const auto& e : result.checkpoints) {
    nlohmann::json classes = nlohmann::json::array();
    for (const auto& c : e.classes) classes.push_back(to_json(c));
    out["checkpoints"].push_back({{"checkpoint", e.checkpoint},
                                  {"classes", classes},
                                  {"summary",
                                   {{"mean_ekld", finite_or_null(e.summary.mean_ekld)},
                                    {"spearman", finite_or_null(e.summary.spearman)},
                                    {"ekld_by_group", e.summary.groups}}}});
  }
  return out;
}

EkldResult ekld_result_from_json(const nlohmann::json& json, const std::string& source) {
  if (!json.is_object() || !json.contains("checkpoints") || !json["checkpoints"].is_array())
    throw Error(source + ": not measure-ekld's output: no \"checkpoints\" array");
  if (json["checkpoints"].empty()) throw Error(source + ": \"checkpoints\" is empty");
  EkldResult r;
  if (json.contains("settings") && json["settings"].is_object()) r.settings = json["settings"];
  for (const auto& entry : json["checkpoints"]) r.checkpoints.push_back(read_checkpoint(entry, source));
  return r;
}

}  // namespace invkit::metrics
