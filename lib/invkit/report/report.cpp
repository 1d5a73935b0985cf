#include "invkit/report/report.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "invkit/error.h"
#include "invkit/io/manifest.h"

namespace invkit::report {

using namespace invkit::metrics;  // statistics and shot groups

namespace fs = std::filesystem;

namespace {

const char* const kMinus = "\u2212";  // −
const char* const kMissing = "\u2013";  // –

// A number with `decimals` decimals; a minus sign (−) for negatives, and no
// "-0.0".
std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s[0] == '-') {
    s = s.substr(1);
    if (s.find_first_not_of("0.") != std::string::npos) s = kMinus + s;
  }
  return s;
}

// A difference with its sign: +1.2, −1.2, 0.0.
std::string signed_fixed(double v, int decimals) {
  std::string s = fixed(v, decimals);
  if (s.find_first_not_of("0.") == std::string::npos) return s;
  return v > 0 ? "+" + s : s;
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

template <class Set>
std::string join_set(const Set& items, const std::string& sep) {
  return join(std::vector<std::string>(items.begin(), items.end()), sep);
}

std::string seed_list(const std::vector<int64_t>& seeds) {
  std::vector<std::string> s;
  for (auto x : seeds) s.push_back(std::to_string(x));
  return join(s, ", ");
}

// A JSON number or null/absent; anything else is an Error naming `where`.
std::optional<double> number(const nlohmann::json& obj, const char* key, const std::string& where) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) throw Error(where + "." + key + " is not a number");
  double v = it->get<double>();
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

std::vector<double> values_of(const std::map<int64_t, RunResult>& runs, std::optional<double> RunResult::*field) {
  std::vector<double> v;
  for (const auto& [seed, r] : runs)
    if (r.*field) v.push_back(*(r.*field));
  return v;
}

std::string layout(const std::string& runs) {
  std::string root = runs;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return "expected " + root +
         "/seed-<S>/<T>/ekld.json (measure-ekld's output) with the checkpoints it names (or train-classifier's "
         "output METHOD.json) beside it";
}

// A JSON file, parsed; errors name it.
nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(path.string() + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw Error(path.string() + ": not valid JSON: " + e.what());
  }
}

// Markdown table text: no line breaks, "|" escaped.
std::string cell_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

// A relative link safe in Markdown: everything but unreserved characters and
// "/" percent-encoded.
std::string url_path(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

const double kAlpha = 0.05;  // significance level of the per-run sentences (95% intervals elsewhere)

// "0.023" or "< 0.001": truncated, not rounded, to 3 decimals, so the shown
// value is below 0.050 exactly when p < 0.05 (the sentences' cut).
std::string p_number(double p) { return p < 0.001 ? "< 0.001" : fixed(std::floor(p * 1000) / 1000, 3); }

// "p = 0.023", "p < 0.001", or "no p-value" for NaN.
std::string p_value(double p) {
  if (std::isnan(p)) return "no p-value";
  return p < 0.001 ? "p " + p_number(p) : "p = " + p_number(p);
}

// An interval end; the unbounded ends of a confidence set as −∞ and ∞.
std::string bound(double v, int decimals) {
  if (std::isinf(v)) return v < 0 ? std::string(kMinus) + "\u221e" : "\u221e";
  return fixed(v, decimals);
}

std::string interval(double lo, double hi, int decimals) {
  return bound(lo, decimals) + " to " + bound(hi, decimals);
}

std::string seeds_phrase(const std::vector<int64_t>& seeds) {
  return seeds.size() == 1 ? "seed " + seed_list(seeds) + " only" : "seeds " + seed_list(seeds);
}

bool significant(const RunSpearman& s) { return !std::isnan(s.test.p) && s.test.p < kAlpha; }

// One run's Spearman clause: "seed 0: −0.81 over 10 classes (p = 0.004)"
// or "seed 1: −0.10 over 10 classes, not significant (p = 0.230)".
std::string run_spearman_text(const RunSpearman& s) {
  std::string out = "seed " + std::to_string(s.seed) + ": ";
  if (std::isnan(s.test.statistic))
    return out + "none (fewer than 2 classes, or a constant class size or eKLD)";
  out += fixed(s.test.statistic, 2);
  if (std::isnan(s.test.p)) return out + ", no p-value (ekld.json lists no per-class eKLD)";
  out += " over " + std::to_string(s.classes) + " classes";
  if (!significant(s)) return out + ", not significant (" + p_value(s.test.p) + ")";
  return out + " (" + p_value(s.test.p) + ")";
}

// The runs' clauses, then what the significant ones say (a run is a
// handful of classes: only a significant one says anything on its own).
std::string spearman_finding(const std::string& method, const std::vector<RunSpearman>& runs) {
  std::vector<std::string> clauses;
  int64_t negative = 0, positive = 0;
  for (const auto& r : runs) {
    clauses.push_back(run_spearman_text(r));
    if (significant(r)) (r.test.statistic < 0 ? negative : positive) += 1;
  }
  std::string s = method + ", Spearman correlation between class size and eKLD in each run (two-sided permutation " +
                  "test over its classes): " + join(clauses, "; ");
  const std::string in = negative + positive == 1 ? "in the significant run" : "in the significant runs";
  if (negative > 0 && positive == 0)
    s += "; " + in + ", by rank, the smaller classes have the higher eKLD (are less invariant)";
  else if (positive > 0 && negative == 0)
    s += "; " + in + ", by rank, the smaller classes have the lower eKLD (the opposite of the paper's finding)";
  else if (positive > 0)
    s += "; the significant runs disagree in sign (" + std::to_string(negative) + " negative, " +
         std::to_string(positive) + " positive)";
  else if (runs.size() > 1)
    s += "; no run is significant on its own";
  return s + ".";
}

std::string pooled_finding(const std::string& method, const std::map<int64_t, RunResult>& runs,
                           const PooledSlope* pooled) {
  if (!pooled || pooled->seeds.size() < 2) {
    std::vector<int64_t> seeds;
    for (const auto& [seed, r] : runs) seeds.push_back(seed);
    return method + ": " +
           (seeds.size() == 1 ? "one seed (" + seed_list(seeds) + ")" : "fewer than 2 seeds with per-class eKLD") +
           ", so no pooled within-class estimate of the effect of class size: it needs at least 2 seeds (each seed "
           "gives each class another size); claims beyond the single runs above need more seeds.";
  }
  const auto& p = *pooled;
  std::string s = method + ", within class over " + seeds_phrase(p.seeds) + " (" + std::to_string(p.classes) +
                  " classes seen in at least 2 seeds): ";
  if (std::isnan(p.test.slope)) return s + "not estimable (no class has a different size in two seeds).";
  s += "eKLD changes by " + fixed(p.test.slope, 3) + " nats per e-fold of class size (95% CI " +
       interval(p.test.lo, p.test.hi, 3) + ", permutation " + p_value(p.test.p) + "): ";
  switch (p.verdict) {
    case Verdict::reproduced: return s + "reproduced: a class is less invariant when it is smaller (the paper's finding 1).";
    case Verdict::opposite: return s + "opposite: a class is more invariant when it is smaller.";
    default: return s + "no evidence (CI covers 0) that its size changes a class's eKLD.";
  }
}

// "tail eKLD (seeds 0, 1) 0.812 → 0.403, −0.409 (95% CI ...): reproduced".
std::string change_text(const PairedChange& c) {
  if (c.seeds.empty()) return c.metric + ": no seed has both";
  const int decimals = c.accuracy ? 1 : 3;
  const std::string unit = c.accuracy ? "%" : "";
  std::string s = c.metric + " (" + seeds_phrase(c.seeds) + ") " + fixed(c.second, decimals) + unit + " \u2192 " +
                  fixed(c.first, decimals) + unit + ", " + signed_fixed(c.difference.mean, decimals) +
                  (c.accuracy ? " points" : "");
  if (c.seeds.size() == 1) return s + ", one seed: no interval";
  return s + " (95% CI " + interval(c.difference.lo, c.difference.hi, decimals) + "): " + verdict_text(c.verdict);
}

std::string comparison_finding(const Comparison& c) {
  std::vector<std::string> parts;
  for (const auto& ch : c.changes) parts.push_back(change_text(ch));
  return c.first + " vs " + c.second + (c.note.empty() ? "" : " (" + c.note + ")") + ", paired by seed (" + c.first +
         " \u2212 " + c.second + ", mean and 95% t interval): " + join(parts, "; ") + ".";
}

// The tables under a transform's main table.
// The note on two methods with the same results (SameResults).
std::string same_sentence(const SameResults& same) {
  return same.second + " has the same results as " + same.first + " in " +
         (same.seeds.size() == 1 ? "seed " : "seeds ") + seed_list(same.seeds) +
         " (every per-class eKLD and test metric): one checkpoint under two names (e.g. DRS whose best validation "
         "epoch came before its balanced sampling began); there their rows and statistics agree by construction, "
         "not as evidence.";
}

void spearman_table(std::ostream& md, const TransformResults& t, const TransformAnalysis& a,
                    const std::vector<int64_t>& seeds) {
  md << "Spearman correlation between class size and eKLD in each run, with its two-sided permutation p-value:\n\n"
     << "| method |";
  for (auto s : seeds) md << " seed " << s << " |";
  md << "\n|---|";
  for (size_t i = 0; i < seeds.size(); ++i) md << "---:|";
  md << "\n";
  for (const auto& name : t.method_order) {
    if (!a.spearman.count(name)) continue;
    md << "| " << cell_text(name) << " |";
    for (auto seed : seeds) {
      const auto& runs = a.spearman.at(name);
      auto it = std::find_if(runs.begin(), runs.end(), [&](const RunSpearman& r) { return r.seed == seed; });
      std::string cell = kMissing;
      if (it != runs.end() && !std::isnan(it->test.statistic))
        cell = fixed(it->test.statistic, 2) + " (" + (std::isnan(it->test.p) ? "no p" : p_value(it->test.p)) + ")";
      md << " " << cell << " |";
    }
    md << "\n";
  }
  md << "\n";
}

void pooled_table(std::ostream& md, const TransformResults& t, const TransformAnalysis& a) {
  if (a.pooled.empty()) {
    md << "Within-class slope: every method here has one seed; pooling needs at least 2.\n\n";
    return;
  }
  std::vector<std::string> single;  // methods left out: one seed
  for (const auto& name : t.method_order)
    if (t.methods.at(name).size() < 2) single.push_back(name);
  md << "Within-class slope of eKLD on ln(class size), class and seed fixed effects, pooled over seeds "
        "(negative: smaller classes less invariant):\n\n"
     << "| method | seeds | classes | slope (nats per e-fold) | 95% CI | p | verdict |\n"
     << "|---|---:|---:|---:|---|---:|---|\n";
  for (const auto& p : a.pooled) {
    md << "| " << cell_text(p.method) << " | " << p.seeds.size() << " | " << p.classes << " | ";
    if (std::isnan(p.test.slope))
      md << kMissing << " | not estimable | " << kMissing << " | " << kMissing << " |\n";
    else
      md << fixed(p.test.slope, 3) << " | " << interval(p.test.lo, p.test.hi, 3) << " | "
         << p_number(p.test.p) << " | " << verdict_text(p.verdict) << " |\n";
  }
  md << "\n";
  if (!single.empty()) md << "Not pooled (one seed): " << join(single, ", ") << ".\n\n";
}

void comparison_table(std::ostream& md, const TransformAnalysis& a) {
  if (a.comparisons.empty()) return;
  md << "Paired differences over the seeds both methods have (first \u2212 second; eKLD in nats, accuracies in "
        "percentage points), mean and 95% t interval:\n\n"
     << "| comparison | metric | seeds | means | difference | 95% CI | verdict |\n"
     << "|---|---|---:|---:|---:|---|---|\n";
  for (const auto& c : a.comparisons)
    for (const auto& ch : c.changes) {
      md << "| " << cell_text(c.first + " \u2212 " + c.second) << " | " << ch.metric << (ch.accuracy ? " (%)" : "")
         << " | " << ch.seeds.size() << " | ";
      const int d = ch.accuracy ? 1 : 3;
      if (ch.seeds.empty()) {
        md << kMissing << " | " << kMissing << " | no seed has both | " << kMissing << " |\n";
        continue;
      }
      md << fixed(ch.second, d) << " \u2192 " << fixed(ch.first, d) << " | " << signed_fixed(ch.difference.mean, d)
         << " | " << (ch.seeds.size() == 1 ? "one seed: no interval" : interval(ch.difference.lo, ch.difference.hi, d))
         << " | " << verdict_text(ch.verdict) << " |\n";
    }
  md << "\n";
}

}  // namespace

std::string method_name(const std::string& checkpoint_path) {
  std::string name = checkpoint_path;
  auto slash = name.find_last_of('/');
  if (slash != std::string::npos) name = name.substr(slash + 1);
  if (name.size() > 3 && name.compare(name.size() - 3, 3, ".st") == 0) name.resize(name.size() - 3);
  return name;
}


TestMetrics manifest_test(const nlohmann::json& manifest) {
  TestMetrics t;
  if (manifest.is_object() && manifest.contains("metrics") && manifest["metrics"].is_object() &&
      manifest["metrics"].contains("test") && manifest["metrics"]["test"].is_object())
    t.test = manifest["metrics"]["test"];
  return t;
}

TestMetrics stdout_test(const nlohmann::json& output, const std::string& file, const std::string& method) {
  if (!output.is_object())
    throw Error(file + ": not train-classifier's output (expected a JSON object with a \"test\" object)");
  if (output.contains("checkpoint") && output["checkpoint"].is_string() &&
      method_name(output["checkpoint"].get<std::string>()) != method)
    throw Error(file + ": train-classifier's output for checkpoint " + output["checkpoint"].get<std::string>() +
                ", expected one for method " + method);
  TestMetrics t;
  t.where = file + ": test";
  if (!output.contains("test") || output["test"].is_null()) return t;
  if (!output["test"].is_object()) throw Error(file + ": \"test\" is not an object");
  t.test = output["test"];
  return t;
}

RunResult parse_run(const EkldCheckpoint& entry, const TestMetrics& test, const std::string& source) {
  RunResult r;
  r.checkpoint = entry.checkpoint;
  const std::string where = source + ": checkpoint " + r.checkpoint + ": ";
  auto finite = [](double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; };
  r.mean_ekld = finite(entry.summary.mean_ekld);
  r.spearman = finite(entry.summary.spearman);
  if (entry.summary.groups.is_object()) r.tail_ekld = number(entry.summary.groups, "few", where);
  for (const auto& c : entry.classes) {
    if (c.n_train < 0 || !std::isfinite(c.ekld)) continue;
    std::string name = c.name;
    if (name.empty() && c.id >= 0) name = "class " + std::to_string(c.id);
    for (const auto& other : r.classes)
      if (other.name == name)
        throw Error(where + "two classes are named \"" + name + "\" (classes are matched across seeds by name)");
    r.classes.push_back({static_cast<double>(c.n_train), c.ekld, name});
  }
  if (test.test.is_object()) {
    const auto& m = test.test;
    const std::string mwhere =
        test.where.empty() ? "checkpoint " + r.checkpoint + " (named in " + source + "): metrics.test" : test.where;
    r.has_test = true;
    r.accuracy = number(m, "accuracy", mwhere);
    r.balanced_accuracy = number(m, "balanced_accuracy", mwhere);
    if (m.contains("groups") && m["groups"].is_object()) {
      r.many = number(m["groups"], "many", mwhere + ".groups");
      r.medium = number(m["groups"], "medium", mwhere + ".groups");
      r.few = number(m["groups"], "few", mwhere + ".groups");
    }
    if (m.contains("per_class") && m["per_class"].is_array())
      for (const auto& c : m["per_class"]) {
        if (!c.is_object()) throw Error(mwhere + ": a \"per_class\" entry is not an object");
        auto n = number(c, "train_count", mwhere + ".per_class[]");
        auto a = number(c, "accuracy", mwhere + ".per_class[]");
        if (n && a) r.class_accuracy.push_back({*n, *a});
      }
  }
  return r;
}

void set_shot_groups(Results& results, ShotThresholds thresholds) {
  auto means = [&](const auto& rows, auto value, auto count) {
    double sum[3] = {0, 0, 0};
    int n[3] = {0, 0, 0};
    for (const auto& row : rows) {
      const int g = shot_group(count(row), thresholds);
      sum[g] += value(row);
      ++n[g];
    }
    std::array<std::optional<double>, 3> out;
    for (int g = 0; g < 3; ++g)
      if (n[g]) out[g] = sum[g] / n[g];
    return out;
  };
  for (auto& t : results.transforms) {
    t.groups = {{thresholds.many, thresholds.few}};
    for (auto& [method, seeds] : t.methods)
      for (auto& [seed, r] : seeds) {
        const auto acc = means(r.class_accuracy, [](const auto& c) { return c.accuracy; },
                               [](const auto& c) { return c.n_train; });
        r.many = acc[0];
        r.medium = acc[1];
        r.few = acc[2];
        r.tail_ekld = means(r.classes, [](const auto& c) { return c.ekld; }, [](const auto& c) { return c.n_train; })[2];
      }
  }
}

void add_ekld(Results& results, int64_t seed, const std::string& transform, const nlohmann::json& ekld,
              const std::string& source, const std::function<TestMetrics(const std::string&)>& test) {
  const EkldResult result = ekld_result_from_json(ekld, source);
  auto t = std::find_if(results.transforms.begin(), results.transforms.end(),
                        [&](const TransformResults& x) { return x.name == transform; });
  if (t == results.transforms.end()) {
    results.transforms.push_back({});
    t = results.transforms.end() - 1;
    t->name = transform;
  }
  const auto& s = result.settings;
  if (s.contains("transform") && s["transform"].is_string()) t->specs.insert(s["transform"].get<std::string>());
  if (s.contains("generator") && s["generator"].is_string())
    t->specs.insert("generator " + s["generator"].get<std::string>());
  auto per_class = number(s, "per_class", source + ": settings");
  auto samples = number(s, "samples", source + ": settings");
  if (per_class && samples) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.0f images \u00d7 %.0f draws per class", *per_class, *samples);
    t->protocols.insert(buf);
  }
  auto many = number(s, "many", source + ": settings");
  auto few = number(s, "few", source + ": settings");
  if (many && few) t->groups.insert({static_cast<int64_t>(*many), static_cast<int64_t>(*few)});
  std::set<std::string> seen;
  for (const auto& entry : result.checkpoints) {
    const TestMetrics m = test(entry.checkpoint);
    RunResult r = parse_run(entry, m, source);
    const std::string method = method_name(r.checkpoint);
    if (!seen.insert(method).second)
      throw Error(source + ": names two checkpoints of method " + method + " (file name " + method + ".st)");
    if (!t->methods.count(method)) t->method_order.push_back(method);
    if (t->methods[method].count(seed))
      throw Error(source + ": method " + method + " of seed " + std::to_string(seed) + " under " + transform +
                  " is already in the report");
    if (r.has_test) {
      const auto& g = m.test.value("groups", nlohmann::json::object());
      if (g.is_object() && g.contains("many_threshold") && g["many_threshold"].is_number_integer() &&
          g.contains("few_threshold") && g["few_threshold"].is_number_integer())
        t->groups.insert({g["many_threshold"].get<int64_t>(), g["few_threshold"].get<int64_t>()});
    }
    t->methods[method][seed] = std::move(r);
  }
  if (std::find(results.seeds.begin(), results.seeds.end(), seed) == results.seeds.end())
    results.seeds.push_back(seed);
}

void finish(Results& results, const ReportOrder& order) {
  std::sort(results.seeds.begin(), results.seeds.end());
  // Listed names first, in the order given; then the rest: transforms by
  // folder name, methods as they first appear in the ekld.json files.
  auto rank = [](const std::vector<std::string>& listed, const std::string& name) {
    return static_cast<size_t>(std::find(listed.begin(), listed.end(), name) - listed.begin());
  };
  std::stable_sort(results.transforms.begin(), results.transforms.end(),
                   [&](const TransformResults& a, const TransformResults& b) {
                     const size_t ra = rank(order.transforms, a.name), rb = rank(order.transforms, b.name);
                     return ra != rb ? ra < rb : a.name < b.name;
                   });
  for (auto& t : results.transforms) {
    std::stable_sort(t.method_order.begin(), t.method_order.end(), [&](const std::string& a, const std::string& b) {
      return rank(order.methods, a) < rank(order.methods, b);
    });
    t.oracle = order.oracle;
  }
}

namespace {

// The test metrics of checkpoint `path` (as ekld.json `file` names it), read
// in `folder`: the manifest of the checkpoint's file name there, else
// train-classifier's output METHOD.json there.
TestMetrics test_beside(const fs::path& folder, const std::string& path, const std::string& file) {
  std::error_code ec;
  const fs::path checkpoint = folder / fs::path(path).filename();
  if (fs::is_regular_file(checkpoint, ec)) return manifest_test(io::read_manifest(checkpoint.string()));
  const std::string method = method_name(path);
  const fs::path output = folder / (method + ".json");
  if (output != folder / "ekld.json" && fs::is_regular_file(output, ec))
    return stdout_test(read_json(output), output.string(), method);
  throw Error(file + " names checkpoint " + path + " but neither " + checkpoint.string() + " nor " +
              output.string() + " (train-classifier's output) exists");
}

}  // namespace

Results load_results(const std::string& runs, const ReportOrder& order) {
  std::error_code ec;
  const fs::path root(runs);
  if (!fs::exists(root, ec)) throw Error(runs + ": no such folder; " + layout(runs));
  if (!fs::is_directory(root, ec)) throw Error(runs + ": not a folder; " + layout(runs));
  Results results;
  results.root = runs;
  static const std::regex seed_dir("seed-([0-9]{1,18})");
  std::vector<fs::path> seed_dirs;
  for (const auto& e : fs::directory_iterator(root, ec))
    if (e.is_directory() && std::regex_match(e.path().filename().string(), seed_dir)) seed_dirs.push_back(e.path());
  if (ec) throw Error(runs + ": cannot list: " + ec.message());
  std::sort(seed_dirs.begin(), seed_dirs.end());
  for (const auto& sd : seed_dirs) {
    const int64_t seed = std::stoll(sd.filename().string().substr(5));
    std::vector<fs::path> transform_dirs;
    for (const auto& e : fs::directory_iterator(sd, ec))
      if (e.is_directory() && fs::is_regular_file(e.path() / "ekld.json")) transform_dirs.push_back(e.path());
    if (ec) throw Error(sd.string() + ": cannot list: " + ec.message());
    std::sort(transform_dirs.begin(), transform_dirs.end());
    for (const auto& td : transform_dirs) {
      const std::string file = (td / "ekld.json").string();
      add_ekld(results, seed, td.filename().string(), read_json(file), file,
               [&](const std::string& path) { return test_beside(td, path, file); });
    }
  }
  if (results.transforms.empty()) throw Error(runs + ": no results found; " + layout(runs));
  finish(results, order);
  return results;
}

std::string format_cell(const std::vector<double>& values, int decimals, double scale) {
  if (values.empty()) return kMissing;
  double sum = 0;
  for (double v : values) sum += scale * v;
  const double mean = sum / values.size();
  if (values.size() == 1) return fixed(mean, decimals);
  double ss = 0;
  for (double v : values) ss += (scale * v - mean) * (scale * v - mean);
  return fixed(mean, decimals) + " \u00b1 " + fixed(std::sqrt(ss / (values.size() - 1)), decimals);
}

std::optional<double> mean_of(const std::map<int64_t, RunResult>& runs, std::optional<double> RunResult::*field) {
  auto v = values_of(runs, field);
  if (v.empty()) return std::nullopt;
  double sum = 0;
  for (double x : v) sum += x;
  return sum / v.size();
}

std::vector<std::string> findings(const TransformResults& t, const TransformAnalysis& a) {
  std::vector<std::string> out;
  for (const auto& m : t.method_order) {
    if (is_git(m) || m == t.oracle) continue;  // those are judged by their comparisons
    out.push_back(spearman_finding(m, a.spearman.at(m)));
    auto p = std::find_if(a.pooled.begin(), a.pooled.end(), [&](const PooledSlope& x) { return x.method == m; });
    out.push_back(pooled_finding(m, t.methods.at(m), p == a.pooled.end() ? nullptr : &*p));
  }
  for (const auto& c : a.comparisons) out.push_back(comparison_finding(c));
  for (const auto& same : a.same) out.push_back(same_sentence(same));
  if (out.empty())
    out.push_back("Nothing to compare: every method is GIT (X-git) or the oracle (" + t.oracle +
                  "), and none has a base method or the oracle beside it.");
  return out;
}

std::vector<std::string> findings(const TransformResults& t) { return findings(t, analyze(t)); }

ScatterPlot ekld_plot(const TransformResults& t) {
  ScatterPlot plot;
  std::set<int64_t> seeds;
  for (const auto& [name, runs] : t.methods)
    for (const auto& [seed, r] : runs) seeds.insert(seed);
  plot.title = "eKLD under " + t.name + " (" + (seeds.size() == 1 ? "seed " : "seeds ") +
               seed_list(std::vector<int64_t>(seeds.begin(), seeds.end())) + ")";
  plot.x_label = "training examples in the class";
  plot.y_label = "eKLD (nats)";
  plot.log_x = true;
  for (const auto& name : t.method_order) {
    Series s{name, {}, {}, {}};
    for (const auto& [seed, r] : t.methods.at(name))
      for (const auto& c : r.classes) {
        s.x.push_back(c.n_train);
        s.y.push_back(c.ekld);
        s.labels.push_back(c.name + " (seed " + std::to_string(seed) + ")");
      }
    plot.series.push_back(std::move(s));
  }
  return plot;
}

std::string render_markdown(const Results& results, const ReportOptions& options) {
  std::ostringstream md;
  std::vector<std::string> transform_names;
  std::set<std::pair<int64_t, int64_t>> groups;
  for (const auto& t : results.transforms) {
    transform_names.push_back(t.name);
    groups.insert(t.groups.begin(), t.groups.end());
  }
  md << "# " << options.title << "\n\n";
  md << "Results in `" << results.root << "`: " << results.seeds.size()
     << (results.seeds.size() == 1 ? " seed (" : " seeds (") << seed_list(results.seeds) << "), "
     << results.transforms.size() << (results.transforms.size() == 1 ? " transform (" : " transforms (")
     << join(transform_names, ", ") << ")";
  if (!options.generated_by.empty()) md << "; generated by " << options.generated_by;
  md << ".\n\n";

  std::string shots = "the shot groups";
  if (groups.size() == 1) {
    auto [many, few] = *groups.begin();
    shots = "many = more than " + std::to_string(many) + ", medium = " + std::to_string(few) + " to " +
            std::to_string(many) + ", few = fewer than " + std::to_string(few) + " training examples";
  }
  md << "Accuracies are on the test set, in %, from each checkpoint's `metrics.test` (train-classifier "
        "`--test`), or from the `test` object of train-classifier's output METHOD.json where the checkpoint "
        "is not kept; many, medium and few are the mean per-class accuracy of each shot group ("
     << shots << "). mean eKLD (nats), Spearman (rank correlation between class size and eKLD) and "
        "tail eKLD (the mean eKLD of the few-shot classes) come from measure-ekld. With several seeds a "
        "cell is mean \u00b1 sample standard deviation over the seeds that have the value; "
     << kMissing << " marks a missing value.\n\n";
  md << "Every finding comes with its uncertainty. Spearman per run: a two-sided permutation p-value over the "
        "run's classes (every order of them up to 7 classes, else "
     << kPermutations
     << " random orders). Within-class slope: the classes are shuffled to new sizes in each seed, so each class "
        "is seen at several sizes; the slope of eKLD on ln(class size) with class and seed fixed effects says how "
        "many nats a class's eKLD changes per e-fold of its size (negative: smaller classes less invariant, the "
        "paper's finding 1), with a p-value and 95% CI from "
     << kPermutations
     << " reshuffles of the sizes within each seed. Paired differences: first \u2212 second method over the "
        "seeds both have, with a 95% t interval (n \u2212 1 degrees of freedom). Verdicts: *reproduced* when the "
        "95% CI excludes 0 in the paper's direction (a negative slope; GIT, or the oracle, with a lower tail eKLD "
        "and higher accuracies), *opposite* when it excludes 0 the other way, *no evidence (CI covers 0)* "
        "otherwise; one seed gives no interval. p-values are truncated to 3 decimals. Random draws use the "
        "fixed seed "
     << kStatsSeed << ", so the same results give the same report.\n\n";

  std::vector<TransformAnalysis> analyses;
  for (const auto& t : results.transforms) analyses.push_back(analyze(t));
  for (size_t ti = 0; ti < results.transforms.size(); ++ti) {
    const auto& t = results.transforms[ti];
    md << "## " << t.name << "\n\n";
    std::vector<std::string> about;
    if (!t.specs.empty()) about.push_back("Transform `" + join_set(t.specs, "`, `") + "`");
    if (!t.protocols.empty()) about.push_back(join_set(t.protocols, ", "));
    std::set<int64_t> seeds;
    for (const auto& [name, runs] : t.methods)
      for (const auto& [seed, r] : runs) seeds.insert(seed);
    about.push_back(std::string(seeds.size() == 1 ? "seed " : "seeds ") +
                    seed_list(std::vector<int64_t>(seeds.begin(), seeds.end())));
    std::string line = join(about, "; ");
    if (!line.empty()) line[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(line[0])));
    md << line << ".\n\n";

    md << "| method | seeds | accuracy | balanced acc. | many | medium | few | mean eKLD | Spearman | tail eKLD |\n";
    md << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    std::vector<std::string> no_test;
    for (const auto& name : t.method_order) {
      const auto& runs = t.methods.at(name);
      std::vector<int64_t> missing;
      for (const auto& [seed, r] : runs)
        if (!r.has_test) missing.push_back(seed);
      if (!missing.empty())
        no_test.push_back(name + " (" + (missing.size() == 1 ? "seed " : "seeds ") + seed_list(missing) + ")");
      auto cell = [&](std::optional<double> RunResult::*field, int decimals, double scale) {
        return format_cell(values_of(runs, field), decimals, scale);
      };
      md << "| " << cell_text(name) << (missing.empty() ? "" : "\u2020") << " | " << runs.size() << " | "
         << cell(&RunResult::accuracy, 1, 100) << " | " << cell(&RunResult::balanced_accuracy, 1, 100) << " | "
         << cell(&RunResult::many, 1, 100) << " | " << cell(&RunResult::medium, 1, 100) << " | "
         << cell(&RunResult::few, 1, 100) << " | " << cell(&RunResult::mean_ekld, 3, 1) << " | "
         << cell(&RunResult::spearman, 2, 1) << " | " << cell(&RunResult::tail_ekld, 3, 1) << " |\n";
    }
    md << "\n";
    if (!no_test.empty())
      md << "\u2020 No test metrics for " << join(no_test, ", ")
         << ": train-classifier ran without `--test`; those seeds are left out of the accuracy cells.\n\n";
    for (const auto& same : analyses[ti].same) md << same_sentence(same) << "\n\n";
    if (options.plot_link)
      md << "![eKLD against training class size under " << t.name << "](" << url_path(options.plot_link(t.name))
         << ")\n\n";
    spearman_table(md, t, analyses[ti], std::vector<int64_t>(seeds.begin(), seeds.end()));
    pooled_table(md, t, analyses[ti]);
    comparison_table(md, analyses[ti]);
  }

  md << "## Findings\n";
  for (size_t ti = 0; ti < results.transforms.size(); ++ti) {
    md << "\n**" << results.transforms[ti].name << "**\n\n";
    for (const auto& f : findings(results.transforms[ti], analyses[ti])) md << "* " << f << "\n";
  }
  return md.str();
}

}  // namespace invkit::report
