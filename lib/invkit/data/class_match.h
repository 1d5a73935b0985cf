// Classes are identified by name wherever two files meet (a checkpoint and a
// data set, a training set and its validation or test set, sets being
// concatenated, a generator and the data it is applied to). These functions
// compute how the labels of one side map onto the classes of the other, and
// refuse what cannot be matched, so that no label is ever read by position
// in silence.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace invkit {

struct Dataset;

// True when `names` are the numbered defaults "0", "1", ..., "K-1" (what a
// set gets when no names are known, numbered_class_names()).
bool numbered_names(const std::vector<std::string>& names);

// For each class of `names` (a file's classes, `names_source` names the file)
// its index in `reference` (the classes of `reference_source`):
// * the same names in another order map by name;
// * fewer classes than the reference is fine (a held-out split that lacks a
//   class), as long as every name is one the reference knows;
// * a name the reference does not know is an Error naming both files and the
//   class ("test.st: class \"c\" is not one of the classes of clf.st (a, b)");
// * when either side has only numbered names, nothing can be matched by
//   name: the two must have the same number of classes and map by position,
//   else an Error naming both counts.
std::vector<int64_t> match_classes(const std::vector<std::string>& names, const std::string& names_source,
                                   const std::vector<std::string>& reference, const std::string& reference_source);

// `data`'s labels (int64 [N]) re-expressed in the reference's classes, with
// class_names set to the reference's: the data set as the reference's model
// sees it. Errors as match_classes.
void align_classes(Dataset& data, const std::string& data_source, const std::vector<std::string>& reference,
                   const std::string& reference_source);

// A generator (train-generator) meets data: every class of `data` must be
// one of the classes the generator was trained on (its manifest's
// data.class_names), matched by name as match_classes does. A manifest
// without recorded class names passes. Errors name both files.
void check_generator_classes(const nlohmann::json& generator_manifest, const std::string& generator_source,
                             const Dataset& data, const std::string& data_source);

}  // namespace invkit
