// The options of evaluate and measure-ekld for classifiers trained elsewhere
// (checkpoint/external_model.h), as one CLI11 option group.
#pragma once
#include <CLI/CLI.hpp>

#include "invkit/checkpoint/external_model.h"

namespace invkit::cli {

// Adds --arch, --state-dict-key, --mean, --std, --pixel-max, --class-names,
// --train, --train-counts and, with `logit_scale` (tools that use
// probabilities), --logit-scale to `app`, filling `opt`.
void add_external_model_options(CLI::App& app, checkpoint::ExternalOptions& opt, bool logit_scale);

}  // namespace invkit::cli
