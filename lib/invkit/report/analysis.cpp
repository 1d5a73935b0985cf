// The report's statistics (analyze() and the verdicts); the words and
// tables that show them are in report.cpp, the arithmetic in stats.cpp.
#include <cmath>
#include <limits>
#include <set>

#include "invkit/report/report.h"

namespace invkit::report {

using namespace invkit::metrics;  // statistics and shot groups

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

RunSpearman run_spearman(int64_t seed, const RunResult& r) {
  RunSpearman s;
  s.seed = seed;
  s.classes = static_cast<int64_t>(r.classes.size());
  if (r.classes.size() < 2) {
    s.test.statistic = r.spearman ? *r.spearman : kNaN;
    s.test.p = kNaN;
    return s;
  }
  std::vector<double> n, e;
  for (const auto& c : r.classes) {
    n.push_back(c.n_train);
    e.push_back(c.ekld);
  }
  s.test = spearman_test(n, e, kPermutations, kStatsSeed);
  return s;
}

PooledSlope pooled_slope(const std::string& method, const std::map<int64_t, RunResult>& runs) {
  PooledSlope p;
  p.method = method;
  std::vector<double> x, y;
  std::vector<int64_t> unit, period;
  std::map<std::string, int64_t> class_id;  // class name -> unit
  std::map<int64_t, std::set<int64_t>> seeds_of;  // unit -> its seeds
  for (const auto& [seed, r] : runs) {
    bool any = false;
    for (const auto& c : r.classes) {
      if (!(c.n_train > 0)) continue;  // ln(0): no place on the size axis
      const int64_t u = class_id.emplace(c.name, static_cast<int64_t>(class_id.size())).first->second;
      x.push_back(std::log(c.n_train));
      y.push_back(c.ekld);
      unit.push_back(u);
      period.push_back(seed);
      seeds_of[u].insert(seed);
      any = true;
    }
    if (any) p.seeds.push_back(seed);
  }
  for (const auto& [u, seeds] : seeds_of) p.classes += seeds.size() >= 2;
  p.points = static_cast<int64_t>(x.size());
  if (p.seeds.size() < 2) {
    p.test.slope = p.test.p = p.test.lo = p.test.hi = kNaN;
    return p;
  }
  p.test = two_way_slope_test(x, y, unit, period, kPermutations, kStatsSeed);
  p.verdict = verdict(p.test.lo, p.test.hi, -1);
  return p;
}

struct MetricSpec {
  const char* name;
  std::optional<double> RunResult::*field;
  bool accuracy;      // a fraction, shown in % (eKLD: nats)
  int expected_sign;  // the paper's direction for "first" (GIT, oracle) minus "second"
};

const MetricSpec kMetrics[] = {{"tail eKLD", &RunResult::tail_ekld, false, -1},
                               {"few-shot accuracy", &RunResult::few, true, +1},
                               {"balanced accuracy", &RunResult::balanced_accuracy, true, +1}};

PairedChange paired_change(const MetricSpec& m, const std::map<int64_t, RunResult>& first,
                           const std::map<int64_t, RunResult>& second) {
  PairedChange c;
  c.metric = m.name;
  c.accuracy = m.accuracy;
  const double scale = m.accuracy ? 100 : 1;
  std::vector<double> diffs;
  double sum_first = 0, sum_second = 0;
  for (const auto& [seed, a] : first) {
    auto it = second.find(seed);
    if (it == second.end() || !(a.*m.field) || !(it->second.*m.field)) continue;
    const double va = scale * *(a.*m.field), vb = scale * *(it->second.*m.field);
    c.seeds.push_back(seed);
    diffs.push_back(va - vb);
    sum_first += va;
    sum_second += vb;
  }
  c.first = diffs.empty() ? kNaN : sum_first / diffs.size();
  c.second = diffs.empty() ? kNaN : sum_second / diffs.size();
  c.difference = t_interval(diffs);
  c.verdict = verdict(c.difference.lo, c.difference.hi, m.expected_sign);
  return c;
}

Comparison compare(const TransformResults& t, const std::string& first, const std::string& second,
                   const std::string& note) {
  Comparison c{first, second, note, {}};
  for (const auto& m : kMetrics) c.changes.push_back(paired_change(m, t.methods.at(first), t.methods.at(second)));
  return c;
}

// The GIT method the oracle is compared with: the lowest mean tail eKLD;
// without eKLD, the highest few-shot accuracy; else the first. Returns the
// method and how it was chosen.
std::pair<std::string, std::string> best_git(const TransformResults& t, const std::vector<std::string>& git) {
  if (git.size() == 1) return {git.front(), "the only GIT method"};
  std::string best = git.front();
  std::optional<double> best_value;
  for (const auto& g : git) {
    auto v = mean_of(t.methods.at(g), &RunResult::tail_ekld);
    if (v && (!best_value || *v < *best_value)) best_value = v, best = g;
  }
  if (best_value) return {best, "the GIT method with the lowest tail eKLD"};
  for (const auto& g : git) {
    auto v = mean_of(t.methods.at(g), &RunResult::few);
    if (v && (!best_value || *v > *best_value)) best_value = v, best = g;
  }
  if (best_value) return {best, "the GIT method with the highest few-shot accuracy"};
  return {git.front(), "the first GIT method"};
}

// Whether two runs are one checkpoint: the same classes with the same eKLD,
// and the same test metrics (or none in both).
bool same_run(const RunResult& a, const RunResult& b) {
  if (a.classes.empty() || a.classes.size() != b.classes.size()) return false;
  for (size_t i = 0; i < a.classes.size(); ++i)
    if (a.classes[i].name != b.classes[i].name || a.classes[i].n_train != b.classes[i].n_train ||
        a.classes[i].ekld != b.classes[i].ekld)
      return false;
  return a.has_test == b.has_test && a.accuracy == b.accuracy && a.balanced_accuracy == b.balanced_accuracy;
}

}  // namespace

bool is_git(const std::string& method) {
  const std::string suffix = "-git";
  return method.size() > suffix.size() && method.compare(method.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Verdict verdict(double lo, double hi, int expected_sign) {
  if (std::isnan(lo) || std::isnan(hi)) return Verdict::no_interval;
  if (hi < 0) return expected_sign < 0 ? Verdict::reproduced : Verdict::opposite;
  if (lo > 0) return expected_sign > 0 ? Verdict::reproduced : Verdict::opposite;
  return Verdict::no_evidence;
}

std::string verdict_text(Verdict v) {
  switch (v) {
    case Verdict::reproduced: return "reproduced";
    case Verdict::opposite: return "opposite";
    case Verdict::no_evidence: return "no evidence (CI covers 0)";
    case Verdict::no_interval: break;
  }
  return "\u2013";
}

TransformAnalysis analyze(const TransformResults& t) {
  TransformAnalysis a;
  const std::vector<std::string>& names = t.method_order;
  for (const auto& name : names) {
    const auto& runs = t.methods.at(name);
    for (const auto& [seed, r] : runs) a.spearman[name].push_back(run_spearman(seed, r));
    if (runs.size() >= 2) a.pooled.push_back(pooled_slope(name, runs));
  }
  for (size_t i = 0; i < names.size(); ++i)
    for (size_t j = i + 1; j < names.size(); ++j) {
      SameResults same{names[i], names[j], {}};
      for (const auto& [seed, r] : t.methods.at(names[i])) {
        const auto& other = t.methods.at(names[j]);
        auto it = other.find(seed);
        if (it != other.end() && same_run(r, it->second)) same.seeds.push_back(seed);
      }
      if (!same.seeds.empty()) a.same.push_back(same);
    }
  std::vector<std::string> git;
  for (const auto& name : names) {
    if (!is_git(name)) continue;
    git.push_back(name);
    const std::string base = name.substr(0, name.size() - 4);
    if (t.methods.count(base)) a.comparisons.push_back(compare(t, name, base, ""));
  }
  if (t.methods.count(t.oracle) && !git.empty()) {
    auto [best, why] = best_git(t, git);
    a.comparisons.push_back(compare(t, t.oracle, best, why));
  }
  return a;
}

}  // namespace invkit::report
