#include "invkit/metrics/report.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "invkit/error.h"
#include "invkit/io/file.h"
#include "invkit/io/manifest.h"
#include "invkit/io/safetensors.h"
#include "testing.h"

using namespace invkit::metrics;
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

TEST(Report, Orders) {
  EXPECT_EQ(method_order({"zeta", "oracle", "drs-git", "erm", "alpha", "ldam-drw", "drs", "ldam-drw-git"}),
            (std::vector<std::string>{"erm", "drs", "drs-git", "ldam-drw", "ldam-drw-git", "oracle", "alpha", "zeta"}));
  EXPECT_EQ(transform_order({"scale", "dil", "bg", "rot", "aspect"}),
            (std::vector<std::string>{"rot", "bg", "dil", "aspect", "scale"}));
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
  EXPECT_NE(md.find("## Findings\n\n**rot**\n\n* erm: "), std::string::npos) << md;

  // Without plot links: no image.
  EXPECT_EQ(render_markdown(r, {}).find("!["), std::string::npos);
}

TEST(Report, Findings) {
  auto f = findings(two_seeds().transforms[0]);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0],
            "erm: Spearman correlation between class size and eKLD \u22120.40 \u00b1 0.14 (mean \u00b1 std over seeds "
            "0, 1); negative: by rank, the smaller classes have the higher eKLD (are less "
            "invariant); negative in 2 of 2 seeds.");
  EXPECT_EQ(f[1],
            "drs: Spearman correlation between class size and eKLD \u22120.10 \u00b1 0.28 (mean \u00b1 std over seeds "
            "0, 1); negative: by rank, the smaller classes have the higher eKLD (are less "
            "invariant); negative in 1 of 2 seeds.");
  EXPECT_EQ(f[2],
            "drs-git vs drs: tail eKLD 0.812 \u2192 0.403 (\u22120.409), few-shot accuracy 41.2% \u2192 55.0% (+13.8); "
            "seed by seed, drs-git has tail eKLD lower in 2 of 2 seeds, few-shot accuracy higher in 2 of 2 seeds.");
  // The best GIT method by tail eKLD is ldam-drw-git (0.300 < 0.403); it
  // has no test metrics and one seed.
  EXPECT_EQ(f[3],
            "oracle vs ldam-drw-git (the GIT method with the lowest tail eKLD): tail eKLD 0.300 \u2192 0.150 "
            "(\u22120.150), few-shot accuracy \u2013 \u2192 61.0%.");
}

TEST(Report, FindingsOneSeedAndNothingToCompare) {
  Results r;
  r.root = "runs";
  json ekld = {{"checkpoints",
                json::array({entry("erm.st", 0.25, 0.5), entry("drs-git.st", 0.0, 0.4), entry("oracle.st", 0.0, 0.1)})}};
  add_ekld(r, 3, "dil", ekld, "e.json", [](const std::string&) { return manifest_test(manifest(0.5, 0.5)); });
  json other = {{"checkpoints", json::array({entry("mine.st", 0.1, 0.5)})}};
  add_ekld(r, 3, "aaa", other, "o.json", [](const std::string&) { return TestMetrics{}; });
  finish(r);
  ASSERT_EQ(r.transforms.size(), 2u);
  EXPECT_EQ(r.transforms[0].name, "dil");
  auto f = findings(r.transforms[0]);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0],
            "erm: Spearman correlation between class size and eKLD 0.25 (seed 3); positive: by rank, the smaller classes "
            "have the lower eKLD.");
  EXPECT_EQ(f[1],
            "oracle vs drs-git (the only GIT method): tail eKLD 0.400 \u2192 0.100 (\u22120.300), few-shot accuracy "
            "50.0% \u2192 50.0% (0.0).");
  EXPECT_EQ(findings(r.transforms[1]), (std::vector<std::string>{"No erm, drs, GIT (X-git) or oracle runs to compare."}));
  // One seed: plain values, no ±.
  auto md = render_markdown(r, {});
  EXPECT_NE(md.find("| erm | 1 | 50.0 | 50.0 | 90.0 | \u2013 | 50.0 | 0.500 | 0.25 | 0.500 |"), std::string::npos) << md;
  EXPECT_NE(md.find("\u2020 No test metrics for mine (seed 3): train-classifier ran without `--test`"), std::string::npos)
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
