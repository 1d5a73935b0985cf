// MUNIT (Huang et al., ECCV 2018) for one domain mapped to itself: the
// generator AdaINGen (content encoder, style encoder, MLP from the style code
// to AdaIN parameters, decoder) and the multi-scale PatchGAN discriminator
// MsImageDis with the LSGAN loss. Every submodule is registered under the name
// its PyTorch twin (NVlabs/MUNIT networks.py) uses, so the state_dict names
// match: enc_style.model.0.conv.weight, dec.model.0.model.1.model.0.norm.
// running_mean, mlp.model.2.fc.bias, cnns.0.4.weight, ...
//
// Sizes adapt to the input: a downsampling conv on an odd side pads one more
// pixel on the far edge (so the side becomes ceil(n/2)), and the decoder's
// 5×5 conv after that level's ×2 upsampling pads one less, so the decoder
// returns exactly the input size. The style encoder's 4 downsamplings and the
// discriminator's layers stop where a side would fall below 2 pixels.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace invkit::models {

struct MunitOptions {
  int64_t channels = 1;          // image channels (1 or 3)
  int64_t height = 28;           // input size; the decoder returns the same
  int64_t width = 28;
  int64_t dim = 64;              // generator filters in the first layer
  int64_t style_dim = 8;         // length of the style code
  int64_t mlp_dim = 256;         // hidden width of the style MLP
  int64_t n_downsample = 2;      // content encoder downsamplings
  int64_t n_res = 4;             // residual blocks in content encoder and decoder
  int64_t style_downsample = 4;  // style encoder downsamplings (capped by the size)
  int64_t dis_dim = 64;          // discriminator filters in the first layer
  int64_t dis_layers = 4;        // stride-2 layers per scale (capped by the size)
  int64_t dis_scales = 1;        // discriminator scales (each half the size)

  nlohmann::json to_json() const;
  // Reads what to_json wrote; `source` names the file in errors.
  static MunitOptions from_json(const nlohmann::json& j, const std::string& source);
  // Throws UsageError naming the option when the sizes cannot work.
  void validate() const;
};

// One side length per content-encoder level: sides[0] = input, sides[i+1] =
// ceil(sides[i] / 2).
std::vector<int64_t> level_sides(int64_t side, int64_t n_downsample);
// Style encoder downsamplings actually used for this input.
int64_t style_downsamplings(const MunitOptions& o);
// Discriminator layers actually used at scale `scale` (0 = full size).
int64_t dis_layers_at(const MunitOptions& o, int64_t scale);

enum class Norm { None, Instance, Layer, AdaIN };
enum class Act { None, ReLU, LReLU, Tanh };

// Reflection pad (left, right, top, bottom), conv (no padding, with bias),
// norm, activation — MUNIT's Conv2dBlock.
class Conv2dBlockImpl : public torch::nn::Module {
 public:
  Conv2dBlockImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, std::vector<int64_t> pad, Norm norm,
                  Act act);
  // `adain` [B, 2*out] (bias then weight, as MUNIT slices them) for Norm::AdaIN.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& adain = {});
  int64_t out_channels() const { return out_; }

 private:
  int64_t out_;
  std::vector<int64_t> pad_;
  Norm norm_;
  Act act_;
  torch::nn::Conv2d conv_{nullptr};
  torch::Tensor gamma_, beta_;  // Norm::Layer
};
TORCH_MODULE(Conv2dBlock);

// Two 3×3 Conv2dBlocks (the second without activation) plus the input.
class ResBlockImpl : public torch::nn::Module {
 public:
  ResBlockImpl(int64_t dim, Norm norm);
  // `adain` [B, 4*dim] for Norm::AdaIN (first block's then second's).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& adain = {});

 private:
  int64_t dim_;
  Conv2dBlock a_{nullptr}, b_{nullptr};
};
TORCH_MODULE(ResBlock);

// (layer name, output shape) pairs, recorded by a forward pass when tracing.
using ShapeTrace = std::vector<std::pair<std::string, std::vector<int64_t>>>;

class AdaINGenImpl : public torch::nn::Module {
 public:
  explicit AdaINGenImpl(const MunitOptions& options);

  torch::Tensor encode_content(const torch::Tensor& x);  // [B, dim·2^n, h, w]
  torch::Tensor encode_style(const torch::Tensor& x);    // [B, style_dim, 1, 1]
  torch::Tensor adain_params(const torch::Tensor& style);  // [B, num_adain_params()]
  // Images in [-1, 1] from content codes and style codes [B, style_dim(,1,1)].
  torch::Tensor decode(const torch::Tensor& content, const torch::Tensor& style);
  // The same with AdaIN parameters given directly (the MLP skipped).
  torch::Tensor decode_adain(const torch::Tensor& content, const torch::Tensor& adain);

  int64_t num_adain_params() const { return num_adain_; }
  const MunitOptions& options() const { return opt_; }
  // Sets (or clears with nullptr) where forward passes record layer shapes.
  void trace(ShapeTrace* t) { trace_ = t; }

 private:
  void note(const std::string& name, const torch::Tensor& t);

  MunitOptions opt_;
  int64_t num_adain_ = 0;
  std::vector<int64_t> sides_h_, sides_w_;
  std::vector<Conv2dBlock> style_convs_;
  torch::nn::Conv2d style_out_{nullptr};
  std::vector<Conv2dBlock> content_convs_;
  std::vector<ResBlock> content_res_, dec_res_;
  std::vector<Conv2dBlock> dec_up_;
  Conv2dBlock dec_out_{nullptr};
  std::vector<torch::nn::Linear> mlp_;
  ShapeTrace* trace_ = nullptr;
};
TORCH_MODULE(AdaINGen);

class MsImageDisImpl : public torch::nn::Module {
 public:
  explicit MsImageDisImpl(const MunitOptions& options);
  // One patch map per scale.
  std::vector<torch::Tensor> forward(const torch::Tensor& x);
  // LSGAN: mean(D(fake)²) + mean((D(real) − 1)²), summed over scales; fake
  // and real go through the discriminator as one batch.
  torch::Tensor dis_loss(const torch::Tensor& fake, const torch::Tensor& real);
  // LSGAN for the generator: mean((D(fake) − 1)²), summed over scales.
  torch::Tensor gen_loss(const torch::Tensor& fake);
  void trace(ShapeTrace* t) { trace_ = t; }

 private:
  std::vector<std::vector<Conv2dBlock>> convs_;
  std::vector<torch::nn::Conv2d> outs_;
  ShapeTrace* trace_ = nullptr;
};
TORCH_MODULE(MsImageDis);

// MUNIT's initialisation: Kaiming normal (fan in, a = 0) for the generator's
// conv and linear weights, N(0, 0.02) for the discriminator's; biases 0. Draws
// from torch's global generator.
void init_generator(AdaINGen& gen);
void init_discriminator(MsImageDis& dis);

// Per-layer output shapes of a forward pass on zeros of the input size, as
// text lines "name  [shape]" (for docs/train-generator.md).
std::vector<std::string> describe_layers(const MunitOptions& options);

// Number of scalars in a module's parameters.
int64_t count_parameters(const torch::nn::Module& m);

}  // namespace invkit::models
