#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "invkit/checkpoint/generator.h"
#include "invkit/cli/tool.h"
#include "invkit/error.h"
#include "invkit/io/safetensors.h"
#include "invkit/models/generator_sampling.h"
#include "invkit/train/generator_loop.h"

#include "synthetic.h"

using invkit::Dataset;
using invkit::models::MunitOptions;
using invkit::train::GeneratorBatches;
using invkit::train::GeneratorTrainer;
using invkit::train::GeneratorTrainOptions;

namespace {

std::string temp_path(const std::string& name) {
  return testing::TempDir() + "invkit_gen_" + std::to_string(::getpid()) + "_" + name;
}

// 12x12 gray images: a bright 4x4 square at one of a few positions on a dark
// background (position = the nuisance), label = the square's brightness level.
Dataset squares(int64_t n) {
  Dataset d;
  d.images = torch::full({n, 1, 12, 12}, 20, torch::kUInt8);
  d.labels = torch::empty({n}, torch::kInt64);
  for (int64_t i = 0; i < n; ++i) {
    int64_t y = 2 + 3 * (i % 3), x = 2 + 3 * ((i / 3) % 3), label = i % 2;
    d.images[i].narrow(1, y, 4).narrow(2, x, 4).fill_(label ? 250 : 160);
    d.labels[i] = label;
  }
  d.class_names = {"dim", "bright"};
  return d;
}

GeneratorTrainOptions tiny_train(int64_t iters) {
  GeneratorTrainOptions t;
  t.iters = iters;
  t.batch = 2;
  t.lr = 1e-3;
  t.step_size = 3;
  t.seed = 7;
  return t;
}

std::vector<std::pair<std::string, torch::Tensor>> all_state(GeneratorTrainer& t) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : t.gen()->named_parameters()) out.emplace_back("gen." + p.key(), p.value());
  for (const auto& p : t.dis()->named_parameters()) out.emplace_back("dis." + p.key(), p.value());
  return out;
}

void expect_same_weights(GeneratorTrainer& a, GeneratorTrainer& b) {
  auto sa = all_state(a), sb = all_state(b);
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    ASSERT_EQ(sa[i].first, sb[i].first);
    EXPECT_TRUE(torch::equal(sa[i].second, sb[i].second)) << sa[i].first;
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(GeneratorTrain, LearningRateHalvesEveryStepSize) {
  GeneratorTrainer t(invkit::testing::tiny_munit(), tiny_train(8), torch::kCPU);
  std::vector<double> lrs;
  invkit::Observer observer;
  observer.record = [&](const nlohmann::json& r) { lrs.push_back(r["lr"].get<double>()); };
  invkit::train::train_generator(t, squares(8), {}, torch::kCPU, observer);
  // After iteration k (1-based) the next one runs at 1e-3 · 0.5^floor(k/3).
  EXPECT_EQ(lrs.size(), 8u);
  EXPECT_DOUBLE_EQ(lrs[1], 1e-3);
  EXPECT_DOUBLE_EQ(lrs[2], 5e-4);
  EXPECT_DOUBLE_EQ(lrs[5], 2.5e-4);
}

TEST(GeneratorTrain, UniformBatchesWalkEpochPermutations) {
  auto opt = tiny_train(1);
  opt.batch = 3;
  GeneratorBatches b(squares(9), opt, torch::kCPU);
  std::vector<int64_t> seen;
  for (int64_t it = 0; it < 3; ++it)
    for (int64_t j = 0; j < 3; ++j) seen.push_back(b.rows(it)[j].item<int64_t>());
  std::sort(seen.begin(), seen.end());
  for (int64_t i = 0; i < 9; ++i) EXPECT_EQ(seen[i], i);  // one epoch: every image once
  GeneratorBatches again(squares(9), opt, torch::kCPU);
  EXPECT_TRUE(torch::equal(again.rows(2), b.rows(2)));  // a function of (seed, iteration)
  auto x = b.batch(0);
  EXPECT_EQ(x.scalar_type(), torch::kFloat32);
  EXPECT_NEAR(x.min().item<float>(), -1 + 20 / 127.5, 1e-6);
}

TEST(GeneratorTrain, BalancedBatchesDrawClassesEvenly) {
  Dataset d;
  d.images = torch::zeros({111, 1, 4, 4}, torch::kUInt8);
  d.labels = torch::cat({torch::zeros({100}, torch::kInt64), torch::ones({10}, torch::kInt64), torch::full({1}, 3, torch::kInt64)});
  d.class_names = {"a", "b", "empty", "c"};
  auto opt = tiny_train(1);
  opt.balanced = true;
  opt.batch = 30;
  GeneratorBatches b(d, opt, torch::kCPU);
  std::vector<int64_t> counts(4, 0);
  for (int64_t it = 0; it < 100; ++it) {
    auto rows = b.rows(it);
    for (int64_t j = 0; j < 30; ++j) ++counts[d.labels[rows[j].item<int64_t>()].item<int64_t>()];
  }
  // 3000 draws over the three non-empty classes: 1000 each, sd ~26.
  EXPECT_NEAR(counts[0], 1000, 100);
  EXPECT_NEAR(counts[1], 1000, 100);
  EXPECT_EQ(counts[2], 0);
  EXPECT_NEAR(counts[3], 1000, 100);
}

TEST(GeneratorTrain, FlipMirrorsAboutHalfTheImages) {
  Dataset d;
  d.images = torch::zeros({1, 1, 4, 4}, torch::kUInt8);
  d.images[0][0][0][0] = 255;
  d.labels = torch::zeros({1}, torch::kInt64);
  d.class_names = {"a"};
  auto opt = tiny_train(1);
  opt.flip = true;
  opt.batch = 200;
  GeneratorBatches b(d, opt, torch::kCPU);
  auto x = b.batch(0);
  int64_t flipped = (x.select(1, 0).select(1, 0).select(1, 3) > 0).sum().item<int64_t>();
  int64_t kept = (x.select(1, 0).select(1, 0).select(1, 0) > 0).sum().item<int64_t>();
  EXPECT_EQ(flipped + kept, 200);
  EXPECT_NEAR(flipped, 100, 30);
}

TEST(GeneratorTrain, AFewHundredIterationsLowerTheReconstructionLoss) {
  auto opt = tiny_train(300);
  opt.step_size = 100000;
  GeneratorTrainer t(invkit::testing::tiny_munit(), opt, torch::kCPU);
  std::vector<double> recon;
  invkit::Observer observer;
  observer.record = [&](const nlohmann::json& r) {
    EXPECT_TRUE(std::isfinite(r["total"].get<double>()));
    recon.push_back(r["recon_x"].get<double>());
  };
  invkit::train::train_generator(t, squares(16), {}, torch::kCPU, observer);
  ASSERT_EQ(recon.size(), 300u);
  double first = 0, last = 0;
  for (int i = 0; i < 30; ++i) {
    first += recon[i] / 30;
    last += recon[270 + i] / 30;
  }
  EXPECT_LT(last, 0.5 * first) << "first " << first << " last " << last;
}

TEST(GeneratorTrain, CheckpointRoundTripAndResumeEquivalence) {
  const auto model = invkit::testing::tiny_munit();
  const Dataset data = squares(10);
  // Uninterrupted: 6 iterations.
  GeneratorTrainer whole(model, tiny_train(6), torch::kCPU);
  invkit::train::train_generator(whole, data, {}, torch::kCPU);
  // Interrupted after 3, saved, resumed for 3 more (the lr steps at 3 too).
  GeneratorTrainer first(model, tiny_train(3), torch::kCPU);
  invkit::train::train_generator(first, data, {}, torch::kCPU);
  const std::string path = temp_path("half.st");
  first.save(path, {{"note", "kept"}});
  auto resumed = GeneratorTrainer::resume(path, torch::kCPU);
  EXPECT_EQ(resumed.iteration(), 3);
  EXPECT_EQ(resumed.saved_manifest()["note"], "kept");
  EXPECT_EQ(resumed.saved_manifest()["format"], "invkit.generator/1");
  expect_same_weights(first, resumed);
  resumed.train_options().iters = 6;
  GeneratorBatches b3(data, resumed.train_options(), torch::kCPU);
  invkit::train::train_generator(resumed, data, {}, torch::kCPU);
  EXPECT_EQ(resumed.iteration(), 6);
  expect_same_weights(whole, resumed);
  // Without the optimizer state the run would differ: the check above can fail.
  GeneratorTrainer fresh_opt(model, tiny_train(6), torch::kCPU);
  {
    torch::NoGradGuard no_grad;
    auto src = all_state(first), dst = all_state(fresh_opt);
    for (size_t i = 0; i < src.size(); ++i) dst[i].second.copy_(src[i].second);
  }
  auto x = b3.batch(3);
  fresh_opt.step(x);
  EXPECT_FALSE(torch::equal(all_state(fresh_opt)[0].second, all_state(whole)[0].second));
  std::remove(path.c_str());
}

TEST(GeneratorTrain, CorruptCheckpointsAreNamedErrors) {
  const std::string path = temp_path("notgen.st");
  invkit::io::write_safetensors(path, {{"x", torch::zeros({1})}}, {});
  EXPECT_EQ(error_of([&] { GeneratorTrainer::resume(path, torch::kCPU); }),
            path + ": not a generator (expected manifest format \"invkit.generator/1\")");
  EXPECT_EQ(error_of([&] { invkit::checkpoint::load_generator(path, torch::kCPU); }),
            path + ": not a generator (expected manifest format \"invkit.generator/1\")");
  std::remove(path.c_str());
}

TEST(GeneratorTrain, ManifestCountsAreCheckedBeforeUse) {
  // A checkpoint's batch of -1 or 2^40 would reach LibTorch as a tensor size.
  nlohmann::json j = tiny_train(4).to_json();
  j["batch"] = -1;
  EXPECT_EQ(error_of([&] { invkit::train::GeneratorTrainOptions::from_json(j, "g.st"); }),
            "g.st: generator manifest: training options: iters 4, batch -1, step_size " +
                std::to_string(tiny_train(4).step_size) + " (each must be at least 1, batch at most 2^31)");
  j["batch"] = int64_t(1) << 40;
  EXPECT_THROW(invkit::train::GeneratorTrainOptions::from_json(j, "g.st"), invkit::Error);
  j = tiny_train(4).to_json();
  EXPECT_EQ(invkit::train::GeneratorTrainOptions::from_json(j, "g.st").iters, 4);
}

// Trains `t` on `data`, saves it to `path` and loads it back for sampling.
static invkit::models::LoadedGenerator train_save_load(GeneratorTrainer& t, const Dataset& data,
                                                       const std::string& path) {
  invkit::train::train_generator(t, data, {}, torch::kCPU);
  t.save(path);
  return invkit::checkpoint::load_generator(path, torch::kCPU);
}

TEST(GeneratorSampling, LoadAndGenerateAreSeededAndShaped) {
  GeneratorTrainer t(invkit::testing::tiny_munit(), tiny_train(4), torch::kCPU);
  const Dataset data = squares(6);
  const std::string path = temp_path("gen.st");
  auto g = train_save_load(t, data, path);
  // The loaded generator equals the trained one.
  auto trained = t.gen()->named_parameters();
  for (const auto& p : g.gen->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), trained[p.key()])) << p.key();

  auto x = data.images;
  auto a = invkit::models::generate(g, x, 11);
  EXPECT_EQ(a.scalar_type(), torch::kUInt8);
  EXPECT_EQ(a.sizes(), x.sizes());
  EXPECT_EQ(a.device(), x.device());
  EXPECT_FALSE(a.requires_grad());
  EXPECT_TRUE(torch::equal(a, invkit::models::generate(g, x, 11)));    // same seed, same bytes
  EXPECT_FALSE(torch::equal(a, invkit::models::generate(g, x, 12)));   // another seed, other styles
  // Row i depends on (seed, key i) only: a slice with its keys gives the same rows.
  auto part = invkit::models::generate(g, x.narrow(0, 2, 3), 11, torch::arange(2, 5, torch::kInt64));
  EXPECT_LE((part.to(torch::kInt32) - a.narrow(0, 2, 3).to(torch::kInt32)).abs().max().item<int>(), 1);
  // Float input in [-1, 1] is the same as uint8 input.
  auto f = invkit::models::generate(g, x.to(torch::kFloat32) / 127.5 - 1, 11);
  EXPECT_LE((f.to(torch::kInt32) - a.to(torch::kInt32)).abs().max().item<int>(), 1);
  // The style codes are standard normal draws.
  auto s = invkit::models::style_codes(2, 11, torch::arange(4000, torch::kInt64));
  EXPECT_NEAR(s.mean().item<double>(), 0.0, 0.05);
  EXPECT_NEAR(s.std().item<double>(), 1.0, 0.05);
  // The style temperature scales them: N(0, t^2 I); t = 1 leaves them as they are.
  EXPECT_TRUE(torch::equal(invkit::models::style_codes(2, 11, torch::arange(4000, torch::kInt64), 1.0), s));
  EXPECT_TRUE(torch::allclose(invkit::models::style_codes(2, 11, torch::arange(4000, torch::kInt64), 0.5), s * 0.5));
  EXPECT_THROW(invkit::models::style_codes(2, 11, torch::arange(2, torch::kInt64), -1.0), invkit::UsageError);
  // t = 0: every draw of one content is the same image, the style-free decoding.
  auto cold = g;
  cold.style_temperature = 0.0;
  auto one = x.narrow(0, 0, 1).expand({5, -1, -1, -1}).contiguous();
  auto zero = invkit::models::generate(cold, one, 11);
  for (int64_t i = 1; i < 5; ++i) EXPECT_TRUE(torch::equal(zero[i], zero[0])) << i;
  EXPECT_TRUE(torch::equal(zero, invkit::models::generate(cold, one, 12)));  // no seed changes it
  EXPECT_FALSE(torch::equal(invkit::models::generate(g, one, 11)[0], invkit::models::generate(g, one, 11)[1]));

  EXPECT_EQ(error_of([&] { invkit::models::generate(g, torch::zeros({2, 3, 12, 12}, torch::kUInt8), 1); }),
            path + ": the generator takes images [N, 1, 12, 12], got [2, 3, 12, 12]");
  std::remove(path.c_str());
}

// bf16 sampling runs under autocast: close to fp32 (a few grey levels), not
// the same bytes, and the autocast state is as it was afterwards.
TEST(GeneratorSampling, BFloat16IsCloseToFloat32AndLeavesAutocastOff) {
  GeneratorTrainer t(invkit::testing::tiny_munit(), tiny_train(4), torch::kCPU);
  const Dataset data = squares(6);
  const std::string path = temp_path("gen-bf16.st");
  auto g = train_save_load(t, data, path);
  std::remove(path.c_str());
  auto x = data.images.repeat({8, 1, 1, 1});
  auto exact = invkit::models::generate(g, x, 3).to(torch::kInt32);
  auto half = g;
  half.precision = invkit::models::Precision::BFloat16;
  auto fast = invkit::models::generate(half, x, 3);
  EXPECT_EQ(fast.scalar_type(), torch::kUInt8);
  EXPECT_FALSE(at::autocast::is_cpu_enabled());
  auto diff = (fast.to(torch::kInt32) - exact).abs().to(torch::kFloat32);
  EXPECT_GT(diff.max().item<float>(), 0.0f);   // bfloat16 did run
  EXPECT_LT(diff.mean().item<float>(), 3.0f);  // and stays close: mean within 3 of 255 grey levels
  EXPECT_TRUE(torch::equal(fast, invkit::models::generate(half, x, 3)));  // still deterministic

  EXPECT_EQ(invkit::models::parse_precision("bf16"), invkit::models::Precision::BFloat16);
  EXPECT_EQ(invkit::models::parse_precision("fp32"), invkit::models::Precision::Float32);
  EXPECT_STREQ(invkit::models::precision_name(invkit::models::Precision::BFloat16), "bf16");
  EXPECT_EQ(error_of([] { invkit::models::parse_precision("fp16"); }), "gen_precision fp16: expected fp32 or bf16");
}

TEST(GeneratorSampling, GridHasARowPerInput) {
  GeneratorTrainer t(invkit::testing::tiny_munit(), tiny_train(1), torch::kCPU);
  auto grid = invkit::train::sample_grid(t.gen(), squares(3).images, torch::randn({4, 2}));
  // 3 rows of 2 + 4 cells of 12 px, 2 px of padding around each.
  EXPECT_EQ(grid.scalar_type(), torch::kUInt8);
  EXPECT_EQ(grid.size(0), 1);
  EXPECT_EQ(grid.size(1), 2 + 3 * (12 + 2));
  EXPECT_EQ(grid.size(2), 2 + 6 * (12 + 2));
  // The first cell is the input itself.
  EXPECT_TRUE(torch::equal(grid[0].narrow(0, 2, 12).narrow(1, 2, 12), squares(3).images[0][0]));
}

// Not a test: the C++ side of scripts/bench-generator, run with
// --gtest_also_run_disabled_tests. INVKIT_BENCH_SHAPE=C,H,W (default 1,28,28),
// INVKIT_BENCH_WHAT=train1|train32|sample|sample_bf16 (one figure: a warm-up, then timed
// work), INVKIT_BENCH_THREADS (default all cores). Prints one JSON line.
TEST(GeneratorBench, DISABLED_Speed) {
  int64_t c = 1, h = 28, w = 28;
  if (const char* s = std::getenv("INVKIT_BENCH_SHAPE")) std::sscanf(s, "%ld,%ld,%ld", &c, &h, &w);
  const std::string what = std::getenv("INVKIT_BENCH_WHAT") ? std::getenv("INVKIT_BENCH_WHAT") : "train1";
  const char* threads = std::getenv("INVKIT_BENCH_THREADS");
  invkit::cli::set_threads(threads ? std::atoi(threads) : 0);
  MunitOptions o;
  o.channels = c;
  o.height = h;
  o.width = w;
  auto clock = [] { return std::chrono::steady_clock::now(); };
  auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  Dataset data;
  data.images = torch::randint(0, 256, {256, c, h, w}, torch::kInt64).to(torch::kUInt8);
  data.labels = torch::zeros({256}, torch::kInt64);
  data.class_names = {"0"};
  double rate = 0;
  int64_t batch = 128;
  if (what == "train1" || what == "train32") {
    batch = what == "train1" ? 1 : 32;
    const int64_t iters = batch == 1 ? 3 : 1;
    GeneratorTrainOptions t;
    t.batch = batch;
    t.iters = 1000000;
    GeneratorTrainer trainer(o, t, torch::kCPU);
    GeneratorBatches batches(data, t, torch::kCPU);
    trainer.step(batches.batch(0));  // warm-up
    auto start = clock();
    for (int64_t i = 0; i < iters; ++i) trainer.step(batches.batch(trainer.iteration()));
    rate = iters / secs(start, clock());
  } else {
    GeneratorTrainer trainer(o, GeneratorTrainOptions{}, torch::kCPU);
    const std::string path = temp_path("bench.st");
    trainer.save(path);
    auto g = invkit::checkpoint::load_generator(path, torch::kCPU);
    std::remove(path.c_str());
    if (what == "sample_bf16") g.precision = invkit::models::Precision::BFloat16;
    auto x = data.images.narrow(0, 0, 128);
    invkit::models::generate(g, x, 0);  // warm-up
    auto start = clock();
    invkit::models::generate(g, x, 1);
    rate = 128 / secs(start, clock());
  }
  std::printf("{\"side\": \"invkit\", \"what\": \"%s\", \"batch\": %ld, \"per_s\": %.4f, \"threads\": %d}\n",
              what.c_str(), static_cast<long>(batch), rate, torch::get_num_threads());
}
