// Generator checkpoints (format invkit.generator/1): safetensors with the
// generator's tensors under "gen.", the discriminator's under "dis.", Adam's
// state under "optimizer.", and the manifest (model options, training
// options, iteration). train/generator_loop.cpp writes and resumes them; this
// reads the generator part for sampling.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

#include "invkit/data/dataset.h"
#include "invkit/io/safetensors.h"
#include "invkit/models/generator_sampling.h"

namespace invkit::checkpoint {

constexpr const char* kGeneratorFormat = "invkit.generator/1";

// The manifest of a generator checkpoint; an Error naming the file unless
// its format is kGeneratorFormat.
nlohmann::json generator_manifest(const io::Safetensors& st);

// Reads the generator part ("gen." tensors) of an invkit.generator/1 file
// onto `device`, in eval mode and without gradients. Throws Error naming the
// file on a wrong format, a missing tensor or a shape that disagrees with the
// manifest.
models::LoadedGenerator load_generator(const std::string& path, torch::Device device);

// Throws Error ("GEN: the generator takes CxHxW images, DATA has CxHxW")
// unless images of `shape` have the size of the generator's input.
void check_generator_input(const models::MunitOptions& options, const std::string& generator_name,
                           const ImageShape& shape, const std::string& data_name);

}  // namespace invkit::checkpoint
