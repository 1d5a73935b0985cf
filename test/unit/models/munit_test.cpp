#include "invkit/models/munit.h"

#include <gtest/gtest.h>

#include "invkit/error.h"
#include "testing.h"

using invkit::models::AdaINGen;
using invkit::models::MsImageDis;
using invkit::models::MunitOptions;

namespace {

MunitOptions sized(int64_t c, int64_t h, int64_t w) {
  MunitOptions o;
  o.channels = c;
  o.height = h;
  o.width = w;
  return o;
}

// Parameter counts from the layer formulas (weights + biases).
int64_t conv(int64_t in, int64_t out, int64_t k) { return in * out * k * k + out; }
int64_t linear(int64_t in, int64_t out) { return in * out + out; }

// MUNIT's AdaINGen with 2 downsamplings and a style encoder of `k` downsamplings.
int64_t expected_gen(const MunitOptions& o, int64_t k) {
  const int64_t d = o.dim, c = o.channels, top = 4 * d;
  int64_t style = conv(c, d, 7) + conv(d, 2 * d, 4) + conv(2 * d, 4 * d, 4) + (k - 2) * conv(4 * d, 4 * d, 4) +
                  conv(4 * d, o.style_dim, 1);
  int64_t content = conv(c, d, 7) + conv(d, 2 * d, 4) + conv(2 * d, 4 * d, 4) + o.n_res * 2 * conv(top, top, 3);
  int64_t decoder = o.n_res * 2 * conv(top, top, 3) + conv(top, 2 * d, 5) + 2 * (2 * d) + conv(2 * d, d, 5) + 2 * d +
                    conv(d, c, 7);
  int64_t adain = o.n_res * 2 * 2 * top;
  int64_t mlp = linear(o.style_dim, o.mlp_dim) + linear(o.mlp_dim, o.mlp_dim) + linear(o.mlp_dim, adain);
  return style + content + decoder + mlp;
}

int64_t expected_dis(const MunitOptions& o, int64_t layers) {
  int64_t n = 0, in = o.channels, d = o.dis_dim;
  for (int64_t i = 0; i < layers; ++i, in = d, d *= 2) n += conv(in, d, 4);
  return n + conv(in, 1, 1);
}

std::string usage_error(const MunitOptions& o) {
  try {
    o.validate();
  } catch (const invkit::UsageError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Munit, ParameterCountsForTheThreeSizes) {
  for (auto [c, s] : {std::pair<int64_t, int64_t>{1, 28}, {3, 32}, {3, 64}}) {
    auto o = sized(c, s, s);
    AdaINGen gen(o);
    MsImageDis dis(o);
    EXPECT_EQ(invkit::models::style_downsamplings(o), 4) << s;
    EXPECT_EQ(invkit::models::count_parameters(*gen), expected_gen(o, 4)) << c << "x" << s;
    EXPECT_EQ(invkit::models::count_parameters(*dis), expected_dis(o, 4)) << c << "x" << s;
  }
  // The 1x28x28 figure written out, as a cross-check of the formulas themselves.
  EXPECT_EQ(expected_gen(sized(1, 28, 28), 4), 15007369);  // also what the Python twin in scripts/bench-generator counts
}

TEST(Munit, OutputShapesForTheThreeSizes) {
  torch::NoGradGuard no_grad;
  for (auto [c, s] : {std::pair<int64_t, int64_t>{1, 28}, {3, 32}, {3, 64}}) {
    auto o = sized(c, s, s);
    o.dis_scales = 2;
    AdaINGen gen(o);
    MsImageDis dis(o);
    auto x = torch::rand({2, c, s, s}) * 2 - 1;
    auto content = gen->encode_content(x);
    auto style = gen->encode_style(x);
    EXPECT_EQ(content.sizes().vec(), (std::vector<int64_t>{2, 256, s / 4, s / 4}));
    EXPECT_EQ(style.sizes().vec(), (std::vector<int64_t>{2, 8, 1, 1}));
    auto y = gen->decode(content, style);
    EXPECT_EQ(y.sizes(), x.sizes());
    EXPECT_LE(y.abs().max().item<float>(), 1.0f);  // tanh
    auto outs = dis->forward(x);
    ASSERT_EQ(outs.size(), 2u);
    // 4 stride-2 layers: 28 -> 14 -> 7 -> 3 -> 1, 32 -> 2, 64 -> 4; second scale from ceil(s/2).
    int64_t first = s == 28 ? 1 : s / 16;
    EXPECT_EQ(outs[0].sizes().vec(), (std::vector<int64_t>{2, 1, first, first}));
    int64_t half = (s + 1) / 2;  // 14 -> 7 -> 3 -> 1 -> 0 would not fit: 3 layers
    int64_t layers = invkit::models::dis_layers_at(o, 1);
    EXPECT_EQ(layers, s == 28 ? 3 : 4);
    int64_t side = half;
    for (int64_t i = 0; i < layers; ++i) side /= 2;
    EXPECT_EQ(outs[1].sizes().vec(), (std::vector<int64_t>{2, 1, side, side}));
  }
}

TEST(Munit, OddSizesComeBackTheSameSize) {
  torch::NoGradGuard no_grad;
  for (auto [h, w] : {std::pair<int64_t, int64_t>{13, 13}, {30, 30}, {15, 22}, {9, 27}}) {
    auto o = sized(1, h, w);
    o.dim = 8;
    o.mlp_dim = 16;
    o.n_res = 1;
    AdaINGen gen(o);
    auto x = torch::rand({1, 1, h, w}) * 2 - 1;
    auto content = gen->encode_content(x);
    EXPECT_EQ(content.size(2), ((h + 1) / 2 + 1) / 2);
    EXPECT_EQ(content.size(3), ((w + 1) / 2 + 1) / 2);
    EXPECT_EQ(gen->decode(content, gen->encode_style(x)).sizes(), x.sizes()) << h << "x" << w;
  }
}

TEST(Munit, SmallInputsCapTheStyleEncoderAndDiscriminator) {
  auto o = sized(1, 8, 8);
  EXPECT_EQ(invkit::models::style_downsamplings(o), 3);  // 8 -> 4 -> 2 -> 1
  EXPECT_EQ(invkit::models::dis_layers_at(o, 0), 3);
  AdaINGen gen(o);
  MsImageDis dis(o);
  EXPECT_EQ(invkit::models::count_parameters(*dis), expected_dis(o, 3));
  // 3 downsamplings: 64 -> 128 -> 256 -> 256, so one 256->256 conv fewer than with 4.
  EXPECT_EQ(invkit::models::count_parameters(*gen), expected_gen(o, 3));
  torch::NoGradGuard no_grad;
  auto x = torch::zeros({1, 1, 8, 8});
  EXPECT_EQ(gen->encode_style(x).sizes().vec(), (std::vector<int64_t>{1, 8, 1, 1}));
  EXPECT_EQ(dis->forward(x)[0].sizes().vec(), (std::vector<int64_t>{1, 1, 1, 1}));
}

TEST(Munit, TooSmallInputsAreUsageErrors) {
  EXPECT_EQ(usage_error(sized(1, 3, 28)), "images of 3x28 are too small: the 7x7 input conv needs at least 4x4");
  auto o = sized(1, 6, 6);
  o.n_downsample = 3;  // 6 -> 3 -> 2 -> 1
  EXPECT_EQ(usage_error(o), "3 downsamplings shrink 6x6 to 1x1: the content code needs at least 2x2");
  o = sized(1, 8, 8);
  o.dis_scales = 4;  // 8, 4, 2, 1
  EXPECT_EQ(usage_error(o), "discriminator scale 3 is smaller than 2x2: use fewer dis_scales");
  EXPECT_EQ(usage_error(sized(1, 28, 28)), "");
}

TEST(Munit, WidthsThatDoubleOutOfRangeAreRefusedBeforeAnyLayer) {
  // Counts from a checkpoint's manifest: gen dim doubled per downsampling would overflow int64.
  auto o = sized(1, 28, 28);
  o.dim = int64_t(1) << 60;
  EXPECT_NE(usage_error(o).find("layers wider than 65536 channels"), std::string::npos);
  o = sized(1, 28, 28);
  o.mlp_dim = int64_t(1) << 40;
  EXPECT_NE(usage_error(o).find("mlp dim 1099511627776"), std::string::npos);
  o = sized(1, 28, 28);
  o.n_res = int64_t(1) << 40;
  EXPECT_EQ(usage_error(o), "1099511627776 residual blocks: at most 1024");
  nlohmann::json j = sized(1, 28, 28).to_json();
  j["dim"] = int64_t(1) << 60;
  EXPECT_EQ(invkit::testing::error_of([&] { invkit::models::MunitOptions::from_json(j, "gen.st"); })
                .rfind("gen.st: generator manifest: layers wider than 65536 channels", 0),
            0u);
}

TEST(Munit, AdainCountMatchesTheDecoder) {
  for (int64_t n_res : {1, 4}) {
    auto o = sized(3, 32, 32);
    o.n_res = n_res;
    AdaINGen gen(o);
    int64_t from_layers = 0, adain_layers = 0;
    for (const auto& b : gen->named_buffers())
      if (b.key().find("running_mean") != std::string::npos) {
        from_layers += 2 * b.value().numel();  // a bias and a weight per channel
        ++adain_layers;
      }
    EXPECT_EQ(adain_layers, 2 * n_res);
    EXPECT_EQ(gen->num_adain_params(), from_layers);
    EXPECT_EQ(gen->num_adain_params(), 2 * n_res * 2 * 256);
    auto mlp_out = gen->named_parameters()["mlp.model.2.fc.bias"];
    EXPECT_EQ(mlp_out.numel(), gen->num_adain_params());
    torch::NoGradGuard no_grad;
    EXPECT_EQ(gen->adain_params(torch::zeros({5, 8, 1, 1})).sizes().vec(),
              (std::vector<int64_t>{5, gen->num_adain_params()}));
  }
}

TEST(Munit, StyleChangesTheImageAndTheSameCodesGiveTheSameImage) {
  torch::manual_seed(3);
  auto o = sized(1, 28, 28);
  AdaINGen gen(o);
  invkit::models::init_generator(gen);
  torch::NoGradGuard no_grad;
  auto x = torch::rand({1, 1, 28, 28}) * 2 - 1;
  auto content = gen->encode_content(x);
  auto s1 = torch::randn({1, 8, 1, 1}), s2 = torch::randn({1, 8, 1, 1});
  auto a = gen->decode(content, s1), b = gen->decode(content, s2), a2 = gen->decode(gen->encode_content(x), s1);
  EXPECT_GT((a - b).abs().mean().item<float>(), 1e-3);
  EXPECT_TRUE(torch::equal(a, a2));
  // Batching does not mix samples: row 1 of a batch equals the sample alone.
  auto both = gen->decode(torch::cat({content, content}), torch::cat({s1, s2}));
  EXPECT_TRUE(torch::allclose(both[1], b[0], 1e-5, 1e-5));
}

TEST(Munit, StateDictNamesFollowPyTorchMunit) {
  auto o = sized(1, 28, 28);
  AdaINGen gen(o);
  MsImageDis dis(o);
  auto p = gen->named_parameters();
  auto b = gen->named_buffers();
  for (const char* name : {"enc_style.model.0.conv.weight", "enc_style.model.4.conv.bias", "enc_style.model.6.weight",
                           "enc_content.model.0.conv.weight", "enc_content.model.2.conv.weight",
                           "enc_content.model.3.model.3.model.1.conv.bias", "dec.model.0.model.0.model.0.conv.weight",
                           "dec.model.2.conv.weight", "dec.model.2.norm.gamma", "dec.model.4.norm.beta",
                           "dec.model.5.conv.weight", "mlp.model.0.fc.weight", "mlp.model.2.fc.bias"})
    EXPECT_TRUE(p.contains(name)) << name;
  EXPECT_TRUE(b.contains("dec.model.0.model.3.model.1.norm.running_var"));
  EXPECT_EQ(p["enc_style.model.6.weight"].sizes().vec(), (std::vector<int64_t>{8, 256, 1, 1}));
  EXPECT_EQ(p["dec.model.5.conv.weight"].sizes().vec(), (std::vector<int64_t>{1, 64, 7, 7}));
  auto d = dis->named_parameters();
  EXPECT_TRUE(d.contains("cnns.0.0.conv.weight"));
  EXPECT_EQ(d["cnns.0.4.weight"].sizes().vec(), (std::vector<int64_t>{1, 512, 1, 1}));
}

TEST(Munit, InitialisationFollowsMunit) {
  torch::manual_seed(0);
  auto o = sized(1, 28, 28);
  AdaINGen gen(o);
  MsImageDis dis(o);
  invkit::models::init_generator(gen);
  invkit::models::init_discriminator(dis);
  auto p = gen->named_parameters();
  // Kaiming normal, fan in: std sqrt(2 / (256*3*3)).
  auto w = p["enc_content.model.3.model.0.model.0.conv.weight"];
  EXPECT_NEAR(w.std().item<double>(), std::sqrt(2.0 / (256 * 9)), 0.002);
  EXPECT_EQ(p["enc_content.model.3.model.0.model.0.conv.bias"].abs().sum().item<double>(), 0.0);
  EXPECT_NEAR(dis->named_parameters()["cnns.0.3.conv.weight"].std().item<double>(), 0.02, 0.001);
  auto gamma = p["dec.model.2.norm.gamma"];
  EXPECT_GE(gamma.min().item<double>(), 0.0);
  EXPECT_LT(gamma.max().item<double>(), 1.0);
}

TEST(Munit, DescribeLayersTracesEveryLayer) {
  auto lines = invkit::models::describe_layers(sized(1, 28, 28));
  auto has = [&](const std::string& s) {
    for (const auto& l : lines)
      if (l.find(s) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has("[1, 256, 7, 7]"));
  EXPECT_TRUE(has("dec.model.5"));
  EXPECT_TRUE(has("cnns.0.4"));
}
