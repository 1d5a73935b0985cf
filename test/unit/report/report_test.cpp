#include "invkit/report/report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>

#include "invkit/error.h"
#include "invkit/io/file.h"
#include "invkit/io/manifest.h"
#include "invkit/io/safetensors.h"
#include "testing.h"

using namespace invkit::metrics;
using namespace invkit::report;
using invkit::testing::error_of;
using nlohmann::json;

namespace {

// An ekld.json checkpoints entry with its summary and two classes.
json entry(const std::string& ckpt, json spearman, json tail, double mean = 0.5) {
  return {{"checkpoint", ckpt},
          {"classes",
           {{{"id", 0}, {"name", "big"}, {"n_train", 500}, {"ekld", 0.2}},
            {{"id", 1}, {"name", "small"}, {"n_train", 5}, {"ekld", tail}}}},
          {"summary",
           {{"mean_ekld", mean}, {"spearman", spearman}, {"ekld_by_group", {{"many", 0.2}, {"medium", nullptr}, {"few", tail}}}}}};
}

json manifest(json accuracy, json few) {
  return {{"format", "invkit.classifier/1"},
          {"metrics",
           {{"test",
             {{"accuracy", accuracy},
              {"balanced_accuracy", 0.5},
              {"groups", {{"many", 0.9}, {"medium", nullptr}, {"few", few}, {"many_threshold", 100}, {"few_threshold", 20}}}}}}}};
}

// The paper's order, as report --transforms/--methods give it.
const ReportOrder kPaperOrder = {
    {"rot", "bg", "dil"}, {"erm", "drs", "drs-git", "ldam-drw", "ldam-drw-git", "oracle"}, "oracle"};

// Two seeds of erm, drs, drs-git, ldam-drw-git (no test metrics, one seed)
// and oracle under "rot"; chosen so that the means are round.
Results two_seeds() {
  Results r;
  r.root = "runs";
  std::map<std::string, json> manifests = {
      {"s0/erm.st", manifest(0.70, 0.30)},    {"s1/erm.st", manifest(0.72, 0.32)},
      {"s0/drs.st", manifest(0.60, 0.40)},    {"s1/drs.st", manifest(0.62, 0.424)},
      {"s0/drs-git.st", manifest(0.65, 0.55)}, {"s1/drs-git.st", manifest(0.66, 0.55)},
      {"s0/ldam-drw-git.st", {{"format", "invkit.classifier/1"}}},
      {"s0/oracle.st", manifest(0.80, 0.60)}, {"s1/oracle.st", manifest(0.81, 0.62)}};
  auto lookup = [&](const std::string& path) { return manifest_test(manifests.at(path)); };
  json settings = {{"transform", "rotate(-180,180)"}, {"per_class", 40}, {"samples", 100}, {"many", 100}, {"few", 20}};
  json s0 = {{"settings", settings},
             {"checkpoints",
              json::array({entry("s0/erm.st", -0.5, 0.9), entry("s0/drs.st", 0.1, 0.8), entry("s0/drs-git.st", -0.2, 0.4),
                           entry("s0/ldam-drw-git.st", nullptr, 0.3), entry("s0/oracle.st", 0.0, 0.1)})}};
  json s1 = {{"settings", settings},
             {"checkpoints",
              json::array({entry("s1/oracle.st", 0.0, 0.2), entry("s1/drs-git.st", -0.2, 0.406),
                           entry("s1/drs.st", -0.3, 0.824), entry("s1/erm.st", -0.3, 1.1)})}};
  add_ekld(r, 1, "rot", s1, "runs/seed-1/rot/ekld.json", lookup);
  add_ekld(r, 0, "rot", s0, "runs/seed-0/rot/ekld.json", lookup);
  finish(r, kPaperOrder);
  return r;
}

// Uniform in [-1, 1) from the top 53 bits of a draw (the same numbers with
// every standard library).
double noise(std::mt19937_64& rng) { return 2 * static_cast<double>(rng() >> 11) * 0x1.0p-53 - 1; }

// Five seeds of erm under "rot" with a planted within-class effect: 10
// classes c0..c9 whose sizes (the zipf profile max(floor(4800 i^-2), 5)) are
// shuffled per seed, eKLD = 0.5 + 0.1 c (the class's difficulty) + 0.2 s
// (the seed's) + b ln(n) + noise in ±0.05 (mt19937_64 seeded 3: a typical
// draw; stats_test.cpp has the same panel). `missing`: c3 is absent in
// seed 1. `shift_ids`: seed s gives class c the id (c + s) mod 10, so only
// the names match across seeds.
Results planted(double b, bool missing = false, bool shift_ids = false) {
  std::mt19937_64 rng(3);
  Results r;
  r.root = "planted";
  for (int s = 0; s < 5; ++s) {
    std::vector<double> sizes;
    for (int i = 1; i <= 10; ++i) sizes.push_back(std::max(std::floor(4800.0 / (i * i)), 5.0));
    shuffle(sizes, rng);
    json classes = json::array();
    for (int c = 0; c < 10; ++c) {
      const double e = noise(rng) * 0.05;
      if (missing && c == 3 && s == 1) continue;
      classes.push_back({{"id", shift_ids ? (c + s) % 10 : c},
                         {"name", "c" + std::to_string(c)},
                         {"n_train", sizes[c]},
                         {"ekld", 0.5 + 0.1 * c + 0.2 * s + b * std::log(sizes[c]) + e}});
    }
    json ekld = {{"checkpoints", json::array({json{{"checkpoint", "erm.st"}, {"classes", classes}, {"summary", json::object()}}})}};
    add_ekld(r, s, "rot", ekld, "planted/seed-" + std::to_string(s) + "/rot/ekld.json",
             [](const std::string&) { return TestMetrics{}; });
  }
  finish(r);
  return r;
}

json test_metrics(double balanced, double few) {
  return {{"accuracy", balanced},
          {"balanced_accuracy", balanced},
          {"groups", {{"many", 0.9}, {"medium", nullptr}, {"few", few}, {"many_threshold", 100}, {"few_threshold", 20}}}};
}

// Three seeds of drs, drs-git and oracle with known paired differences:
// drs-git − drs: tail eKLD −0.1, −0.2, −0.3; few-shot +1, +2, +3 points;
// balanced +5, +6, +7 points. oracle − drs-git: tail eKLD +0.10, +0.11,
// +0.12; few-shot −5, −6, −7 points; balanced equal.
Results paired() {
  const double drs_tail[] = {0.9, 0.8, 0.7}, git_tail[] = {0.8, 0.6, 0.4}, oracle_tail[] = {0.9, 0.71, 0.52};
  std::map<std::string, TestMetrics> tests;
  Results r;
  r.root = "paired";
  for (int s = 0; s < 3; ++s) {
    const std::string d = "seed-" + std::to_string(s) + "/";
    tests[d + "drs.st"] = {test_metrics(0.50, 0.30), ""};
    tests[d + "drs-git.st"] = {test_metrics(0.55 + 0.01 * s, 0.31 + 0.01 * s), ""};
    tests[d + "oracle.st"] = {test_metrics(0.55 + 0.01 * s, 0.26), ""};
    json ekld = {{"checkpoints", json::array({entry(d + "drs.st", 0, drs_tail[s]), entry(d + "drs-git.st", 0, git_tail[s]),
                                              entry(d + "oracle.st", 0, oracle_tail[s])})}};
    add_ekld(r, s, "bg", ekld, d + "ekld.json", [&](const std::string& path) { return tests.at(path); });
  }
  finish(r);
  return r;
}

}  // namespace

TEST(Report, FormatCell) {
  EXPECT_EQ(format_cell({}, 3), "\u2013");
  EXPECT_EQ(format_cell({0.5}, 3), "0.500");
  EXPECT_EQ(format_cell({0.4, 0.6}, 3), "0.500 \u00b1 0.141");  // sample std: sqrt(0.02 / 1)
  EXPECT_EQ(format_cell({0.41, 0.43}, 1, 100), "42.0 \u00b1 1.4");
  EXPECT_EQ(format_cell({0.1, 0.2, 0.6}, 2), "0.30 \u00b1 0.26");  // sqrt((0.04 + 0.01 + 0.09) / 2)
  EXPECT_EQ(format_cell({-0.5, -0.3}, 2), "\u22120.40 \u00b1 0.14");
  EXPECT_EQ(format_cell({-0.0001}, 2), "0.00");  // no "-0.00"
  EXPECT_EQ(format_cell({0.7, 0.7}, 1, 100), "70.0 \u00b1 0.0");
}

TEST(Report, OrdersComeFromTheDataAndTheOptions) {
  auto none = [](const std::string&) { return TestMetrics{}; };
  auto tree = [&] {
    Results r;
    auto list = [](std::vector<std::string> names) {
      json a = json::array();
      for (const auto& n : names) a.push_back(entry(n + ".st", 0.1, 0.1));
      return json{{"checkpoints", a}};
    };
    add_ekld(r, 0, "scale", list({"zeta", "erm", "alpha"}), "a.json", none);
    add_ekld(r, 0, "bg", list({"erm"}), "b.json", none);
    add_ekld(r, 1, "scale", list({"erm", "beta"}), "c.json", none);
    return r;
  };
  // By default: transforms by name, methods as measure-ekld listed them.
  Results r = tree();
  finish(r);
  ASSERT_EQ(r.transforms.size(), 2u);
  EXPECT_EQ(r.transforms[0].name, "bg");
  EXPECT_EQ(r.transforms[1].method_order, (std::vector<std::string>{"zeta", "erm", "alpha", "beta"}));
  EXPECT_EQ(r.transforms[1].oracle, "oracle");
  // Listed names first, the rest after them in their default order.
  Results o = tree();
  finish(o, {{"scale"}, {"beta", "erm", "absent"}, "alpha"});
  EXPECT_EQ(o.transforms[0].name, "scale");
  EXPECT_EQ(o.transforms[0].method_order, (std::vector<std::string>{"beta", "erm", "zeta", "alpha"}));
  EXPECT_EQ(o.transforms[0].oracle, "alpha");
  EXPECT_EQ(method_name("runs/seed-0/rot/drs-git.st"), "drs-git");
  EXPECT_EQ(method_name("erm.st"), "erm");
  EXPECT_EQ(method_name("model"), "model");
}

TEST(Report, AggregatesSeeds) {
  auto r = two_seeds();
  EXPECT_EQ(r.seeds, (std::vector<int64_t>{0, 1}));
  ASSERT_EQ(r.transforms.size(), 1u);
  const auto& t = r.transforms[0];
  EXPECT_EQ(t.methods.size(), 5u);
  EXPECT_EQ(t.methods.at("erm").size(), 2u);
  EXPECT_EQ(t.methods.at("ldam-drw-git").size(), 1u);
  const auto& drs0 = t.methods.at("drs").at(0);
  EXPECT_TRUE(drs0.has_test);
  EXPECT_DOUBLE_EQ(*drs0.accuracy, 0.60);
  EXPECT_DOUBLE_EQ(*drs0.few, 0.40);
  EXPECT_FALSE(drs0.medium.has_value());
  EXPECT_DOUBLE_EQ(*drs0.tail_ekld, 0.8);
  EXPECT_EQ(drs0.classes.size(), 2u);
  EXPECT_FALSE(t.methods.at("ldam-drw-git").at(0).has_test);
  EXPECT_FALSE(t.methods.at("ldam-drw-git").at(0).accuracy.has_value());
  EXPECT_NEAR(*mean_of(t.methods.at("drs"), &RunResult::tail_ekld), 0.812, 1e-12);

  auto md = render_markdown(r, {"Test title", "report (invkit test)", [](const std::string& t) {
                                  return "rep-" + t + "-ekld.svg";
                                }});
  EXPECT_EQ(md.rfind("# Test title\n", 0), 0u) << md;
  EXPECT_NE(md.find("Results in `runs`: 2 seeds (0, 1), 1 transform (rot); generated by report (invkit test)."),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("Transform `rotate(-180,180)`; 40 images \u00d7 100 draws per class; seeds 0, 1."),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("(many = more than 100, medium = 20 to 100, few = fewer than 20 training examples)"),
            std::string::npos)
      << md;
  // Rows in method order; accuracies in %, eKLD with 3 decimals, Spearman 2.
  auto erm = md.find("| erm | 2 | 71.0 \u00b1 1.4 | 50.0 \u00b1 0.0 | 90.0 \u00b1 0.0 | \u2013 | 31.0 \u00b1 1.4 | "
                     "0.500 \u00b1 0.000 | \u22120.40 \u00b1 0.14 | 1.000 \u00b1 0.141 |");
  auto drs = md.find("| drs | 2 |");
  auto drs_git = md.find("| drs-git | 2 | 65.5 \u00b1 0.7 |");
  auto ldam = md.find("| ldam-drw-git\u2020 | 1 | \u2013 | \u2013 | \u2013 | \u2013 | \u2013 | 0.500 | \u2013 | 0.300 |");
  auto oracle = md.find("| oracle | 2 |");
  ASSERT_NE(erm, std::string::npos) << md;
  ASSERT_NE(ldam, std::string::npos) << md;
  EXPECT_LT(erm, drs);
  EXPECT_LT(drs, drs_git);
  EXPECT_LT(drs_git, ldam);
  EXPECT_LT(ldam, oracle);
  EXPECT_NE(oracle, std::string::npos);
  EXPECT_NE(md.find("\u2020 No test metrics for ldam-drw-git (seed 0): train-classifier ran without `--test`; those "
                    "seeds are left out of the accuracy cells."),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("![eKLD against training class size under rot](rep-rot-ekld.svg)"), std::string::npos) << md;
  EXPECT_NE(md.find("## Findings\n\n**rot**\n\n* erm, Spearman correlation"), std::string::npos) << md;

  // Without plot links: no image.
  EXPECT_EQ(render_markdown(r, {}).find("!["), std::string::npos);
}

TEST(Report, Findings) {
  auto f = findings(two_seeds().transforms[0]);
  ASSERT_EQ(f.size(), 6u);
  // Two classes per run: every order is as extreme, p = 1.
  EXPECT_EQ(f[0],
            "erm, Spearman correlation between class size and eKLD in each run (two-sided permutation test over its "
            "classes): seed 0: \u22121.00 over 2 classes, not significant (p = 1.000); seed 1: \u22121.00 over 2 "
            "classes, not significant (p = 1.000); no run is significant on its own.");
  // Each class has the same size in both seeds: nothing to estimate.
  EXPECT_EQ(f[1],
            "erm, within class over seeds 0, 1 (2 classes seen in at least 2 seeds): not estimable (no class has a "
            "different size in two seeds).");
  EXPECT_EQ(f[2].substr(0, 4), "drs,");
  // Tail eKLD differences -0.4, -0.418: mean -0.409, s = 0.0127, t(1) =
  // 12.706, so -0.409 ± 0.1144. Few-shot: +15, +12.6 points: 13.8 ± 15.25.
  // Balanced: 0 and 0: a zero-width interval at 0, which covers 0.
  EXPECT_EQ(f[4],
            "drs-git vs drs, paired by seed (drs-git \u2212 drs, mean and 95% t interval): tail eKLD (seeds 0, 1) "
            "0.812 \u2192 0.403, \u22120.409 (95% CI \u22120.523 to \u22120.295): reproduced; few-shot accuracy "
            "(seeds 0, 1) 41.2% \u2192 55.0%, +13.8 points (95% CI \u22121.4 to 29.0): no evidence (CI covers 0); "
            "balanced accuracy (seeds 0, 1) 50.0% \u2192 50.0%, 0.0 points (95% CI 0.0 to 0.0): no evidence (CI "
            "covers 0).");
  // The best GIT method by tail eKLD is ldam-drw-git (0.300 < 0.403); it
  // has no test metrics and one seed.
  EXPECT_EQ(f[5],
            "oracle vs ldam-drw-git (the GIT method with the lowest tail eKLD), paired by seed (oracle \u2212 "
            "ldam-drw-git, mean and 95% t interval): tail eKLD (seed 0 only) 0.300 \u2192 0.100, \u22120.200, one "
            "seed: no interval; few-shot accuracy: no seed has both; balanced accuracy: no seed has both.");

  // The same numbers in the tables.
  auto md = render_markdown(two_seeds(), {});
  EXPECT_NE(md.find("| method | seed 0 | seed 1 |\n|---|---:|---:|\n| erm | \u22121.00 (p = 1.000) | \u22121.00 (p = "
                    "1.000) |\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| oracle | 1.00 (p = 1.000) | \u2013 |\n"), std::string::npos) << md;
  EXPECT_NE(md.find("| erm | 2 | 2 | \u2013 | not estimable | \u2013 | \u2013 |\n"), std::string::npos) << md;
  EXPECT_NE(md.find("| oracle | 2 | 2 | \u2013 | not estimable | \u2013 | \u2013 |\n\nNot pooled (one seed): ldam-drw-git.\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| drs-git \u2212 drs | tail eKLD | 2 | 0.812 \u2192 0.403 | \u22120.409 | \u22120.523 to "
                    "\u22120.295 | reproduced |\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| drs-git \u2212 drs | few-shot accuracy (%) | 2 | 41.2 \u2192 55.0 | +13.8 | \u22121.4 to 29.0 | "
                    "no evidence (CI covers 0) |\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| oracle \u2212 ldam-drw-git | tail eKLD | 1 | 0.300 \u2192 0.100 | \u22120.200 | one seed: no "
                    "interval | \u2013 |\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| oracle \u2212 ldam-drw-git | few-shot accuracy (%) | 0 | \u2013 | \u2013 | no seed has both | "
                    "\u2013 |\n"),
            std::string::npos)
      << md;
}

TEST(Report, FindingsOneSeedAndNothingToCompare) {
  Results r;
  r.root = "runs";
  json ekld = {{"checkpoints",
                json::array({entry("erm.st", 0.25, 0.5), entry("drs-git.st", 0.0, 0.4), entry("oracle.st", 0.0, 0.1)})}};
  add_ekld(r, 3, "dil", ekld, "e.json", [](const std::string&) { return manifest_test(manifest(0.5, 0.5)); });
  json other = {{"checkpoints", json::array({entry("mine-git.st", 0.1, 0.5)})}};
  add_ekld(r, 3, "aaa", other, "o.json", [](const std::string&) { return TestMetrics{}; });
  finish(r, {{"dil"}, {}, "oracle"});
  ASSERT_EQ(r.transforms.size(), 2u);
  EXPECT_EQ(r.transforms[0].name, "dil");
  auto f = findings(r.transforms[0]);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0],
            "erm, Spearman correlation between class size and eKLD in each run (two-sided permutation test over its "
            "classes): seed 3: \u22121.00 over 2 classes, not significant (p = 1.000).");
  EXPECT_EQ(f[1],
            "erm: one seed (3), so no pooled within-class estimate of the effect of class size: it needs at least 2 "
            "seeds (each seed gives each class another size); claims beyond the single runs above need more seeds.");
  EXPECT_EQ(f[2],
            "oracle vs drs-git (the only GIT method), paired by seed (oracle \u2212 drs-git, mean and 95% t interval): "
            "tail eKLD (seed 3 only) 0.400 \u2192 0.100, \u22120.300, one seed: no interval; few-shot accuracy (seed 3 "
            "only) 50.0% \u2192 50.0%, 0.0 points, one seed: no interval; balanced accuracy (seed 3 only) 50.0% "
            "\u2192 50.0%, 0.0 points, one seed: no interval.");
  EXPECT_EQ(findings(r.transforms[1]),
            (std::vector<std::string>{"Nothing to compare: every method is GIT (X-git) or the oracle (oracle), and "
                                      "none has a base method or the oracle beside it."}));
  // One seed: plain values, no ±; no pooled table.
  auto md = render_markdown(r, {});
  EXPECT_NE(md.find("| erm | 1 | 50.0 | 50.0 | 90.0 | \u2013 | 50.0 | 0.500 | 0.25 | 0.500 |"), std::string::npos) << md;
  EXPECT_NE(md.find("\u2020 No test metrics for mine-git (seed 3): train-classifier ran without `--test`"), std::string::npos)
      << md;
  EXPECT_NE(md.find("Within-class slope: every method here has one seed; pooling needs at least 2.\n"), std::string::npos)
      << md;

  auto plot = ekld_plot(r.transforms[0]);
  ASSERT_EQ(plot.series.size(), 3u);
  EXPECT_EQ(plot.series[0].name, "erm");
  EXPECT_EQ(plot.series[1].name, "drs-git");
  EXPECT_EQ(plot.series[0].x, (std::vector<double>{500, 5}));
  EXPECT_EQ(plot.series[0].labels[1], "small (seed 3)");
  EXPECT_TRUE(plot.log_x);
}

TEST(Report, MalformedInputs) {
  auto none = [](const std::string&) { return TestMetrics{}; };
  auto error = [&](const json& ekld, std::function<TestMetrics(const std::string&)> lookup = nullptr) {
    Results r;
    return error_of([&] { add_ekld(r, 0, "rot", ekld, "x/ekld.json", lookup ? lookup : none); });
  };
  auto list = [](json entries) { return json{{"checkpoints", entries}}; };
  EXPECT_EQ(error({{"foo", 1}}), "x/ekld.json: not measure-ekld's output: no \"checkpoints\" array");
  EXPECT_EQ(error(list(json::array())), "x/ekld.json: \"checkpoints\" is empty");
  EXPECT_EQ(error(list(json::array({json{{"checkpoint", "a.st"}}}))),
            "x/ekld.json: checkpoint a.st: no \"summary\" object (is this measure-ekld's output?)");
  EXPECT_EQ(error(list(json::array({json{{"summary", json::object()}}}))),
            "x/ekld.json: a \"checkpoints\" entry has no \"checkpoint\" path");
  EXPECT_EQ(error(list(json::array({entry("a.st", "high", 0.1)}))),
            "x/ekld.json: checkpoint a.st: summary.spearman is not a number");
  EXPECT_NE(error(list(json::array({entry("a/erm.st", 0.1, 0.1), entry("b/erm.st", 0.1, 0.1)})))
                .find("x/ekld.json: names two checkpoints of method erm"),
            std::string::npos);
  EXPECT_EQ(error(list(json::array({entry("erm.st", 0.1, 0.1)})),
                  [](const std::string&) { return manifest_test(manifest("high", 0.5)); }),
            "checkpoint erm.st (named in x/ekld.json): metrics.test.accuracy is not a number");
  // From train-classifier's output, the message names that file.
  EXPECT_EQ(error(list(json::array({entry("erm.st", 0.1, 0.1)})),
                  [](const std::string&) {
                    return stdout_test({{"test", manifest("high", 0.5)["metrics"]["test"]}}, "x/erm.json", "erm");
                  }),
            "x/erm.json: test.accuracy is not a number");
  // Classes are matched across seeds by name: a name twice is an error.
  json twice = entry("erm.st", 0.1, 0.1);
  twice["classes"][1]["name"] = "big";
  EXPECT_EQ(error(list(json::array({twice}))),
            "x/ekld.json: checkpoint erm.st: two classes are named \"big\" (classes are matched across seeds by name)");
}

TEST(Report, TestMetricsFromTrainClassifierOutput) {
  const json test = manifest(0.75, 0.25)["metrics"]["test"];
  // train-classifier's stdout: checkpoint, epochs, val, test.
  auto t = stdout_test({{"checkpoint", "runs/seed-0/rot/erm.st"}, {"best_epoch", 3}, {"test", test}}, "r/erm.json", "erm");
  EXPECT_EQ(t.test, test);
  EXPECT_EQ(t.where, "r/erm.json: test");
  EXPECT_EQ(manifest_test(manifest(0.75, 0.25)).test, test);  // the same object as the manifest's metrics.test
  EXPECT_TRUE(manifest_test(json(nullptr)).test.is_null());
  // Without --test: no test metrics, no error.
  EXPECT_TRUE(stdout_test({{"checkpoint", "erm.st"}, {"best_epoch", 3}}, "r/erm.json", "erm").test.is_null());
  EXPECT_EQ(error_of([] { stdout_test(json::array(), "r/erm.json", "erm"); }),
            "r/erm.json: not train-classifier's output (expected a JSON object with a \"test\" object)");
  EXPECT_EQ(error_of([] { stdout_test({{"test", 0.5}}, "r/erm.json", "erm"); }), "r/erm.json: \"test\" is not an object");
  EXPECT_EQ(error_of([] { stdout_test({{"checkpoint", "x/drs.st"}, {"test", json::object()}}, "r/erm.json", "erm"); }),
            "r/erm.json: train-classifier's output for checkpoint x/drs.st, expected one for method erm");
}

TEST(Report, LoadResultsFromDisk) {
  invkit::testing::TempDir dir;
  EXPECT_NE(error_of([&] { load_results(dir / "nope"); }).find("nope: no such folder; expected "), std::string::npos);
  EXPECT_NE(error_of([&] { load_results(dir.path.string()); })
                .find(": no results found; expected " + (dir / "seed-<S>/<T>/ekld.json")),
            std::string::npos);

  // A checkpoint named by its path at measure time; found beside ekld.json.
  std::filesystem::create_directories(dir / "seed-2/bg");
  std::filesystem::create_directories(dir / "notes");
  json e = {{"settings", {{"transform", "background(0,100)"}}},
            {"checkpoints", {entry("/elsewhere/erm.st", -0.5, 0.7)}}};
  const std::string text = e.dump();
  invkit::io::write_all(dir / "seed-2/bg/ekld.json", text.data(), text.size());
  EXPECT_EQ(error_of([&] { load_results(dir.path.string()); }),
            dir / "seed-2/bg/ekld.json" + " names checkpoint /elsewhere/erm.st but neither " +
                (dir / "seed-2/bg/erm.st") + " nor " + (dir / "seed-2/bg/erm.json") +
                " (train-classifier's output) exists");

  // Committed results: no checkpoint, train-classifier's output beside it.
  const std::string output = json{{"checkpoint", "/elsewhere/erm.st"}, {"test", manifest(0.5, 0.125)["metrics"]["test"]}}.dump();
  invkit::io::write_all(dir / "seed-2/bg/erm.json", output.data(), output.size());
  auto from_json = load_results(dir.path.string());
  const auto& run = from_json.transforms.at(0).methods.at("erm").at(2);
  EXPECT_TRUE(run.has_test);
  EXPECT_DOUBLE_EQ(*run.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(*run.few, 0.125);
  EXPECT_EQ(from_json.transforms[0].groups, (std::set<std::pair<int64_t, int64_t>>{{100, 20}}));
  invkit::io::write_all(dir / "seed-2/bg/erm.json", "{", 1);
  EXPECT_NE(error_of([&] { load_results(dir.path.string()); }).find(dir / "seed-2/bg/erm.json" + ": not valid JSON"),
            std::string::npos);

  // The checkpoint, when present, comes first.
  invkit::io::write_safetensors(dir / "seed-2/bg/erm.st", {{"w", torch::zeros({3})}},
                                invkit::io::metadata_with_manifest(manifest(0.75, 0.25)));
  EXPECT_EQ(invkit::io::read_manifest(dir / "seed-2/bg/erm.st"), manifest(0.75, 0.25));
  auto r = load_results(dir.path.string());
  EXPECT_EQ(r.seeds, (std::vector<int64_t>{2}));
  ASSERT_EQ(r.transforms.size(), 1u);
  EXPECT_EQ(r.transforms[0].name, "bg");
  EXPECT_DOUBLE_EQ(*r.transforms[0].methods.at("erm").at(2).few, 0.25);
  EXPECT_EQ(*r.transforms[0].specs.begin(), "background(0,100)");

  const std::string truncated = "{\"checkpoints\": [";
  invkit::io::write_all(dir / "seed-2/bg/ekld.json", truncated.data(), truncated.size());
  EXPECT_NE(error_of([&] { load_results(dir.path.string()); }).find(dir / "seed-2/bg/ekld.json" + ": not valid JSON"),
            std::string::npos);
}

TEST(Report, ReadManifestReadsTheHeader) {
  invkit::testing::TempDir dir;
  invkit::io::write_safetensors(dir / "plain.st", {{"w", torch::ones({2})}}, {});
  EXPECT_TRUE(invkit::io::read_manifest(dir / "plain.st").is_null());
  invkit::testing::write_bytes(dir / "short.st", {1, 2, 3});
  EXPECT_NE(error_of([&] { invkit::io::read_manifest(dir / "short.st"); }).find("short.st: not a valid safetensors file"),
            std::string::npos);
  invkit::testing::write_bytes(dir / "past.st", {200, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
  EXPECT_NE(error_of([&] { invkit::io::read_manifest(dir / "past.st"); }).find("runs past the end"), std::string::npos);
  EXPECT_NE(error_of([&] { invkit::io::read_manifest(dir / "none.st"); }).find("none.st: cannot open"),
            std::string::npos);
}

TEST(Report, PooledSlopeFindsAPlantedWithinClassEffect) {
  const auto r = planted(-0.2);
  const auto a = analyze(r.transforms.at(0));
  ASSERT_EQ(a.pooled.size(), 1u);
  const auto& p = a.pooled[0];
  EXPECT_EQ(p.method, "erm");
  EXPECT_EQ(p.seeds, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(p.classes, 10);
  EXPECT_EQ(p.points, 50);
  EXPECT_NEAR(p.test.slope, -0.2, 0.01);
  EXPECT_LT(p.test.lo, -0.2);  // the interval holds the planted b ...
  EXPECT_GT(p.test.hi, -0.2);
  EXPECT_LT(p.test.hi, 0);  // ... and excludes 0
  EXPECT_DOUBLE_EQ(p.test.p, 1.0 / (1 + kPermutations));
  EXPECT_EQ(p.verdict, Verdict::reproduced);

  const auto f = findings(r.transforms[0], a);
  ASSERT_EQ(f.size(), 2u);
  const std::string head =
      "erm, within class over seeds 0, 1, 2, 3, 4 (10 classes seen in at least 2 seeds): eKLD changes by \u2212";
  EXPECT_EQ(f[1].substr(0, head.size()), head) << f[1];
  EXPECT_NE(f[1].find("nats per e-fold of class size (95% CI \u22120."), std::string::npos) << f[1];
  EXPECT_NE(f[1].find(", permutation p < 0.001): reproduced: a class is less invariant when it is smaller (the "
                      "paper's finding 1)."),
            std::string::npos)
      << f[1];
  const auto md = render_markdown(r, {});
  EXPECT_NE(md.find("| method | seeds | classes | slope (nats per e-fold) | 95% CI | p | verdict |\n"), std::string::npos);
  const auto row = md.find("| erm | 5 | 10 | \u22120.2");
  ASSERT_NE(row, std::string::npos) << md;
  const std::string row_text = md.substr(row, md.find('\n', row) - row), tail = " | < 0.001 | reproduced |";
  EXPECT_EQ(row_text.substr(row_text.size() - tail.size()), tail) << row_text;

  // Per-run Spearman: p-values in range, the same on every call.
  const auto& runs = a.spearman.at("erm");
  ASSERT_EQ(runs.size(), 5u);
  for (const auto& run : runs) {
    EXPECT_EQ(run.classes, 10);
    EXPECT_FALSE(run.test.exact);
    EXPECT_GE(run.test.p, 1.0 / (1 + kPermutations));
    EXPECT_LE(run.test.p, 1.0);
    EXPECT_EQ(run.test.p, analyze(r.transforms[0]).spearman.at("erm")[&run - &runs[0]].test.p);
  }
  EXPECT_EQ(md, render_markdown(planted(-0.2), {}));  // byte-reproducible
}

TEST(Report, PooledSlopeMatchesClassesByNameInUnbalancedPanels) {
  // Ids shuffled per seed: the names carry the classes, the numbers stay.
  const auto base = analyze(planted(-0.2).transforms.at(0)).pooled.at(0);
  const auto shifted = analyze(planted(-0.2, false, true).transforms.at(0)).pooled.at(0);
  EXPECT_EQ(shifted.test.slope, base.test.slope);
  EXPECT_EQ(shifted.test.lo, base.test.lo);
  EXPECT_EQ(shifted.test.hi, base.test.hi);
  // A class missing in one seed: 49 points, still 10 classes, still found.
  const auto p = analyze(planted(-0.2, true).transforms.at(0)).pooled.at(0);
  EXPECT_EQ(p.points, 49);
  EXPECT_EQ(p.classes, 10);
  EXPECT_LT(p.test.lo, -0.2);
  EXPECT_GT(p.test.hi, -0.2);
  EXPECT_LT(p.test.hi, 0);
  EXPECT_EQ(p.verdict, Verdict::reproduced);
}

TEST(Report, PooledSlopeWithoutEffectSaysNoEvidence) {
  const auto r = planted(0);
  const auto a = analyze(r.transforms.at(0));
  const auto& p = a.pooled.at(0);
  EXPECT_LT(p.test.lo, 0);
  EXPECT_GT(p.test.hi, 0);
  EXPECT_GT(p.test.p, 0.05);
  EXPECT_EQ(p.verdict, Verdict::no_evidence);
  const auto f = findings(r.transforms[0], a);
  EXPECT_NE(f[1].find("): no evidence (CI covers 0) that its size changes a class's eKLD."), std::string::npos) << f[1];
  EXPECT_NE(render_markdown(r, {}).find(" | no evidence (CI covers 0) |\n"), std::string::npos);
}

TEST(Report, Verdicts) {
  EXPECT_EQ(verdict(-0.3, -0.1, -1), Verdict::reproduced);
  EXPECT_EQ(verdict(0.1, 0.3, -1), Verdict::opposite);
  EXPECT_EQ(verdict(0.1, 0.3, +1), Verdict::reproduced);
  EXPECT_EQ(verdict(-0.3, -0.1, +1), Verdict::opposite);
  EXPECT_EQ(verdict(-0.1, 0.3, -1), Verdict::no_evidence);
  EXPECT_EQ(verdict(0, 0.3, +1), Verdict::no_evidence);  // an end at 0 covers 0
  EXPECT_EQ(verdict(-std::numeric_limits<double>::infinity(), 0.2, -1), Verdict::no_evidence);
  EXPECT_EQ(verdict(std::nan(""), std::nan(""), -1), Verdict::no_interval);
  EXPECT_EQ(verdict_text(Verdict::reproduced), "reproduced");
  EXPECT_EQ(verdict_text(Verdict::opposite), "opposite");
  EXPECT_EQ(verdict_text(Verdict::no_evidence), "no evidence (CI covers 0)");
  EXPECT_EQ(verdict_text(Verdict::no_interval), "\u2013");
}

TEST(Report, PairedDifferencesWithTIntervals) {
  const auto r = paired();
  const auto a = analyze(r.transforms.at(0));
  ASSERT_EQ(a.comparisons.size(), 2u);
  const auto& git = a.comparisons[0];
  EXPECT_EQ(git.first, "drs-git");
  EXPECT_EQ(git.second, "drs");
  ASSERT_EQ(git.changes.size(), 3u);
  const double t2 = 4.302652729749464;  // t(0.975, 2 df)
  // Tail eKLD: differences −0.1, −0.2, −0.3: mean −0.2, s = 0.1.
  const auto& tail = git.changes[0];
  EXPECT_EQ(tail.metric, "tail eKLD");
  EXPECT_FALSE(tail.accuracy);
  EXPECT_EQ(tail.seeds, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_NEAR(tail.second, 0.8, 1e-12);
  EXPECT_NEAR(tail.first, 0.6, 1e-12);
  EXPECT_NEAR(tail.difference.mean, -0.2, 1e-12);
  EXPECT_NEAR(tail.difference.lo, -0.2 - t2 * 0.1 / std::sqrt(3.0), 1e-9);
  EXPECT_NEAR(tail.difference.hi, -0.2 + t2 * 0.1 / std::sqrt(3.0), 1e-9);
  EXPECT_EQ(tail.verdict, Verdict::no_evidence);
  // Few-shot accuracy: +1, +2, +3 points: 2 ± 4.303 / sqrt(3) = (−0.484, 4.484).
  const auto& few = git.changes[1];
  EXPECT_TRUE(few.accuracy);
  EXPECT_NEAR(few.difference.mean, 2, 1e-9);
  EXPECT_NEAR(few.difference.lo, 2 - t2 / std::sqrt(3.0), 1e-9);
  EXPECT_NEAR(few.difference.hi, 2 + t2 / std::sqrt(3.0), 1e-9);
  EXPECT_EQ(few.verdict, Verdict::no_evidence);
  // Balanced accuracy: +5, +6, +7: (3.516, 8.484), above 0: GIT is better.
  const auto& bal = git.changes[2];
  EXPECT_NEAR(bal.difference.lo, 6 - t2 / std::sqrt(3.0), 1e-9);
  EXPECT_EQ(bal.verdict, Verdict::reproduced);
  // The oracle is compared with the only GIT method; its tail eKLD is higher
  // (+0.11 ± 0.025) and its few-shot accuracy lower: the opposite of expected.
  const auto& oracle = a.comparisons[1];
  EXPECT_EQ(oracle.first, "oracle");
  EXPECT_EQ(oracle.second, "drs-git");
  EXPECT_EQ(oracle.note, "the only GIT method");
  EXPECT_NEAR(oracle.changes[0].difference.lo, 0.11 - t2 * 0.01 / std::sqrt(3.0), 1e-9);
  EXPECT_EQ(oracle.changes[0].verdict, Verdict::opposite);
  EXPECT_EQ(oracle.changes[1].verdict, Verdict::opposite);
  EXPECT_EQ(oracle.changes[2].verdict, Verdict::no_evidence);  // equal in every seed

  const auto f = findings(r.transforms[0], a);
  ASSERT_EQ(f.size(), 4u);  // drs: Spearman, pooled; then the comparisons
  EXPECT_EQ(f[2],
            "drs-git vs drs, paired by seed (drs-git \u2212 drs, mean and 95% t interval): tail eKLD (seeds 0, 1, 2) "
            "0.800 \u2192 0.600, \u22120.200 (95% CI \u22120.448 to 0.048): no evidence (CI covers 0); few-shot "
            "accuracy (seeds 0, 1, 2) 30.0% \u2192 32.0%, +2.0 points (95% CI \u22120.5 to 4.5): no evidence (CI "
            "covers 0); balanced accuracy (seeds 0, 1, 2) 50.0% \u2192 56.0%, +6.0 points (95% CI 3.5 to 8.5): "
            "reproduced.");
  EXPECT_NE(render_markdown(r, {}).find("| oracle \u2212 drs-git | tail eKLD | 3 | 0.600 \u2192 0.710 | +0.110 | "
                                        "0.085 to 0.135 | opposite |\n"),
            std::string::npos);
}

TEST(Report, ShotGroupsRedrawnFromThePerClassRows) {
  // Five classes of 4800, 1200, 300, 75 and 48 training images; the file's
  // own groups (100/20) put none in the few-shot group.
  const std::vector<double> n = {4800, 1200, 300, 75, 48}, acc = {0.9, 0.8, 0.7, 0.4, 0.2},
                            ekld = {0.1, 0.2, 0.3, 0.6, 0.8};
  json classes = json::array(), per_class = json::array();
  for (size_t i = 0; i < n.size(); ++i) {
    classes.push_back({{"id", i}, {"name", "c" + std::to_string(i)}, {"n_train", n[i]}, {"ekld", ekld[i]}});
    per_class.push_back({{"class", i}, {"train_count", n[i]}, {"support", 10}, {"accuracy", acc[i]}});
  }
  per_class.push_back({{"class", 5}, {"train_count", 10}, {"support", 0}, {"accuracy", nullptr}});  // no test images
  json test = {{"accuracy", 0.6},
               {"balanced_accuracy", 0.6},
               {"per_class", per_class},
               {"groups", {{"many", 0.8}, {"medium", 0.3}, {"few", nullptr}, {"many_threshold", 100}, {"few_threshold", 20}}}};
  json ekld_json = {{"checkpoints", json::array({json{{"checkpoint", "erm.st"},
                                                      {"classes", classes},
                                                      {"summary", {{"ekld_by_group", {{"few", nullptr}}}}}}})}};
  Results r;
  add_ekld(r, 0, "rot", ekld_json, "e.json", [&](const std::string&) { return TestMetrics{test, "erm.json: test"}; });
  finish(r);
  EXPECT_FALSE(r.transforms[0].methods["erm"][0].tail_ekld);
  set_shot_groups(r, {500, 100});
  const RunResult& run = r.transforms[0].methods["erm"][0];
  EXPECT_DOUBLE_EQ(*run.many, (0.9 + 0.8) / 2);
  EXPECT_DOUBLE_EQ(*run.medium, 0.7);
  EXPECT_DOUBLE_EQ(*run.few, (0.4 + 0.2) / 2);
  EXPECT_DOUBLE_EQ(*run.tail_ekld, (0.6 + 0.8) / 2);
  EXPECT_EQ(r.transforms[0].groups, (std::set<std::pair<int64_t, int64_t>>{{500, 100}}));
  const std::string md = render_markdown(r, {});
  EXPECT_NE(md.find("many = more than 500, medium = 100 to 500, few = fewer than 100 training examples"),
            std::string::npos);
  set_shot_groups(r, {5000, 10});  // every class medium: the other groups are empty
  EXPECT_FALSE(r.transforms[0].methods["erm"][0].many);
  EXPECT_FALSE(r.transforms[0].methods["erm"][0].tail_ekld);
}

TEST(Report, SameResultsUnderTwoNamesAreSaid) {
  Results r;
  r.root = "runs";
  auto test = [](const std::string& path) {
    return manifest_test(path.find("s1/drs") == 0 ? manifest(0.6, 0.4) : manifest(0.7, 0.3));
  };
  // Seed 0: drs is erm's checkpoint (same eKLD, same test metrics); seed 1:
  // another test accuracy, so not the same.
  for (int64_t s : {0, 1}) {
    const std::string d = "s" + std::to_string(s) + "/";
    json ekld = {{"checkpoints", json::array({entry(d + "erm.st", -0.5, 0.9), entry(d + "drs.st", -0.5, 0.9),
                                              entry(d + "oracle.st", 0.0, 0.1)})}};
    add_ekld(r, s, "dil", ekld, "e.json", test);
  }
  finish(r);
  const auto a = analyze(r.transforms[0]);
  ASSERT_EQ(a.same.size(), 1u);
  EXPECT_EQ(a.same[0].first, "erm");
  EXPECT_EQ(a.same[0].second, "drs");
  EXPECT_EQ(a.same[0].seeds, (std::vector<int64_t>{0}));
  const std::string said =
      "drs has the same results as erm in seed 0 (every per-class eKLD and test metric): one checkpoint under two "
      "names (e.g. DRS whose best validation epoch came before its balanced sampling began); there their rows and "
      "statistics agree by construction, not as evidence.";
  auto f = findings(r.transforms[0]);
  EXPECT_EQ(f.back(), said);
  const std::string md = render_markdown(r, {});
  EXPECT_NE(md.find("\n" + said + "\n\n"), std::string::npos) << md;  // under the table
  EXPECT_NE(md.find("* " + said + "\n"), std::string::npos) << md;      // and in the findings
}
