// The results report: a tree of experiment runs (RUNS/seed-<S>/<T>/ekld.json
// from measure-ekld, with the measured checkpoints, or train-classifier's
// output METHOD.json, beside it) gathered into one Markdown document with a
// table per transform, per-transform eKLD plots, the statistics of
// analyze() and findings worded by what they support. Reading the tree is
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

#include "invkit/metrics/accuracy.h"
#include "invkit/metrics/ekld_result.h"
#include "invkit/metrics/stats.h"
#include "invkit/report/svg_plot.h"

namespace invkit::report {

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
    std::string name;  // identifies the class across seeds ("class <id>" without a name)
  };
  std::vector<Point> classes;  // classes with an eKLD (plot, Spearman test, pooled slope)
  // Per-class test accuracy with the class's training count (the test
  // metrics' per_class rows that have both), for set_shot_groups.
  struct ClassAccuracy {
    double n_train = 0, accuracy = 0;
  };
  std::vector<ClassAccuracy> class_accuracy;
};

// Everything measured under one transform: method -> seed -> result.
struct TransformResults {
  std::string name;                  // the folder name T
  std::set<std::string> specs;       // settings.transform (or "generator G") seen
  std::set<std::string> protocols;   // "P images × S draws per class" seen
  std::set<std::pair<int64_t, int64_t>> groups;  // (many, few) thresholds seen
  std::map<std::string, std::map<int64_t, RunResult>> methods;
  std::vector<std::string> method_order;  // the methods in report order (finish)
  std::string oracle = "oracle";          // the method trained on the true transform (ReportOrder)
};

struct Results {
  std::string root;                            // RUNS as given
  std::vector<int64_t> seeds;                  // ascending
  std::vector<TransformResults> transforms;    // in report order
};

// The method name of a checkpoint path: its file name without ".st".
std::string method_name(const std::string& checkpoint_path);

// Whether a method is GIT on top of another: its name is X-git (X not empty).
bool is_git(const std::string& method);

// How the report orders what it found, and which method is the oracle
// (report --transforms, --methods, --oracle). Names listed come first, in
// the order given; the rest follow, transforms by folder name, methods in
// the order they first appear in the ekld.json files read (measure-ekld's
// order of checkpoints). A listed name no result has is ignored.
struct ReportOrder {
  std::vector<std::string> transforms;
  std::vector<std::string> methods;
  std::string oracle = "oracle";  // compared with the best GIT method
};

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

// One method's numbers from its entry in ekld.json and its test metrics.
// `source` names ekld.json in errors; a class name that appears twice is an
// error (classes are matched across seeds by name).
RunResult parse_run(const metrics::EkldCheckpoint& entry, const TestMetrics& test, const std::string& source);

// Adds one ekld.json (parsed; read by metrics::ekld_result_from_json) of seed `seed` and transform `transform`;
// `test(path)` gives the test metrics of a checkpoint path as written in
// ekld.json. Errors name `source`.
void add_ekld(Results& results, int64_t seed, const std::string& transform, const nlohmann::json& ekld,
              const std::string& source, const std::function<TestMetrics(const std::string&)>& test);

// Sorts seeds, transforms and methods into report order and names the
// oracle (after the add_ekld calls).
void finish(Results& results, const ReportOrder& order = {});

// Redraws the shot groups with other thresholds (report --many/--few): each
// run's many/medium/few accuracy becomes the mean per-class test accuracy of
// its classes in each group, and its tail eKLD the mean eKLD of its few-shot
// classes, from the per-class rows both files hold (shot_group in
// metrics/accuracy.h); a group without classes is none. For a set whose
// smallest class is above the default few-shot threshold (20), as
// Fashion-MNIST-LT's 48.
void set_shot_groups(Results& results, metrics::ShotThresholds thresholds);

// Reads RUNS/seed-<S>/<T>/ekld.json and, for each checkpoint it names, the
// test metrics beside it: the manifest of <T>/METHOD.st (header only) or,
// when that file is absent (committed results hold no checkpoints),
// train-classifier's stdout <T>/METHOD.json. Errors: RUNS missing or
// without results, a malformed ekld.json or METHOD.json, a checkpoint with
// neither file.
Results load_results(const std::string& runs, const ReportOrder& order = {});

// A table cell: "–" for no values, the value for one, "mean ± std" (sample
// standard deviation) for more; values multiplied by `scale` and printed
// with `decimals` decimals, negatives with a minus sign (−).
std::string format_cell(const std::vector<double>& values, int decimals, double scale = 1);

// Mean of the values a field has over the seeds of one method.
std::optional<double> mean_of(const std::map<int64_t, RunResult>& runs,
                              std::optional<double> RunResult::*field);

// --- The statistics (the arithmetic is in stats.h; docs/report.md says why
// each method was chosen) ---

// Permutations drawn by every permutation test of the report, and the seed
// of their mt19937_64 (the paper's arXiv number): fixed, so a report is the
// same bytes every time it is made from the same results.
constexpr int64_t kPermutations = 10000;
constexpr uint64_t kStatsSeed = 220309739;

// What a 95% interval of a difference or slope says, given the direction the
// paper found (expected_sign -1: negative): "reproduced" when it excludes 0
// on that side, "opposite" when it excludes 0 on the other, "no evidence
// (CI covers 0)" when it covers 0 (ends included); no_interval when there is
// none (one seed, or not estimable: NaN ends).
enum class Verdict { reproduced, opposite, no_evidence, no_interval };
Verdict verdict(double lo, double hi, int expected_sign);
std::string verdict_text(Verdict v);  // the words above; "–" for no_interval

// Spearman(n_train, eKLD) over one run's classes with its two-sided
// permutation p-value (spearman_test, kPermutations, kStatsSeed). With fewer
// than 2 classes the statistic is summary.spearman (or NaN) and p is NaN.
struct RunSpearman {
  int64_t seed = 0;
  int64_t classes = 0;
  metrics::PermutationTest test;
};

// The within-class effect of class size on eKLD in one method, pooled over
// its seeds: the slope of eKLD (nats) on ln(n_train) with class (by name)
// and seed fixed effects, i.e. nats per e-fold of class size, with its
// within-seed permutation p-value and 95% interval (two_way_slope_test,
// kPermutations, kStatsSeed). Classes with n_train = 0 are left out.
// Negative: a class is less invariant when it is smaller (finding 1).
struct PooledSlope {
  std::string method;
  std::vector<int64_t> seeds;  // seeds with classes
  int64_t classes = 0;         // classes seen in at least 2 of them (the ones that carry the estimate)
  int64_t points = 0;          // (class, seed) pairs used
  metrics::SlopeTest test;              // test.slope NaN: not estimable (no class changes size)
  Verdict verdict = Verdict::no_interval;  // expected sign -1
};

// One paired difference (first method minus second) over the seeds both
// have the value in, in display units: eKLD in nats, accuracies in
// percentage points; mean and 95% t interval (t_interval).
struct PairedChange {
  std::string metric;           // "tail eKLD", "few-shot accuracy", "balanced accuracy"
  bool accuracy = false;        // an accuracy: levels in %, differences in percentage points
  std::vector<int64_t> seeds;   // the shared seeds
  double first = 0, second = 0;  // the two methods' means over those seeds (display units)
  metrics::MeanInterval difference;      // of first - second, per seed
  Verdict verdict = Verdict::no_interval;  // the paper's direction: eKLD lower, accuracies higher
};

// `first` against `second`: X-git against X, or the oracle against the best
// GIT method (the lowest mean tail eKLD; `note` says how it was chosen).
struct Comparison {
  std::string first, second, note;
  std::vector<PairedChange> changes;  // tail eKLD, few-shot accuracy, balanced accuracy
};

// Two methods with the same results in some seeds: every per-class eKLD and
// every test metric equal, i.e. one checkpoint under two names (DRS whose best
// validation epoch came before its balanced sampling began is ERM's run up to
// then). Their statistics agree by construction there, not by evidence.
struct SameResults {
  std::string first, second;   // in method order
  std::vector<int64_t> seeds;  // where they are the same
};

struct TransformAnalysis {
  std::map<std::string, std::vector<RunSpearman>> spearman;  // method -> its runs, by seed
  std::vector<PooledSlope> pooled;       // methods with at least 2 seeds, in method order
  std::vector<Comparison> comparisons;   // X-git vs X in method order, then oracle vs best GIT
  std::vector<SameResults> same;         // pairs of methods, in method order
};

// Every statistic of one transform (deterministic: kStatsSeed).
TransformAnalysis analyze(const TransformResults& t);

// The findings sentences for one transform (Markdown, one per bullet): per
// run Spearman of each method that is neither GIT nor the oracle, its pooled
// slope (or that one seed cannot give one), and every comparison, each
// worded by its p-value or interval.
std::vector<std::string> findings(const TransformResults& t, const TransformAnalysis& a);
std::vector<std::string> findings(const TransformResults& t);  // analyze(t) first

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

}  // namespace invkit::report
