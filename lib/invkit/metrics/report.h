// The results report: a tree of experiment runs (RUNS/seed-<S>/<T>/ekld.json
// from measure-ekld, with the measured checkpoints beside it) gathered into
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
  bool has_test = false;   // its manifest holds metrics.test
  // Test accuracies (fractions) from metrics.test; many/medium/few are the
  // mean per-class accuracy of each shot group.
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

// One method's numbers from its entry in ekld.json's "checkpoints" and its
// checkpoint's manifest (null: none). `source` names ekld.json in errors.
RunResult parse_run(const nlohmann::json& entry, const nlohmann::json& manifest, const std::string& source);

// Adds one ekld.json (parsed) of seed `seed` and transform `transform`;
// `manifest(path)` gives the manifest of a checkpoint path as written in
// ekld.json. Errors name `source`.
void add_ekld(Results& results, int64_t seed, const std::string& transform, const nlohmann::json& ekld,
              const std::string& source, const std::function<nlohmann::json(const std::string&)>& manifest);

// Sorts seeds and transforms into report order (after the add_ekld calls).
void finish(Results& results);

// Reads RUNS/seed-<S>/<T>/ekld.json and the checkpoint manifests beside
// them (headers only). Errors: RUNS missing or without results, a
// malformed ekld.json, a checkpoint it names that is missing.
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
