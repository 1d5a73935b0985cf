// What measure-ekld writes on stdout and report reads back: the settings of
// the measurement and, per checkpoint, its per-class rows and summary. One
// type, its writer and its reader, so the two tools cannot drift apart.
//
// {"settings": {...}, "checkpoints": [{"checkpoint": PATH,
//   "classes": [{id, name, n_train, images, ekld, ekld_sem, consistency, accuracy}],
//   "summary": {"mean_ekld", "spearman", "ekld_by_group": {"many", "medium", "few"}}}]}
// A statistic that is not a finite number (a class without images, an
// empty group) is null.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "invkit/metrics/ekld_protocol.h"
#include "invkit/metrics/invariance.h"

namespace invkit::metrics {

struct EkldCheckpoint {
  std::string checkpoint;                // the path as measure-ekld was given it
  std::vector<ClassInvariance> classes;  // NaN for a statistic the file leaves null or out
  Summary summary;                       // NaN likewise; groups: an object or null
};

struct EkldResult {
  // data, transform or generator, per_class, samples, seed, many, few
  nlohmann::json settings = nlohmann::json::object();
  std::vector<EkldCheckpoint> checkpoints;
};

nlohmann::json to_json(const EkldResult& result);

// Reads measure-ekld's output. Errors, each starting with `source`: no
// "checkpoints" array or an empty one, an entry without a "checkpoint" path
// or a "summary" object, a field that is there but not of its type (a number,
// an array, an object). A missing statistic reads as NaN, so that results
// written by earlier versions still read.
EkldResult ekld_result_from_json(const nlohmann::json& json, const std::string& source);

}  // namespace invkit::metrics
