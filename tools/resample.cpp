// resample: long-tailed subsets, stratified splits, per-class and balanced
// sampling, shards and concatenation of data sets. The choices of rows live
// in lib/invkit/data (longtail, sampling); this file parses options and
// writes the manifest.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "invkit/cli/specs.h"
#include "invkit/cli/tool.h"
#include "invkit/data/dataset.h"
#include "invkit/data/dataset_reader.h"
#include "invkit/data/longtail.h"
#include "invkit/data/sampling.h"
#include "invkit/error.h"
#include "invkit/io/file.h"

namespace {

struct Options {
  std::vector<std::string> inputs;  // one data set (or -); several with --concat
  std::string output = "-";         // -o: the result (the remainder with --split)
  std::string rest;                 // --rest: the NAME part of --split
  std::string profile;              // zipf | exp | step | counts
  double alpha = 2.0;               // zipf exponent
  double ratio = 100.0;             // exp: first/last; step: max/tail
  int64_t max = 0;                  // first class's size; 0 = the largest class of the input
  int64_t min = 1;                  // lower clamp of zipf/exp/step: every class keeps a row
  int64_t head = -1;                // step: classes that keep max; -1 = half (rounded down)
  std::vector<int64_t> counts;      // counts: one per class, in class order
  std::string order = "shuffle";    // class order: shuffle | as-is | size
  bool allow_repeat = false;        // repeat rows when a class is too small
  std::string split;                // NAME=FRACTION
  bool balance = false;             // oversample every class to the largest
  int64_t per_class = 0;            // N rows of each class
  std::string shard;                // i/n
  bool concat = false;              // concatenate the inputs
};

using invkit::UsageError;

void check_usage(const CLI::App& app, const Options& opt) {
  auto given = [&](const char* name) { return app.count(name) > 0; };
  const std::vector<std::pair<const char*, bool>> modes = {
      {"--profile", given("--profile")}, {"--split", given("--split")},        {"--balance", opt.balance},
      {"--per-class", given("--per-class")}, {"--shard", given("--shard")}, {"--concat", opt.concat}};
  std::vector<std::string> chosen;
  for (const auto& [name, on] : modes)
    if (on) chosen.push_back(name);
  if (chosen.empty())
    throw UsageError("nothing to do: give one of --profile, --split, --balance, --per-class, --shard, --concat");
  if (chosen.size() > 1) throw UsageError(chosen[0] + " and " + chosen[1] + " cannot be combined; run resample twice");
  const std::string mode = chosen[0];

  // Options that belong to one mode (or profile) only.
  auto only = [&](const char* option, bool allowed, const std::string& where) {
    if (given(option) && !allowed) throw UsageError(std::string(option) + " applies only to " + where);
  };
  const std::string& p = opt.profile;
  const bool profile = mode == "--profile";
  only("--alpha", profile && p == "zipf", "--profile zipf");
  only("--ratio", profile && (p == "exp" || p == "step"), "--profile exp and step");
  only("--head", profile && p == "step", "--profile step");
  only("--max", profile && p != "counts", "--profile zipf, exp and step");
  only("--min", profile && p != "counts", "--profile zipf, exp and step");
  only("--counts", profile && p == "counts", "--profile counts");
  only("--order", profile, "--profile");
  only("--allow-repeat", profile || mode == "--per-class", "--profile and --per-class (--balance always repeats)");
  only("--rest", mode == "--split", "--split");
  if (profile && p == "counts" && !given("--counts")) throw UsageError("--profile counts needs --counts N,N,...");
  if (mode == "--split" && opt.rest.empty()) throw UsageError("--split needs --rest FILE for the named part");
  if (mode == "--split" && opt.rest == opt.output)
    throw UsageError("--split: -o and --rest must differ (both are " + opt.rest + ")");
  if (mode == "--per-class" && opt.per_class < 0) throw UsageError("--per-class must be at least 0");
  if (mode != "--concat" && opt.inputs.size() > 1)
    throw UsageError("one input expected (" + std::to_string(opt.inputs.size()) + " given); several only with --concat");
  if (std::count(opt.inputs.begin(), opt.inputs.end(), "-") > 1)
    throw UsageError("standard input (-) can be read only once");
}

int64_t largest(const std::vector<int64_t>& sizes) {
  return sizes.empty() ? 0 : *std::max_element(sizes.begin(), sizes.end());
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  invkit::cli::Tool tool(
      "resample",
      "Long-tailed subsets (--profile), stratified splits (--split), per-class and balanced sampling, shards and "
      "concatenation of invkit data sets. Every output row keeps `index`, its row in the input.",
      "  resample --split val=0.2 --seed 0 fmnist.st -o train.st --rest val.st\n"
      "  resample --profile zipf --alpha 2 --max 4800 --min 5 --seed 0 train.st -o lt.st\n"
      "  resample --profile exp --ratio 100 --order as-is cifar10.st -o cifar10-lt.st\n"
      "  resample --balance lt.st -o balanced.st\n"
      "  resample --shard 0/4 train.st -o part0.st\n"
      "  resample --concat part0.st part1.st part2.st part3.st -o whole.st");
  auto& app = tool.app();
  app.add_option("inputs", opt.inputs, "data set(s), - for stdin (several only with --concat)");
  app.add_option("-o,--output", opt.output, "output data set, - for stdout (with --split: the remainder)");
  app.add_option("--profile", opt.profile, "long-tail profile: zipf | exp | step | counts")
      ->check(CLI::IsMember({"zipf", "exp", "step", "counts"}));
  app.add_option("--alpha", opt.alpha, "zipf: n_i = max(floor(max * i^-alpha), min)");
  app.add_option("--ratio", opt.ratio, "exp: first/last class size; step: max / tail size");
  app.add_option("--max", opt.max, "size of the first class (0 = the largest class of the input)");
  app.add_option("--min", opt.min, "lower clamp of every class's size");
  app.add_option("--head", opt.head, "step: how many classes keep --max (default: half of them, rounded down)")
      ->default_str("C/2");
  app.add_option("--counts", opt.counts, "counts: one size per class, in class order, comma separated")
      ->delimiter(',')
      ->allow_extra_args(false);
  app.add_option("--order", opt.order, "class order for the profile: shuffle (seeded) | as-is | size")
      ->check(CLI::IsMember({"shuffle", "as-is", "size"}));
  app.add_flag("--allow-repeat", opt.allow_repeat, "repeat rows of classes smaller than asked instead of failing");
  app.add_option("--split", opt.split, "NAME=FRACTION: stratified split; the NAME part goes to --rest");
  app.add_option("--rest", opt.rest, "with --split: where the NAME part goes (- for stdout)");
  app.add_flag("--balance", opt.balance, "oversample every class to the size of the largest");
  app.add_option("--per-class", opt.per_class, "N rows of every class");
  app.add_option("--shard", opt.shard, "i/n: the i-th (0-based) of n contiguous, nearly equal parts");
  app.add_flag("--concat", opt.concat, "concatenate the inputs (same classes and image shape) in the order given");
  tool.add_seed();

  return tool.run(argc, argv, [&] {
    using namespace invkit;
    check_usage(app, opt);
    if (opt.inputs.empty()) opt.inputs.push_back("-");
    const uint64_t seed = tool.common().seed;
    io::refuse_binary_to_terminal(opt.output);
    if (!opt.rest.empty()) io::refuse_binary_to_terminal(opt.rest);

    if (opt.concat) {
      // Heads at open; the pixels stream from one input after the other.
      std::vector<std::unique_ptr<DatasetReader>> readers;
      std::vector<Dataset> heads;
      std::vector<ImageShape> shapes;
      std::vector<std::string> sources;
      nlohmann::json record = nlohmann::json::array();
      for (const auto& in : opt.inputs) {
        readers.push_back(std::make_unique<DatasetReader>(in));
        heads.push_back(readers.back()->head());
        shapes.push_back(readers.back()->image_shape());
        sources.push_back(io::input_name(in));
        record.push_back({{"file", sources.back()}, {"rows", heads.back().size()}});
      }
      Dataset out = invkit::concat(heads, shapes, sources);
      out.extra.erase("shard");  // the first part's shard record no longer describes the rows
      out.extra["concat"] = record;
      out.add_history(tool.history_entry());
      write_concatenated(readers, out, opt.output);
      return;
    }

    // The input's pixels are read only for the rows chosen, a batch at a time.
    DatasetReader reader(opt.inputs[0]);
    const Dataset& in = reader.head();
    const std::vector<int64_t> labels = label_vector(in);
    const std::vector<int64_t> sizes = in.class_counts();
    Dataset out;

    if (!opt.split.empty()) {
      const auto [name, fraction] = cli::parse_split_spec(opt.split);
      const SplitRows s = stratified_split(labels, in.num_classes(), fraction, seed);
      const nlohmann::json rec = {{"name", name}, {"fraction", fraction}, {"seed", seed}};
      Dataset named = select_rows(in, s.named);
      out = select_rows(in, s.remainder);
      named.extra["split"] = rec;
      named.extra["split"]["part"] = name;
      out.extra["split"] = rec;
      out.extra["split"]["part"] = "remainder";
      named.add_history(tool.history_entry());
      out.add_history(tool.history_entry());
      write_rows(reader, out, opt.output);
      try {
        write_rows(reader, named, opt.rest);
      } catch (...) {
        if (opt.output != "-") std::remove(opt.output.c_str());  // no half of a split left behind
        throw;
      }
      return;
    }

    if (!opt.shard.empty()) {
      const auto [i, n] = cli::parse_shard_spec(opt.shard);
      const auto [begin, end] = shard_range(in.size(), i, n);
      std::vector<int64_t> rows(end - begin);
      for (int64_t r = begin; r < end; ++r) rows[r - begin] = r;
      out = select_rows(in, rows);
      out.extra["shard"] = {{"index", i}, {"count", n}, {"begin", begin}, {"end", end}};
    } else {
      std::vector<int64_t> targets;
      bool repeat = opt.allow_repeat;
      if (!opt.profile.empty()) {
        LongTailProfile p;
        p.name = opt.profile;
        p.alpha = opt.alpha;
        p.ratio = opt.ratio;
        if (opt.max == 0 && largest(sizes) == 0 && p.name != "counts")
          throw Error(io::input_name(opt.inputs[0]) + ": every class is empty (" + std::to_string(in.size()) +
                      " rows), so there is no largest class to take the first class's size from; give --max");
        p.max = opt.max != 0 ? opt.max : largest(sizes);  // a negative --max fails check()
        p.min = opt.min;
        p.head = opt.head >= 0 ? opt.head : in.num_classes() / 2;
        p.counts = opt.counts;
        const std::vector<int64_t> by_position = p.counts_by_position(in.num_classes());
        const ClassOrder order = parse_class_order(opt.order);
        const std::vector<int64_t> class_ids = class_order(order, sizes, seed);
        targets = targets_by_class(class_ids, by_position);
        nlohmann::json rec = p.to_json();
        rec["order"] = class_order_name(order);
        rec["targets"] = targets;
        out.extra["class_order"] = class_ids;
        out.extra["profile"] = rec;
      } else if (opt.balance) {
        targets.assign(sizes.size(), largest(sizes));
        repeat = true;
        out.extra["balance"] = {{"rows_per_class", targets[0]}};
      } else {
        targets.assign(sizes.size(), opt.per_class);
        out.extra["per_class"] = opt.per_class;
      }
      Selection sel;
      try {
        sel = select_per_class(labels, targets, in.class_names, seed, repeat);
      } catch (const Error& e) {
        throw Error(io::input_name(opt.inputs[0]) + ": " + e.text());  // "class 3 has 0 rows but 5 are asked"
      }
      nlohmann::json keys = out.extra;
      out = select_rows(in, sel.rows);
      out.extra.update(keys);
      out.extra["repeated"] = sel.repeated;
    }
    out.add_history(tool.history_entry());
    write_rows(reader, out, opt.output);
  });
}
