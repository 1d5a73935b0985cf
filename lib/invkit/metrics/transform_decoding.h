// Transformation decoding: a small network that reads a pair (x, t(x)) and
// predicts the parameters t was drawn with (the columns augment
// --record-params writes). Trained on pairs from the true transform, it is
// then applied to pairs (x, T̂(x)) from a generator, so that the parameters a
// generator's samples carry can be compared with the true ones
// (metrics/generator_measure.h). The idea of predicting a transformation
// from the pair is AutoEncoding Transformations (Zhang, Qi, Wang & Luo,
// CVPR 2019, "AET vs. AED").
#pragma once
#include <torch/torch.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "invkit/transforms/transform.h"

namespace invkit::metrics {

// How a params column is predicted and compared.
enum class ParamKind {
  Angle,     // a rotation angle in degrees, on the circle: predicted as (cos, sin)
  Category,  // an alternative of a choice, 0..categories-1: predicted by softmax
  Value,     // any other number, in its own units: predicted standardised
};
const char* kind_name(ParamKind kind);

struct ParamColumn {
  std::string name;         // as Transform::param_names() gives it
  ParamKind kind = ParamKind::Value;
  int64_t categories = 0;   // Category: how many
  bool optional = false;    // NaN in some draws (its alternative was not chosen): a presence logit too
  double mean = 0, std = 1;  // Value: the standardisation of its drawn values
};

// The columns of a transform's params, from their names and a sample of
// drawn params (float [N, P], NaN where an operation was not applied):
// "choice" columns are categories, rotate's angles are angles, the others
// values. Throws invkit::Error when a column is never drawn in the sample.
std::vector<ParamColumn> describe_params(const std::vector<std::string>& names, const torch::Tensor& params);

// The network: x and t(x) stacked as 2C channels in [-1, 1], four 3x3
// convolutions (32, 64, 128, 128 channels, the last three with stride 2,
// each with batch norm and ReLU), average pooling to 4x4, a hidden layer of
// 256 and one output block per column (Angle 2, Category `categories`,
// Value 1; plus 1 presence logit for an optional column).
class DecoderNetImpl : public torch::nn::Module {
 public:
  DecoderNetImpl(int64_t channels, int64_t outputs);
  torch::Tensor forward(torch::Tensor pairs);  // float [N, 2C, H, W] -> [N, outputs]

 private:
  torch::nn::Sequential features{nullptr}, head{nullptr};
};
TORCH_MODULE(DecoderNet);

struct DecoderTraining {
  int64_t steps = 2000;   // Adam steps
  int64_t batch = 128;    // pairs per step
  double lr = 1e-3;       // Adam's rate, divided by 10 for the last quarter of the steps
  uint64_t seed = 0;      // which rows and which draws of t each step takes
};

class TransformDecoder {
 public:
  // Trains on pairs (x, t(x)) of `images` (uint8 [N, C, H, W], N >= 1) with
  // t drawn afresh from `truth` at every step. `progress(step, steps, loss)`
  // is called after each step. Runs on `device`.
  TransformDecoder(const transforms::Transform& truth, const torch::Tensor& images, const DecoderTraining& opt,
                   torch::Device device, const std::function<void(int64_t, int64_t, double)>& progress = {});

  // The parameters read from pairs (x, y), uint8 [N, C, H, W] each: float
  // [N, P] on the CPU, one column per columns()[j]: the angle in degrees in
  // (-180, 180], the category index, or the value in its units; NaN where an
  // optional column is read as absent. `batch` pairs at a time, in eval mode.
  torch::Tensor decode(const torch::Tensor& x, const torch::Tensor& y, int64_t batch = 256) const;

  const std::vector<ParamColumn>& columns() const { return columns_; }

 private:
  torch::Tensor loss(const torch::Tensor& out, const torch::Tensor& params) const;

  std::vector<ParamColumn> columns_;
  mutable DecoderNet net_{nullptr};  // LibTorch's forward() is not const; decode() changes nothing
  torch::Device device_;
};

// How well decoded params match the drawn ones (float [N, P] each), per
// column: {"name", "kind", "pairs", "error", "chance", "unit"} where error is the
// mean circular absolute error in degrees (Angle), the share misread
// (Category) or the mean absolute error (Value, in the parameter's units;
// no "unit"), over the `pairs` rows where the truth
// is drawn and the decoding present, and chance is the same for the best
// constant guess (the circular mean, the most common category, the median);
// an optional column adds "presence_error", the share of rows whose
// presence is misread.
nlohmann::json decoding_accuracy(const std::vector<ParamColumn>& columns, const torch::Tensor& decoded,
                                 const torch::Tensor& truth);

// The distance between the decoded params of two samples (float [Na, P] and
// [Nb, P]), one per column: 1-Wasserstein on the circle for an angle
// (degrees), total variation for a category, 1-Wasserstein for a value (its
// units) — metrics/wasserstein.h —, over the rows where the column is
// present; NaN when either side has none.
std::vector<double> param_distances(const std::vector<ParamColumn>& columns, const torch::Tensor& a,
                                    const torch::Tensor& b);

}  // namespace invkit::metrics
