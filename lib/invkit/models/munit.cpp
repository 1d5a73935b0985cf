#include "invkit/models/munit.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "invkit/error.h"

namespace invkit::models {

namespace {

constexpr double kEps = 1e-5;

// Plain modules that only hold children, so that parameters get MUNIT's
// dotted names (enc_content.model.3.model.0 ...).
std::shared_ptr<torch::nn::Module> holder(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

// Instance normalisation of [B, C, H, W] with optional per-(sample, channel)
// affine [B*C]: one batch_norm over a [1, B*C, H, W] view, as MUNIT does it.
torch::Tensor instance_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  auto s = x.sizes();
  auto y = torch::batch_norm(x.reshape({1, s[0] * s[1], s[2], s[3]}), weight, bias, {}, {}, /*training=*/true, 0.1,
                             kEps, /*cudnn_enabled=*/true);
  return y.view(s);
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

// ---------------------------------------------------------------- options

// The integer options as the manifest names them: one table for writing and reading.
constexpr std::pair<const char*, int64_t MunitOptions::*> kIntegerFields[] = {
    {"channels", &MunitOptions::channels},         {"height", &MunitOptions::height},
    {"width", &MunitOptions::width},               {"dim", &MunitOptions::dim},
    {"style_dim", &MunitOptions::style_dim},       {"mlp_dim", &MunitOptions::mlp_dim},
    {"n_downsample", &MunitOptions::n_downsample}, {"n_res", &MunitOptions::n_res},
    {"style_downsample", &MunitOptions::style_downsample}, {"dis_dim", &MunitOptions::dis_dim},
    {"dis_layers", &MunitOptions::dis_layers},     {"dis_scales", &MunitOptions::dis_scales}};

nlohmann::json MunitOptions::to_json() const {
  nlohmann::json j = {{"activ", "relu"}, {"pad_type", "reflect"}, {"gan_type", "lsgan"}};
  for (const auto& [key, member] : kIntegerFields) j[key] = this->*member;
  return j;
}

MunitOptions MunitOptions::from_json(const nlohmann::json& j, const std::string& source) {
  MunitOptions o;
  for (const auto& [key, member] : kIntegerFields) {
    if (!j.contains(key) || !j[key].is_number_integer())
      throw Error(source + ": generator manifest: model." + key + " is missing or not an integer");
    o.*member = j[key].get<int64_t>();
  }
  try {
    o.validate();
  } catch (const UsageError& e) {
    throw Error(source + ": generator manifest: " + e.what());
  }
  return o;
}

void MunitOptions::validate() const {
  auto positive = [](const char* name, int64_t v) {
    if (v < 1) throw UsageError(std::string(name) + " must be at least 1, got " + std::to_string(v));
  };
  positive("channels", channels);
  positive("gen dim", dim);
  positive("style dim", style_dim);
  positive("mlp dim", mlp_dim);
  positive("dis dim", dis_dim);
  positive("dis layers", dis_layers);
  positive("dis scales", dis_scales);
  if (n_downsample < 0 || n_res < 0 || style_downsample < 0)
    throw UsageError("downsamplings and residual blocks cannot be negative");
  if (height < 4 || width < 4)
    throw UsageError("images of " + std::to_string(height) + "x" + std::to_string(width) +
                     " are too small: the 7x7 input conv needs at least 4x4");
  auto h = level_sides(height, n_downsample), w = level_sides(width, n_downsample);
  if (h.back() < 2 || w.back() < 2)
    throw UsageError(std::to_string(n_downsample) + " downsamplings shrink " + std::to_string(height) + "x" +
                     std::to_string(width) + " to " + std::to_string(h.back()) + "x" + std::to_string(w.back()) +
                     ": the content code needs at least 2x2");
  for (int64_t s = 0; s < dis_scales; ++s)
    if (dis_layers_at(*this, s) < 1)
      throw UsageError("discriminator scale " + std::to_string(s) + " is smaller than 2x2: use fewer " +
                       param("dis_scales"));
  // Widths double at each downsampling (and discriminator layer): bound them
  // before any layer is sized, so that counts read from a checkpoint's
  // manifest cannot overflow into negative sizes or ask for 2^40 channels.
  constexpr int64_t kMaxWidth = int64_t(1) << 16;
  auto widest = [](int64_t base, int64_t doublings) {
    for (int64_t i = 0; i < doublings && base <= kMaxWidth; ++i) base *= 2;
    return base;
  };
  const int64_t gen_widest = widest(dim, std::max(n_downsample, style_downsample));
  const int64_t dis_widest = widest(dis_dim, dis_layers_at(*this, 0));
  if (std::max({gen_widest, dis_widest, mlp_dim, style_dim, channels}) > kMaxWidth)
    throw UsageError("layers wider than " + std::to_string(kMaxWidth) + " channels (gen dim " + std::to_string(dim) +
                     " doubled per downsampling, dis dim " + std::to_string(dis_dim) + " per layer, mlp dim " +
                     std::to_string(mlp_dim) + ", style dim " + std::to_string(style_dim) + ", channels " +
                     std::to_string(channels) + ")");
  if (n_res > 1024) throw UsageError(std::to_string(n_res) + " residual blocks: at most 1024");
}

std::vector<int64_t> level_sides(int64_t side, int64_t n_downsample) {
  std::vector<int64_t> s{side};
  for (int64_t i = 0; i < n_downsample; ++i) s.push_back((s.back() + 1) / 2);
  return s;
}

// A 4×4 stride-2 conv with one pixel of reflection padding maps n to n/2 and
// needs n ≥ 2.
static int64_t halvings(int64_t h, int64_t w, int64_t at_most) {
  int64_t n = 0;
  while (n < at_most && std::min(h, w) >= 2) {
    h /= 2;
    w /= 2;
    ++n;
  }
  return n;
}

int64_t style_downsamplings(const MunitOptions& o) { return halvings(o.height, o.width, o.style_downsample); }

int64_t dis_layers_at(const MunitOptions& o, int64_t scale) {
  int64_t h = o.height, w = o.width;
  for (int64_t s = 0; s < scale; ++s) {  // 3×3 stride-2 average pooling, padding 1: ceil(n/2)
    h = (h + 1) / 2;
    w = (w + 1) / 2;
  }
  return halvings(h, w, o.dis_layers);
}

// ---------------------------------------------------------------- blocks

Conv2dBlockImpl::Conv2dBlockImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, std::vector<int64_t> pad,
                                 Norm norm, Act act)
    : out_(out), pad_(std::move(pad)), norm_(norm), act_(act) {
  conv_ = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).bias(true)));
  if (norm == Norm::Layer) {
    auto n = holder(*this, "norm");
    gamma_ = n->register_parameter("gamma", torch::rand({out}));  // MUNIT: uniform [0, 1)
    beta_ = n->register_parameter("beta", torch::zeros({out}));
  } else if (norm == Norm::AdaIN) {
    // Unused by the computation (AdaIN always normalises with the sample's own
    // statistics) but part of the PyTorch module's state_dict.
    auto n = holder(*this, "norm");
    n->register_buffer("running_mean", torch::zeros({out}));
    n->register_buffer("running_var", torch::ones({out}));
  }
}

torch::Tensor Conv2dBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& adain) {
  bool padded = std::any_of(pad_.begin(), pad_.end(), [](int64_t p) { return p > 0; });
  torch::Tensor y = conv_->forward(padded ? torch::reflection_pad2d(x, pad_) : x);
  switch (norm_) {
    case Norm::None:
      break;
    case Norm::Instance:
      y = instance_norm(y, {}, {});
      break;
    case Norm::AdaIN: {
      TORCH_CHECK(adain.defined() && adain.size(1) == 2 * out_, "AdaIN block needs [B, ", 2 * out_, "] parameters");
      // MUNIT's layout: the first half is the bias (mean), the second the weight (std).
      y = instance_norm(y, adain.narrow(1, out_, out_).reshape({-1}), adain.narrow(1, 0, out_).reshape({-1}));
      break;
    }
    case Norm::Layer: {
      // MUNIT's LayerNorm: per sample over C, H, W, unbiased std, eps added to
      // the std; then a learned per-channel affine.
      int64_t b = y.size(0);
      auto flat = y.reshape({b, -1});
      auto mean = flat.mean(1).view({b, 1, 1, 1});
      auto std = flat.std(1).view({b, 1, 1, 1});
      y = (y - mean) / (std + kEps);
      y = torch::addcmul(beta_.view({1, -1, 1, 1}), y, gamma_.view({1, -1, 1, 1}));
      break;
    }
  }
  switch (act_) {
    case Act::None:
      break;
    case Act::ReLU:
      y = torch::relu_(y);
      break;
    case Act::LReLU:
      y = torch::leaky_relu_(y, 0.2);
      break;
    case Act::Tanh:
      y = torch::tanh(y);
      break;
  }
  return y;
}

ResBlockImpl::ResBlockImpl(int64_t dim, Norm norm) : dim_(dim) {
  auto m = holder(*this, "model");
  a_ = m->register_module("0", Conv2dBlock(dim, dim, 3, 1, std::vector<int64_t>{1, 1, 1, 1}, norm, Act::ReLU));
  b_ = m->register_module("1", Conv2dBlock(dim, dim, 3, 1, std::vector<int64_t>{1, 1, 1, 1}, norm, Act::None));
}

torch::Tensor ResBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& adain) {
  torch::Tensor pa, pb;
  if (adain.defined()) {
    pa = adain.narrow(1, 0, 2 * dim_);
    pb = adain.narrow(1, 2 * dim_, 2 * dim_);
  }
  return b_->forward(a_->forward(x, pa), pb) + x;
}

// ---------------------------------------------------------------- generator

AdaINGenImpl::AdaINGenImpl(const MunitOptions& o) : opt_(o) {
  o.validate();
  sides_h_ = level_sides(o.height, o.n_downsample);
  sides_w_ = level_sides(o.width, o.n_downsample);
  const std::vector<int64_t> pad1{1, 1, 1, 1}, pad3{3, 3, 3, 3};

  // Style encoder: 7×7 conv, downsamplings (the first two double the width),
  // global average pooling (index k+1, no parameters), 1×1 conv to the code.
  {
    auto model = holder(*register_module("enc_style", std::make_shared<torch::nn::Module>()), "model");
    int64_t d = o.dim, k = style_downsamplings(o);
    style_convs_.push_back(model->register_module("0", Conv2dBlock(o.channels, d, 7, 1, pad3, Norm::None, Act::ReLU)));
    for (int64_t i = 0; i < k; ++i) {
      int64_t next = i < 2 ? 2 * d : d;
      style_convs_.push_back(
          model->register_module(std::to_string(i + 1), Conv2dBlock(d, next, 4, 2, pad1, Norm::None, Act::ReLU)));
      d = next;
    }
    style_out_ = model->register_module(std::to_string(k + 2),
                                        torch::nn::Conv2d(torch::nn::Conv2dOptions(d, o.style_dim, 1).bias(true)));
  }
  // Content encoder: 7×7 conv, n downsamplings, n_res residual blocks; all
  // with instance norm.
  int64_t d = o.dim;
  {
    auto model = holder(*register_module("enc_content", std::make_shared<torch::nn::Module>()), "model");
    content_convs_.push_back(
        model->register_module("0", Conv2dBlock(o.channels, d, 7, 1, pad3, Norm::Instance, Act::ReLU)));
    for (int64_t i = 0; i < o.n_downsample; ++i) {
      std::vector<int64_t> pad{1, 1 + sides_w_[i] % 2, 1, 1 + sides_h_[i] % 2};  // odd side: ceil(n/2)
      content_convs_.push_back(
          model->register_module(std::to_string(i + 1), Conv2dBlock(d, 2 * d, 4, 2, pad, Norm::Instance, Act::ReLU)));
      d *= 2;
    }
    auto res = holder(*holder(*model, std::to_string(o.n_downsample + 1)), "model");
    for (int64_t r = 0; r < o.n_res; ++r)
      content_res_.push_back(res->register_module(std::to_string(r), ResBlock(d, Norm::Instance)));
  }
  // Decoder: AdaIN residual blocks, then per level ×2 nearest upsampling
  // (index 1+2j, no parameters) and a 5×5 conv with layer norm, then 7×7 + tanh.
  {
    auto model = holder(*register_module("dec", std::make_shared<torch::nn::Module>()), "model");
    auto res = holder(*holder(*model, "0"), "model");
    for (int64_t r = 0; r < o.n_res; ++r)
      dec_res_.push_back(res->register_module(std::to_string(r), ResBlock(d, Norm::AdaIN)));
    num_adain_ = 4 * d * o.n_res;
    for (int64_t j = 0; j < o.n_downsample; ++j) {
      int64_t level = o.n_downsample - j;
      int64_t extra_h = 2 * sides_h_[level] - sides_h_[level - 1];  // 1 when the finer side is odd
      int64_t extra_w = 2 * sides_w_[level] - sides_w_[level - 1];
      std::vector<int64_t> pad{2, 2 - extra_w, 2, 2 - extra_h};
      dec_up_.push_back(
          model->register_module(std::to_string(2 + 2 * j), Conv2dBlock(d, d / 2, 5, 1, pad, Norm::Layer, Act::ReLU)));
      d /= 2;
    }
    dec_out_ = model->register_module(std::to_string(1 + 2 * o.n_downsample),
                                      Conv2dBlock(d, o.channels, 7, 1, pad3, Norm::None, Act::Tanh));
  }
  // MLP: style code → mlp_dim → mlp_dim → AdaIN parameters.
  {
    auto model = holder(*register_module("mlp", std::make_shared<torch::nn::Module>()), "model");
    std::vector<int64_t> widths{o.style_dim, o.mlp_dim, o.mlp_dim, num_adain_};
    for (size_t i = 0; i + 1 < widths.size(); ++i)
      mlp_.push_back(holder(*model, std::to_string(i))->register_module("fc", torch::nn::Linear(widths[i], widths[i + 1])));
  }
}

void AdaINGenImpl::note(const std::string& name, const torch::Tensor& t) {
  if (trace_) trace_->emplace_back(name, t.sizes().vec());
}

torch::Tensor AdaINGenImpl::encode_style(const torch::Tensor& x) {
  torch::Tensor y = x;
  for (size_t i = 0; i < style_convs_.size(); ++i) {
    y = style_convs_[i]->forward(y);
    note("enc_style.model." + std::to_string(i), y);
  }
  y = torch::adaptive_avg_pool2d(y, {1, 1});
  note("enc_style.model." + std::to_string(style_convs_.size()) + " (avg pool)", y);
  y = style_out_->forward(y);
  note("enc_style.model." + std::to_string(style_convs_.size() + 1) + " (style code)", y);
  return y;
}

torch::Tensor AdaINGenImpl::encode_content(const torch::Tensor& x) {
  torch::Tensor y = x;
  for (size_t i = 0; i < content_convs_.size(); ++i) {
    y = content_convs_[i]->forward(y);
    note("enc_content.model." + std::to_string(i), y);
  }
  for (size_t r = 0; r < content_res_.size(); ++r) {
    y = content_res_[r]->forward(y);
    note("enc_content.model." + std::to_string(content_convs_.size()) + ".model." + std::to_string(r), y);
  }
  return y;
}

torch::Tensor AdaINGenImpl::adain_params(const torch::Tensor& style) {
  torch::Tensor y = style.reshape({style.size(0), -1});
  for (size_t i = 0; i < mlp_.size(); ++i) {
    y = mlp_[i]->forward(y);
    if (i + 1 < mlp_.size()) y = torch::relu_(y);
    note("mlp.model." + std::to_string(i), y);
  }
  return y;
}

torch::Tensor AdaINGenImpl::decode(const torch::Tensor& content, const torch::Tensor& style) {
  return decode_adain(content, adain_params(style));
}

torch::Tensor AdaINGenImpl::decode_adain(const torch::Tensor& content, const torch::Tensor& adain) {
  TORCH_CHECK(adain.dim() == 2 && adain.size(0) == content.size(0) && adain.size(1) == num_adain_,
              "decode: expected AdaIN parameters [", content.size(0), ", ", num_adain_, "]");
  torch::Tensor y = content;
  int64_t per_block = num_adain_ / std::max<int64_t>(1, opt_.n_res);
  for (size_t r = 0; r < dec_res_.size(); ++r) {
    y = dec_res_[r]->forward(y, adain.narrow(1, static_cast<int64_t>(r) * per_block, per_block));
    note("dec.model.0.model." + std::to_string(r), y);
  }
  for (size_t j = 0; j < dec_up_.size(); ++j) {
    y = torch::nn::functional::interpolate(
        y, torch::nn::functional::InterpolateFuncOptions()
               .size(std::vector<int64_t>{2 * y.size(2), 2 * y.size(3)})
               .mode(torch::kNearest));
    note("dec.model." + std::to_string(1 + 2 * j) + " (upsample)", y);
    y = dec_up_[j]->forward(y);
    note("dec.model." + std::to_string(2 + 2 * j), y);
  }
  y = dec_out_->forward(y);
  note("dec.model." + std::to_string(1 + 2 * dec_up_.size()), y);
  return y;
}

// ---------------------------------------------------------------- discriminator

MsImageDisImpl::MsImageDisImpl(const MunitOptions& o) {
  o.validate();
  auto cnns = holder(*this, "cnns");
  for (int64_t s = 0; s < o.dis_scales; ++s) {
    auto net = holder(*cnns, std::to_string(s));
    int64_t layers = dis_layers_at(o, s), d = o.dis_dim, in = o.channels;
    std::vector<Conv2dBlock> convs;
    for (int64_t i = 0; i < layers; ++i) {
      convs.push_back(net->register_module(
          std::to_string(i), Conv2dBlock(in, d, 4, 2, std::vector<int64_t>{1, 1, 1, 1}, Norm::None, Act::LReLU)));
      in = d;
      d *= 2;
    }
    outs_.push_back(
        net->register_module(std::to_string(layers), torch::nn::Conv2d(torch::nn::Conv2dOptions(in, 1, 1).bias(true))));
    convs_.push_back(std::move(convs));
  }
}

std::vector<torch::Tensor> MsImageDisImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> out;
  torch::Tensor in = x;
  for (size_t s = 0; s < convs_.size(); ++s) {
    torch::Tensor y = in;
    for (size_t i = 0; i < convs_[s].size(); ++i) {
      y = convs_[s][i]->forward(y);
      if (trace_) trace_->emplace_back("cnns." + std::to_string(s) + "." + std::to_string(i), y.sizes().vec());
    }
    y = outs_[s]->forward(y);
    if (trace_) trace_->emplace_back("cnns." + std::to_string(s) + "." + std::to_string(convs_[s].size()), y.sizes().vec());
    out.push_back(y);
    if (s + 1 < convs_.size()) in = torch::avg_pool2d(in, 3, 2, 1, /*ceil_mode=*/false, /*count_include_pad=*/false);
  }
  return out;
}

torch::Tensor MsImageDisImpl::dis_loss(const torch::Tensor& fake, const torch::Tensor& real) {
  int64_t b = fake.size(0);
  auto outs = forward(torch::cat({fake, real}, 0));  // no normalisation: batching changes nothing
  torch::Tensor loss = torch::zeros({}, fake.options());
  for (const auto& o : outs)
    loss = loss + o.narrow(0, 0, b).square().mean() + (o.narrow(0, b, real.size(0)) - 1).square().mean();
  return loss;
}

torch::Tensor MsImageDisImpl::gen_loss(const torch::Tensor& fake) {
  torch::Tensor loss = torch::zeros({}, fake.options());
  for (const auto& o : forward(fake)) loss = loss + (o - 1).square().mean();
  return loss;
}

// ---------------------------------------------------------------- init, description

static void init_module(torch::nn::Module& m, bool kaiming) {
  torch::NoGradGuard no_grad;
  for (auto& child : m.modules(/*include_self=*/true)) {
    torch::Tensor w, b;
    if (auto* c = child->as<torch::nn::Conv2d>()) {
      w = c->weight;
      b = c->bias;
    } else if (auto* l = child->as<torch::nn::Linear>()) {
      w = l->weight;
      b = l->bias;
    } else {
      continue;
    }
    if (kaiming)
      torch::nn::init::kaiming_normal_(w, 0.0, torch::kFanIn);
    else
      w.normal_(0.0, 0.02);
    if (b.defined()) b.zero_();
  }
}

void init_generator(AdaINGen& gen) { init_module(*gen, true); }
void init_discriminator(MsImageDis& dis) { init_module(*dis, false); }

int64_t count_parameters(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

std::vector<std::string> describe_layers(const MunitOptions& o) {
  torch::NoGradGuard no_grad;
  AdaINGen gen(o);
  MsImageDis dis(o);
  ShapeTrace trace;
  gen->trace(&trace);
  dis->trace(&trace);
  auto x = torch::zeros({1, o.channels, o.height, o.width});
  trace.emplace_back("input", x.sizes().vec());
  auto c = gen->encode_content(x);
  auto s = gen->encode_style(x);
  gen->decode(c, s);
  dis->forward(x);
  std::vector<std::string> lines;
  size_t width = 0;
  for (const auto& [name, shape] : trace) width = std::max(width, name.size());
  for (const auto& [name, shape] : trace) {
    std::ostringstream line;
    line << name << std::string(width + 2 - name.size(), ' ') << shape_text(shape);
    lines.push_back(line.str());
  }
  return lines;
}

}  // namespace invkit::models
