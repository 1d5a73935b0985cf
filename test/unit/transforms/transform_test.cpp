// What the transforms do to pixels: exactness, PIL agreement, the paper's
// three transforms, composition, '|' frequencies, seeds and batching.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <cmath>

#include "invkit/error.h"
#include "invkit/transforms/geometric.h"
#include "invkit/transforms/morphology.h"
#include "invkit/transforms/ops.h"
#include "invkit/transforms/transform.h"

namespace it = invkit::transforms;
using torch::indexing::Slice;

namespace {

torch::Tensor random_images(int64_t n, int64_t c, int64_t h, int64_t w, int64_t seed = 7) {
  auto g = at::detail::createCPUGenerator(static_cast<uint64_t>(seed));
  return torch::randint(0, 256, {n, c, h, w}, g, torch::kLong).to(torch::kByte);
}

torch::Tensor keys_for(int64_t n, int64_t first = 0) { return torch::arange(first, first + n, torch::kLong); }

torch::Tensor run(const std::string& spec, const torch::Tensor& x, uint64_t seed = 1, torch::Tensor* params = nullptr) {
  return it::parse_transform(spec)->apply(x, seed, keys_for(x.size(0)), params);
}

// uint8 [1, 1, H, W] from a list of rows.
torch::Tensor image(const std::vector<std::vector<int>>& rows) {
  const int64_t H = static_cast<int64_t>(rows.size()), W = static_cast<int64_t>(rows[0].size());
  auto t = torch::empty({1, 1, H, W}, torch::kByte);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) t[0][0][y][x] = rows[y][x];
  return t;
}

int64_t max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kInt) - b.to(torch::kInt)).abs().max().item<int64_t>();
}

// How the operation called `name` runs.
const it::Geometric& geometric(const std::string& name) { return std::get<it::Geometric>(it::find_op(name)->run); }
const it::PerImage& per_image(const std::string& name) { return std::get<it::PerImage>(it::find_op(name)->run); }

}  // namespace

TEST(Transform, IdentityAndZeroRotationReturnTheInputBytes) {
  auto x = random_images(5, 3, 7, 9);
  for (const char* spec : {"identity", "rotate(0,0)", "rotate(0,0)+identity+scale(1,1)", "rotate(360,360)",
                           "translate(0,0)", "hflip(0)", "background(0,1)+dilate(1,1)+erode(1,1)"}) {
    auto y = run(spec, x);
    EXPECT_TRUE(torch::equal(y, x)) << spec;
  }
  auto y = run("rotate(0,0,interp=bicubic)", x);
  EXPECT_NE(y.data_ptr(), x.data_ptr());  // a copy, never the caller's buffer
}

TEST(Transform, QuarterTurnsArePixelPermutations) {
  auto x = random_images(3, 2, 10, 10);
  for (int k = 1; k <= 3; ++k) {
    // Counter-clockwise on screen, as PIL's rotate and torch.rot90 over (H, W).
    auto expected = torch::rot90(x, k, {2, 3});
    for (const char* interp : {"nearest", "bilinear", "bicubic"}) {
      std::string spec = "rotate(" + std::to_string(90 * k) + "," + std::to_string(90 * k) + ",interp=" + interp + ")";
      EXPECT_TRUE(torch::equal(run(spec, x), expected)) << spec;
    }
  }
  // PIL: Image.fromarray(np.arange(16).reshape(4,4)).rotate(90)
  auto a = torch::arange(16, torch::kLong).to(torch::kByte).view({1, 1, 4, 4});
  EXPECT_TRUE(torch::equal(run("rotate(90,90,interp=nearest)", a),
                           image({{3, 7, 11, 15}, {2, 6, 10, 14}, {1, 5, 9, 13}, {0, 4, 8, 12}})));
  EXPECT_TRUE(torch::equal(run("hflip(1)", x), x.flip({3})));
  EXPECT_TRUE(torch::equal(run("vflip(1)+hflip(1)", x), torch::rot90(x, 2, {2, 3})));
}

TEST(Transform, RotationAgreesWithPIL) {
  // a = (np.arange(48).reshape(6,8)*37 % 251).astype(np.uint8);
  // np.array(Image.fromarray(a).rotate(ANGLE, resample=BICUBIC or BILINEAR)), Pillow 9.4.
  auto a = (torch::arange(48, torch::kLong) * 37 % 251).to(torch::kByte).view({1, 1, 6, 8});
  auto pil = [](std::vector<int> v) { return torch::tensor(v, torch::kLong).to(torch::kByte).view({1, 1, 6, 8}); };
  auto bicubic30 = pil({0,   0,   122, 168, 224, 0,   71,  0,   0,   77,  122, 177, 195, 16,  107, 144,
                        32,  88,  152, 229, 135, 50,  118, 168, 64,  114, 179, 255, 69,  60,  144, 200,
                        88,  125, 188, 93,  45,  111, 155, 0,   0,   161, 234, 12,  63,  110, 0,   0});
  auto bilinear30 = pil({0,   0,   127, 163, 191, 21,  76,  0,   0,   77,  129, 184, 161, 47,  96,  140,
                         40,  95,  149, 204, 148, 62,  117, 171, 61,  115, 170, 224, 93,  83,  137, 192,
                         92,  136, 185, 107, 48,  103, 155, 0,   0,   156, 211, 41,  69,  105, 0,   0});
  auto bicubic_m45 = pil({0,   111, 95,  104, 92,  93,  0,   0,   171, 182, 177, 155, 151, 139, 151, 0,
                          143, 153, 173, 255, 251, 216, 221, 255, 0,   9,   38,  106, 92,  81,  77,  89,
                          0,   81,  79,  77,  72,  41,  50,  61,  0,   0,   139, 140, 128, 137, 121, 0});
  // PIL truncates where invkit rounds: at most one level apart.
  auto check = [&](const std::string& spec, const torch::Tensor& expected) {
    auto y = run(spec, a);
    EXPECT_LE(max_abs_diff(y, expected), 1) << spec << "\n" << y << "\n" << expected;
  };
  check("rotate(30,30)", bicubic30);
  check("rotate(30,30,interp=bilinear)", bilinear30);
  check("rotate(-45,-45)", bicubic_m45);
}

TEST(Transform, FusedGeometricOpsResampleOnce) {
  auto x = random_images(4, 1, 12, 12);
  // One resampling through rotate(30) then rotate(-30) is the identity map...
  auto fused = run("rotate(30,30)+rotate(-30,-30)", x);
  EXPECT_LE(max_abs_diff(fused, x), 1);
  // ...two resamplings lose the corners.
  auto twice = run("rotate(-30,-30)", run("rotate(30,30)", x));
  EXPECT_GT(max_abs_diff(twice, x), 50);
}

TEST(Transform, BackgroundChangesOnlyZeroPixelsToOneLevel) {
  auto x = random_images(200, 1, 6, 6);
  x.masked_fill_(x < 100, 0);  // about 40% zeros
  torch::Tensor params;
  auto y = run("background(10,20)", x, 3, &params);
  ASSERT_EQ(params.sizes(), (std::vector<int64_t>{200, 1}));
  auto zero = x == 0;
  EXPECT_TRUE(torch::equal(y.masked_select(~zero), x.masked_select(~zero)));
  std::set<int> levels;
  for (int64_t i = 0; i < 200; ++i) {
    auto changed = y[i].masked_select(zero[i]);
    if (changed.numel() == 0) continue;
    int level = changed[0].item<int>();
    EXPECT_TRUE((changed == level).all().item<bool>()) << "row " << i;
    EXPECT_GE(level, 10);
    EXPECT_LT(level, 20);
    EXPECT_EQ(params[i][0].item<float>(), level);
    levels.insert(level);
  }
  EXPECT_EQ(levels.size(), 10u);  // every level of [10, 20) drawn in 200 images
  // The paper's preset: background(0,100).
  auto p = run("background", x, 4);
  EXPECT_TRUE(torch::equal(p.masked_select(~zero), x.masked_select(~zero)));
  EXPECT_LT(p.max().item<int>(), 256);
}

TEST(Transform, DilationNeverLowersErosionNeverRaises) {
  auto x = random_images(50, 2, 9, 11);
  for (int k = 1; k <= 5; ++k) {
    auto kk = std::to_string(k);
    EXPECT_TRUE((run("dilate(" + kk + "," + kk + ")", x) >= x).all().item<bool>()) << k;
    EXPECT_TRUE((run("erode(" + kk + "," + kk + ")", x) <= x).all().item<bool>()) << k;
  }
}

TEST(Transform, MorphologyMatchesHandComputedOpenCVAnchors) {
  // One bright pixel at (row 2, col 2) of a 6x6 image. OpenCV's anchor k/2:
  // output (x, y) = max of input (x+i, y+j), i, j in [-k/2, k-1-k/2].
  auto dot = torch::zeros({1, 1, 6, 6}, torch::kByte);
  dot[0][0][2][2] = 9;
  auto box = [](int lo, int hi, int v, int bg) {  // rows and columns lo..hi hold v
    auto t = torch::full({1, 1, 6, 6}, bg, torch::kByte);
    t.index_put_({0, 0, Slice(lo, hi + 1), Slice(lo, hi + 1)}, v);
    return t;
  };
  EXPECT_TRUE(torch::equal(run("dilate(2,2)", dot), box(2, 3, 9, 0)));  // offsets -1..0
  EXPECT_TRUE(torch::equal(run("dilate(3,3)", dot), box(1, 3, 9, 0)));  // -1..1
  EXPECT_TRUE(torch::equal(run("dilate(4,4)", dot), box(1, 4, 9, 0)));  // -2..1
  // Erosion: a dark pixel in a bright image; outside the image is ignored,
  // so the border stays bright.
  auto hole = torch::full({1, 1, 6, 6}, 200, torch::kByte);
  hole[0][0][2][2] = 5;
  EXPECT_TRUE(torch::equal(run("erode(2,2)", hole), box(2, 3, 5, 200)));
  EXPECT_TRUE(torch::equal(run("erode(3,3)", hole), box(1, 3, 5, 200)));
  EXPECT_TRUE(torch::equal(run("erode(1,1)", hole), hole));
  // A falling ramp shows each column's window.
  auto fall = image({{9, 7, 5, 3, 1}});
  EXPECT_TRUE(torch::equal(run("dilate(2,2)", fall), image({{9, 9, 7, 5, 3}})));
  EXPECT_TRUE(torch::equal(run("dilate(4,4)", fall), image({{9, 9, 9, 7, 5}})));  // max(x-2..x+1)
  EXPECT_TRUE(torch::equal(run("erode(4,4)", fall), image({{7, 5, 3, 1, 1}})));   // min(x-2..x+1)
  EXPECT_TRUE(torch::equal(run("erode(2,2)", fall), image({{9, 7, 5, 3, 1}})));   // min(x-1..x) on a falling ramp
}

TEST(Transform, DilateErodePresetDrawsBothAndRecordsK) {
  auto t = it::parse_transform("dilate-erode");
  EXPECT_EQ(t->param_names(), (std::vector<std::string>{"choice", "dilate.k", "erode.k"}));
  const int64_t n = 4000;
  auto x = random_images(n, 1, 5, 5);
  torch::Tensor params;
  auto y = t->apply(x, 11, keys_for(n), &params);
  std::map<int, int> dil, ero;
  int64_t dilated = 0;
  for (int64_t i = 0; i < n; ++i) {
    int choice = static_cast<int>(params[i][0].item<float>());
    float dk = params[i][1].item<float>(), ek = params[i][2].item<float>();
    if (choice == 0) {
      ++dilated;
      ++dil[static_cast<int>(dk)];
      EXPECT_TRUE(std::isnan(ek));
      EXPECT_TRUE((y[i] >= x[i]).all().item<bool>());
    } else {
      ++ero[static_cast<int>(ek)];
      EXPECT_TRUE(std::isnan(dk));
      EXPECT_TRUE((y[i] <= x[i]).all().item<bool>());
    }
  }
  // p(dilate) = 0.6: 2400 expected, sd 31; a loose bound of 5 sd.
  EXPECT_NEAR(static_cast<double>(dilated), 2400.0, 155.0);
  EXPECT_EQ(dil.size(), 3u);  // k in {2, 3, 4}
  EXPECT_EQ(dil.begin()->first, 2);
  EXPECT_EQ(dil.rbegin()->first, 4);
  EXPECT_EQ(ero.size(), 2u);  // k in {1, 2}
  for (auto [k, count] : dil) EXPECT_NEAR(count, dilated / 3.0, 150.0) << k;
}

TEST(Transform, ChoiceFrequenciesFollowWeights) {
  const int64_t n = 20000;
  auto x = torch::zeros({n, 1, 1, 1}, torch::kByte);
  torch::Tensor params;
  auto y = run("1:invert(1)|3:identity", x, 5, &params);
  double inverted = (y == 255).sum().item<double>();
  EXPECT_NEAR(inverted / n, 0.25, 0.015);  // sd 0.003
  EXPECT_TRUE(torch::equal((params.select(1, 0) == 0), (y.view(-1) == 255)));
  auto z = run("invert(1)|identity|background(7,8)", x, 5);
  for (int v : {0, 7, 255}) EXPECT_NEAR((z == v).sum().item<double>() / n, 1.0 / 3, 0.02) << v;
}

TEST(Transform, CompositionOrderIsRespected) {
  auto x = torch::full({1, 1, 8, 8}, 200, torch::kByte);
  // Zero fill after the background step stays 0; before it, it becomes 50.
  auto bg_then_rot = run("background(50,51)+rotate(45,45)", x);
  auto rot_then_bg = run("rotate(45,45)+background(50,51)", x);
  EXPECT_EQ(bg_then_rot[0][0][0][0].item<int>(), 0);
  EXPECT_EQ(rot_then_bg[0][0][0][0].item<int>(), 50);
  // A+B is B applied to the result of A when the draws are fixed.
  auto y = random_images(3, 1, 8, 8);
  EXPECT_TRUE(torch::equal(run("invert(1)+dilate(3,3)", y), run("dilate(3,3)", run("invert(1)", y))));
  EXPECT_FALSE(torch::equal(run("invert(1)+dilate(3,3)", y), run("dilate(3,3)+invert(1)", y)));
  // Geometric order: translate then rotate differs from rotate then translate.
  EXPECT_FALSE(torch::equal(run("translate(0.3,0)+rotate(90,90)", y), run("rotate(90,90)+translate(0.3,0)", y)));
}

TEST(Transform, SeedsAndKeysDecideEverything) {
  auto x = random_images(64, 1, 10, 10);
  const char* spec = "rotate+background+(0.5:scale(0.8,1.2)|0.5:noise(10))";
  EXPECT_TRUE(torch::equal(run(spec, x, 1), run(spec, x, 1)));
  EXPECT_FALSE(torch::equal(run(spec, x, 1), run(spec, x, 2)));
  auto t = it::parse_transform(spec);
  torch::Tensor p_all, p_a, p_b;
  auto all = t->apply(x, 9, keys_for(64), &p_all);
  // Batches of any size, in any order: same rows, same bytes.
  auto a = t->apply(x.slice(0, 40, 64), 9, keys_for(24, 40), &p_a);
  auto b = t->apply(x.slice(0, 0, 40), 9, keys_for(40), &p_b);
  EXPECT_TRUE(torch::equal(torch::cat({b, a}), all));
  EXPECT_TRUE(torch::allclose(torch::cat({p_b, p_a}), p_all, 0, 0, /*equal_nan=*/true));
  // Threads do not matter either.
  int threads = at::get_num_threads();
  at::set_num_threads(1);
  auto one = t->apply(x, 9, keys_for(64));
  at::set_num_threads(std::max(2, threads));
  auto two = t->apply(x, 9, keys_for(64));
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one, all));
  EXPECT_TRUE(torch::equal(two, all));
  // Different keys, different draws.
  EXPECT_FALSE(torch::equal(t->apply(x, 9, keys_for(64, 1000)), all));
}

TEST(Transform, EveryOperationRunsAndRecordsItsParams) {
  auto x = random_images(20, 3, 9, 7);
  auto t = it::parse_transform(
      "translate(0.1,0.2)+scale(0.8,1.2)+aspect(0.5,2)+shear(-10,10)+crop-resize(0.5,1)+hflip(0.5)+vflip(0.5)+"
      "brightness(0.5,1.5)+contrast(0.5,1.5)+gamma(0.5,2)+noise(5)+blur(0,1)+elastic(8,3)+invert(0.5)");
  EXPECT_EQ(t->param_names(),
            (std::vector<std::string>{"translate.dx", "translate.dy", "scale.factor", "aspect.ratio", "shear.angle",
                                      "crop-resize.area", "crop-resize.cx", "crop-resize.cy", "hflip.flipped",
                                      "vflip.flipped", "brightness.factor", "contrast.factor", "gamma.gamma",
                                      "blur.sigma", "invert.inverted"}));
  torch::Tensor params;
  auto y = t->apply(x, 3, keys_for(20), &params);
  EXPECT_EQ(y.sizes(), x.sizes());
  EXPECT_FALSE(params.isnan().any().item<bool>());
  auto col = [&](int c) { return params.select(1, c); };
  EXPECT_TRUE((col(0).abs() <= 0.1 * 7 + 1e-5).all().item<bool>());
  EXPECT_TRUE((col(3) >= 0.5).all().item<bool>() && (col(3) <= 2).all().item<bool>());
  EXPECT_TRUE((col(8) == 0).logical_or(col(8) == 1).all().item<bool>());
}

TEST(Transform, TensorPathsMatchTheCPUKernels) {
  // The tensor versions serve CUDA; on the CPU they must agree with the kernels.
  auto x = random_images(16, 2, 9, 12);
  const int64_t n = 16;
  auto inv = torch::empty({n, 6}, torch::kDouble);
  for (int64_t i = 0; i < n; ++i) {
    invkit::Draws r(1, i, 1);
    it::Affine m = it::then(geometric("rotate").map({-180, 180}, r, 9, 12, {}),
                            geometric("scale").map({0.7, 1.3}, r, 9, 12, {}));
    m = it::inverse(m);
    double v[6] = {m.a, m.b, m.c, m.d, m.e, m.f};
    for (int j = 0; j < 6; ++j) inv[i][j] = v[j];
  }
  for (auto interp : {it::Interp::Nearest, it::Interp::Bilinear, it::Interp::Bicubic}) {
    auto tensor = it::warp_tensor(x, inv, interp);
    auto kernel = torch::empty_like(x);
    std::vector<float> scratch(it::warp_scratch(9, 12));
    for (int64_t i = 0; i < n; ++i) {
      auto* p = inv[i].data_ptr<double>();
      it::warp_image(x[i].data_ptr<uint8_t>(), kernel[i].data_ptr<uint8_t>(), 2, 9, 12, {p[0], p[1], p[2], p[3], p[4], p[5]},
                     interp, scratch.data());
    }
    EXPECT_LE(max_abs_diff(tensor, kernel), 1) << it::interp_name(interp);
    EXPECT_LT((tensor != kernel).sum().item<int64_t>(), x.numel() / 50) << it::interp_name(interp);
  }
  auto ks = torch::tensor({1, 2, 3, 4}, torch::kLong).repeat({4});
  for (bool dilate : {true, false}) {
    auto tensor = it::morph_tensor(dilate, x, ks);
    auto kernel = x.clone();
    std::vector<uint8_t> scratch(it::morph_scratch(9, 12, 4));
    for (int64_t i = 0; i < n; ++i)
      it::morph_image(dilate, ks[i].item<int64_t>(), kernel[i].data_ptr<uint8_t>(), 2, 9, 12, scratch.data());
    EXPECT_TRUE(torch::equal(tensor, kernel)) << dilate;
  }
  for (const char* op : {"background", "brightness", "contrast", "gamma", "invert"}) {
    auto values = torch::empty({n}, torch::kDouble);
    for (int64_t i = 0; i < n; ++i) values[i] = std::string(op) == "invert" ? i % 2 : (std::string(op) == "background" ? 3 + i : 0.5 + 0.1 * i);
    auto tensor = per_image(op).tensor(x, values);
    auto kernel = x.clone();
    std::vector<float> scratch;
    for (int64_t i = 0; i < n; ++i) {
      it::Image im{kernel[i].data_ptr<uint8_t>(), nullptr, 2, 9, 12, scratch};
      per_image(op).image({}, values[i].item<double>(), invkit::Draws(0, 0, 0), im);
    }
    EXPECT_LE(max_abs_diff(tensor, kernel), 1) << op;
  }
}

TEST(Transform, VectorizedKernelMatchesThePortableOne) {
  auto x = random_images(64, 1, 28, 28, 3);
  x.masked_fill_(x < 120, 0);  // sparse, like Fashion-MNIST, so zero-skipping is exercised
  const char* spec = "rotate+scale(0.7,1.4)+translate(0.2,0.2)";
  bool simd = it::use_simd_kernels(true);
  auto fast = run(spec, x, 4);
  it::use_simd_kernels(false);
  auto portable = run(spec, x, 4);
  it::use_simd_kernels(true);
  if (!simd) GTEST_SKIP() << "no AVX2 on this CPU";
  EXPECT_LE(max_abs_diff(fast, portable), 1);
  EXPECT_LT((fast != portable).sum().item<int64_t>(), x.numel() / 100);
}

TEST(Transform, CudaAgreesWithTheCPU) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  auto x = random_images(64, 1, 28, 28, 5);
  x.masked_fill_(x < 100, 0);
  for (const char* spec : {"rotate", "background", "dilate-erode", "rotate(90,90,interp=nearest)+hflip(1)",
                           "scale(0.8,1.2)+noise(3)+invert(0.5)"}) {
    auto t = it::parse_transform(spec);
    torch::Tensor pc, pg;
    auto cpu = t->apply(x, 3, keys_for(64), &pc);
    auto gpu = t->apply(x.to(torch::kCUDA), 3, keys_for(64), &pg);
    ASSERT_TRUE(gpu.is_cuda()) << spec;
    EXPECT_LE(max_abs_diff(gpu.cpu(), cpu), 1) << spec;
    EXPECT_TRUE(torch::allclose(pc, pg, 0, 0, /*equal_nan=*/true)) << spec;
  }
}

TEST(Transform, RejectsBadInput) {
  auto t = it::parse_transform("rotate");
  EXPECT_THROW(t->apply(torch::zeros({2, 4, 4}, torch::kByte), 0, keys_for(2)), invkit::Error);
  EXPECT_THROW(t->apply(torch::zeros({2, 1, 4, 4}, torch::kFloat), 0, keys_for(2)), invkit::Error);
  EXPECT_THROW(t->apply(torch::zeros({2, 1, 4, 4}, torch::kByte), 0, keys_for(3)), invkit::Error);
  auto empty = t->apply(torch::zeros({0, 1, 4, 4}, torch::kByte), 0, keys_for(0));
  EXPECT_EQ(empty.size(0), 0);
}

// blur alone on a fresh worker's scratch space: it once got H*W floats for
// the 2*H*W it writes (heap corruption, an abort on Fashion-MNIST's test set).
// The result is the separable Gaussian with replicated edges, rounded.
TEST(Transform, BlurAloneMatchesTheSeparableGaussian) {
  at::set_num_threads(1);
  auto x = random_images(300, 1, 28, 28);
  auto y = it::parse_transform("blur(1,1)")->apply(x, 0, keys_for(300));
  std::vector<float> k(7);
  float sum = 0;
  for (int i = -3; i <= 3; ++i) sum += k[i + 3] = std::exp(-0.5f * i * i);
  auto kernel = torch::from_blob(k.data(), {7}).clone() / sum;
  auto f = torch::replication_pad2d(x.to(torch::kFloat), {3, 3, 3, 3});
  f = torch::conv2d(f, kernel.view({1, 1, 1, 7}));
  f = torch::conv2d(f, kernel.view({1, 1, 7, 1}));
  auto expected = f.round().clamp(0, 255).to(torch::kByte);
  EXPECT_LE((y.to(torch::kInt) - expected.to(torch::kInt)).abs().max().item<int>(), 1);
}
