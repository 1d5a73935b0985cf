// The results report: a tree of experiment runs (RUNS/seed-<S>/<T>/ekld.json
// from measure-ekld, with the measured checkpoints, or train-classifier's
// output METHOD.json, beside it) gathered into
// one Markdown document with a table per transform, per-transform eKLD plots
// and findings computed from the numbers. Reading the tree is
// load_results(); everything after it works on the gathered numbers.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "invkit/metrics/svg_plot.h"

namespace invkit::metrics {

// One method (checkpoint) in one seed and transform.
struct RunResult {
  std::string checkpoint;  // where it was read from, for messages
  bool has_test = false;   // test metrics were found (TestMetrics::test)
  // Test accuracies (fractions) from the test metrics; many/medium/few are
  // the mean per-class accuracy of each shot group.
  std::optional<double> accuracy, balanced_accuracy, many, medium, few;
  // measure-ekld's summary; tail = ekld_by_group.few.
  std::optional<double> mean_ekld, spearman, tail_ekld;
  struct Point {
    double n_train = 0, ekld = 0;
    std::string name;
  };
  std::vector<Point> classes;  // classes with an eKLD, for the plot
};

// Everything measured under one transform: method -> seed -> result.
struct TransformResults {
  std::string name;                  // the folder name T
  std::set<std::string> specs;       // settings.transform (or "generator G") seen
  std::set<std::string> protocols;   // "P images × S draws per class" seen
  std::set<std::pair<int64_t, int64_t>> groups;  // (many, few) thresholds seen
  std::map<std::string, std::map<int64_t, RunResult>> methods;
};

struct Results {
  std::string root;                            // RUNS as given
  std::vector<int64_t> seeds;                  // ascending
  std::vector<TransformResults> transforms;    // in report order
};

// The method name of a checkpoint path: its file name without ".st".
std::string method_name(const std::string& checkpoint_path);

// Report orders: rot, bg, dil, then the rest alphabetically; erm, drs,
// drs-git, ldam-drw, ldam-drw-git, oracle, then the rest alphabetically.
std::vector<std::string> transform_order(std::vector<std::string> names);
std::vector<std::string> method_order(std::vector<std::string> names);

// A checkpoint's test metrics as train-classifier --test wrote them: the
// object with accuracy, balanced_accuracy, groups {many, medium, few,
// many_threshold, few_threshold}, ... The checkpoint's manifest holds it as
// metrics.test; train-classifier's stdout JSON (METHOD.json in a results
// tree) holds the same object as "test".
struct TestMetrics {
  nlohmann::json test;  // that object; null: none (train-classifier ran without --test)
  std::string where;    // names it in errors, e.g. "runs/seed-0/rot/erm.json: test"; empty:
                        // "checkpoint P (named in SOURCE): metrics.test"
};

// The test metrics of a checkpoint manifest (metrics.test; none when absent).
TestMetrics manifest_test(const nlohmann::json& manifest);

// The test metrics of train-classifier's stdout JSON read from `file` (its
// "test" object; none when absent). Errors, naming `file`: not a JSON
// object, "test" not an object, or "checkpoint" naming another method than
// `method` (the output of another run).
TestMetrics stdout_test(const nlohmann::json& output, const std::string& file, const std::string& method);

// One method's numbers from its entry in ekld.json's "checkpoints" and its
// test metrics. `source` names ekld.json in errors.
RunResult parse_run(const nlohmann::json& entry, const TestMetrics& test, const std::string& source);

// Adds one ekld.json (parsed) of seed `seed` and transform `transform`;
// `test(path)` gives the test metrics of a checkpoint path as written in
// ekld.json. Errors name `source`.
void add_ekld(Results& results, int64_t seed, const std::string& transform, const nlohmann::json& ekld,
              const std::string& source, const std::function<TestMetrics(const std::string&)>& test);

// Sorts seeds and transforms into report order (after the add_ekld calls).
void finish(Results& results);

// Reads RUNS/seed-<S>/<T>/ekld.json and, for each checkpoint it names, the
// test metrics beside it: the manifest of <T>/METHOD.st (header only) or,
// when that file is absent (committed results hold no checkpoints),
// train-classifier's stdout <T>/METHOD.json. Errors: RUNS missing or
// without results, a malformed ekld.json or METHOD.json, a checkpoint with
// neither file.
Results load_results(const std::string& runs);

// A table cell: "–" for no values, the value for one, "mean ± std" (sample
// standard deviation) for more; values multiplied by `scale` and printed
// with `decimals` decimals, negatives with a minus sign (−).
std::string format_cell(const std::vector<double>& values, int decimals, double scale = 1);

// Mean of the values a field has over the seeds of one method.
std::optional<double> mean_of(const std::map<int64_t, RunResult>& runs,
                              std::optional<double> RunResult::*field);

// The findings sentences for one transform (Markdown, one per bullet).
std::vector<std::string> findings(const TransformResults& t);

// The eKLD vs training class size scatter of one transform: a series per
// method, the points of every seed.
ScatterPlot ekld_plot(const TransformResults& t);

struct ReportOptions {
  std::string title = "invkit results";
  std::string generated_by;  // e.g. "report (invkit 0.1.0)"
  // Relative link to the plot of a transform; empty: no plots.
  std::function<std::string(const std::string& transform)> plot_link;
};

std::string render_markdown(const Results& results, const ReportOptions& options);

}  // namespace invkit::metrics
