// How close is a generator's T̂(.|x) to the true nuisance T(.|x)? On held-out
// images with known classes: the parameters a transformation decoder
// (metrics/transform_decoding.h) reads from generated pairs (x, T̂(x))
// against those it reads from true pairs (x, T(x)), per class and per shot
// group; a classifier's per-class eKLD under T̂ against under T; and a sweep
// of the style temperature. What measure-generator prints.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "invkit/metrics/accuracy.h"
#include "invkit/metrics/ekld_protocol.h"
#include "invkit/metrics/transform_decoding.h"
#include "invkit/transforms/transform.h"

namespace invkit::metrics {

// Draws T̂(x): uint8 images [B, C, H, W] and int64 keys [B] (row i's style
// code depends only on keys[i]) at a style temperature -> uint8 [B, C, H, W].
using GeneratorFn =
    std::function<torch::Tensor(const torch::Tensor& images, const torch::Tensor& keys, double temperature)>;

struct HeldOut {
  torch::Tensor images;                  // uint8 [M, C, H, W], M >= 1
  torch::Tensor labels;                  // int64 [M], in [0, K)
  std::vector<std::string> class_names;  // K
  std::vector<int64_t> n_train;          // K: the generator's training images per class, -1 when unknown
};

struct GeneratorMeasureOptions {
  int64_t samples = 10;          // draws of T and of T̂ per image (>= 1)
  double temperature = 1.0;      // the style temperature of the main measurement
  std::vector<double> sweep;     // temperatures to sweep (2 draws per image each); empty: none
  ShotThresholds shots;          // groups by n_train (metrics/accuracy.h)
  int64_t batch = 256;           // images per call of the generator, the decoder or the classifier
  uint64_t seed = 0;             // the keys of every draw
};

// The measurement, as JSON:
//   decoder: decoding_accuracy on the held-out true pairs;
//   distance: {"generated": D, "floor": D} where D = {"overall": {column:
//     x}, "groups": {"many"|"medium"|"few": {column: x} | null}}, class means
//     of the per-class param_distances between generated and true pairs
//     ("generated") and between two independent samples of true pairs
//     ("floor": what a generator equal to T gets at this sample size);
//   classes: per class {id, name, n_train, images, generated: {column: x},
//     floor: {column: x}};
//   with `classifier`: ekld_agreement {spearman, mean_ratio, classes: [{name,
//     n_train, ekld_true, ekld_generated}]} (eKLD in nats, as measure-ekld;
//     mean_ratio is the class mean of ekld_generated / ekld_true) and
//     fidelity {accuracy_true, accuracy_generated, ratio};
//   with a sweep: temperatures [{temperature, distance: {column: x},
//     diversity, fidelity (with a classifier)}], diversity = mean absolute
//     pixel difference of two draws of T̂(x) / the same for two draws of T(x).
// Keys: draw s of image m is m * S + s; the second true sample and the
// sweep use keys past M * S. `progress(done, total)` counts images drawn.
struct GeneratorMeasurement {
  nlohmann::json json;
  torch::Tensor decoded_true, decoded_generated;  // float [M * S, P] (report/generator_plots.h)
  torch::Tensor labels;                           // int64 [M * S]
};
GeneratorMeasurement measure_generator(const HeldOut& data, const transforms::Transform& truth,
                                       const GeneratorFn& generate, const TransformDecoder& decoder,
                                       const LogitsFn& classifier, const GeneratorMeasureOptions& opt,
                                       const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace invkit::metrics
