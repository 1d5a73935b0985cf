// measure-ekld: per-class invariance (eKLD, consistency, accuracy) of one or
// more classifiers under a nuisance transformation, against class size.
#include <cmath>
#include <filesystem>
#include <iostream>

#include "invkit/checkpoint/classifier.h"
#include "invkit/checkpoint/external_model.h"
#include "invkit/checkpoint/generator.h"
#include "invkit/cli/model_options.h"
#include "invkit/cli/progress.h"
#include "invkit/cli/tool.h"
#include "invkit/data/class_match.h"
#include "invkit/data/dataset.h"
#include "invkit/data/dataset_reader.h"
#include "invkit/error.h"
#include "invkit/io/csv.h"
#include "invkit/io/file.h"
#include "invkit/io/manifest.h"
#include "invkit/io/safetensors.h"
#include "invkit/io/text.h"
#include "invkit/metrics/ekld_protocol.h"
#include "invkit/metrics/ekld_result.h"
#include "invkit/models/classifier.h"
#include "invkit/models/generator_sampling.h"
#include "invkit/report/svg_plot.h"
#include "invkit/transforms/transform.h"

namespace {

std::string file_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

struct Options {
  std::vector<std::string> files;  // CKPT... DATA
  std::string transform;           // augment grammar
  std::string generator;           // a train-generator checkpoint
  double style_temperature = 1.0;  // its style codes from N(0, t^2 I)
  std::string gen_precision = "fp32";  // its arithmetic (models::Precision)
  int64_t per_class = 40;          // held-out images per class
  int64_t samples = 100;           // draws of T(.|x) per image
  int64_t batch = 128;             // transformed images per forward pass (larger is slower on CPU)
  int64_t many = 100, few = 20;    // shot-group thresholds on training size
  std::string csv, plot, dump_logits;
  invkit::checkpoint::ExternalOptions external;  // for classifiers trained elsewhere
};

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  invkit::cli::Tool tool(
      "measure-ekld",
      "Per-class invariance of classifiers under a nuisance transformation: eKLD (mean KL(P(.|x) || P(.|x')) in nats), "
      "its standard error, consistency and accuracy, against each class's training size. JSON on stdout.",
      "  measure-ekld erm.st test.st --transform rotate --plot ekld.svg > ekld.json\n"
      "  measure-ekld erm.st git.st test.st --transform background --csv ekld.csv --plot ekld.svg\n"
      "  measure-ekld erm.st test.st --transform 'rotate(-180,180)' --per-class 10 --samples 20");
  auto& app = tool.app();
  app.add_option("files", opt.files,
                 "CKPT [CKPT...] DATA: classifiers (invkit checkpoints, TorchScript files or state dicts), then the "
                 "held-out data set")
      ->required()
      ->expected(2, -1);
  auto* t = app.add_option("--transform", opt.transform, "transform SPEC (the augment grammar)");
  auto* g = app.add_option("--generator", opt.generator, "a train-generator checkpoint in place of --transform");
  t->excludes(g);
  app.add_option("--per-class", opt.per_class, "held-out images per class (fewer if a class has fewer)")
      ->check(invkit::cli::kPositive);
  app.add_option("--samples", opt.samples, "draws of T(.|x) per image")->check(invkit::cli::kPositive);
  app.add_option("--batch", opt.batch, "transformed images per forward pass")->check(invkit::cli::kPositive);
  app.add_option("--csv", opt.csv, "also write the per-class rows to FILE");
  app.add_option("--plot", opt.plot, "write an SVG scatter of eKLD against training class size to FILE");
  app.add_option("--dump-logits", opt.dump_logits, "write original and transformed logits (safetensors) to FILE");
  invkit::cli::add_external_model_options(app, opt.external, true);
  tool.add_device().add_threads().add_seed().add_quiet().add_shot_groups(opt.many, opt.few);
  tool.add_generator_sampling(opt.style_temperature, opt.gen_precision);
  return tool.run(argc, argv, [&] {
    if (opt.transform.empty() == opt.generator.empty())
      throw invkit::UsageError("give the transformation: --transform SPEC or --generator GEN");
    if (opt.generator.empty() && (tool.app().count("--style-temperature") || tool.app().count("--gen-precision")))
      throw invkit::UsageError("--style-temperature and --gen-precision need --generator");
    const auto precision = invkit::models::parse_precision(opt.gen_precision);
    const auto device = tool.device();
    tool.note(invkit::models::precision_note(precision, device));
    const uint64_t seed = tool.common().seed;
    const std::string data_path = opt.files.back();
    const std::vector<std::string> checkpoints(opt.files.begin(), opt.files.end() - 1);

    // The transformation x -> x' for a batch, keyed per draw.
    std::unique_ptr<invkit::transforms::Transform> transform;
    invkit::models::LoadedGenerator generator;
    invkit::metrics::TransformFn draw;
    nlohmann::json settings = {{"per_class", opt.per_class}, {"samples", opt.samples}, {"seed", seed},
                               {"many", opt.many}, {"few", opt.few}};
    if (!opt.transform.empty()) {
      transform = invkit::transforms::parse_transform(opt.transform);
      settings["transform"] = transform->spec();
      draw = [&](const torch::Tensor& x, const torch::Tensor& keys) {
        return transform->apply(x.to(device), seed, keys).to(torch::kCPU);
      };
    } else {
      generator = invkit::checkpoint::load_generator(opt.generator, device);
      generator.style_temperature = opt.style_temperature;
      generator.precision = precision;
      settings["generator"] = opt.generator;
      settings["style_temperature"] = opt.style_temperature;
      settings["gen_precision"] = invkit::models::precision_name(precision);
      draw = [&](const torch::Tensor& x, const torch::Tensor& keys) {
        return invkit::models::generate(generator, x.to(device), seed, keys).to(torch::kCPU);
      };
    }

    // Labels and names are read at open; the pixels of the measured rows only.
    invkit::DatasetReader in(data_path);
    const invkit::Dataset& data = in.head();
    const std::string data_name = invkit::io::input_name(data_path);
    data.require_rows(data_name, "there are no images to measure invariance on");
    settings["data"] = data_name;
    if (!opt.generator.empty()) {
      invkit::checkpoint::check_generator_input(generator.options, opt.generator, in.image_shape(), data_name);
      invkit::check_generator_classes(generator.manifest, opt.generator, data, data_name);
    }
    std::vector<invkit::checkpoint::LoadedClassifier> classifiers;
    std::vector<invkit::metrics::LogitsFn> models;
    // Each checkpoint sees the data's labels in its own classes, matched by name.
    std::vector<torch::Tensor> labels_of;
    for (const auto& path : checkpoints) {
      classifiers.push_back(
          invkit::checkpoint::load_any_classifier(path, device, opt.external, data, in.image_shape(), data_name));
      auto& clf = classifiers.back();
      invkit::Dataset view = data;
      invkit::checkpoint::check_data_matches(clf, in.image_shape(), view, path, data_name);
      labels_of.push_back(view.labels);
      if (clf.kind != "invkit" && clf.class_counts.empty())
        throw invkit::UsageError(path + ": eKLD is set against each class's training size: give it with --train "
                                        "SET or --train-counts");
      if (static_cast<int64_t>(clf.class_counts.size()) != clf.spec.num_classes)
        throw invkit::Error(path + ": the manifest has no training class counts");
    }
    for (auto& clf : classifiers) {
      auto predict = std::make_shared<invkit::models::Predictor>(*clf.model, clf.normalization, device);
      // An LDAM model outputs cosines; its probabilities are softmax(30 · cos).
      models.push_back([&clf, &opt, predict](const torch::Tensor& x) {
        auto logits = (*predict)(x, opt.batch);
        return clf.logit_scale == 1.0 ? logits : logits * clf.logit_scale;
      });
    }

    auto rows = invkit::metrics::ekld_rows(data.labels, data.num_classes(), opt.per_class, seed);
    auto images = in.gather(rows);
    in.finish();
    auto labels = data.labels.index_select(0, rows);  // the data set's classes (for --dump-logits)
    invkit::cli::Progress bar("measure-ekld", static_cast<int64_t>(models.size()) * rows.size(0) * (opt.samples + 1),
                              "img", tool.common().quiet);
    auto logits = invkit::metrics::collect_logits(images, opt.samples, opt.batch, draw, models,
                                                  [&](int64_t done, int64_t) { bar.update(done); });
    bar.finish();

    invkit::metrics::EkldResult result;
    result.settings = settings;
    std::string csv = invkit::io::csv_line(
        {"checkpoint", "id", "name", "n_train", "ekld", "ekld_sem", "consistency", "accuracy", "images"});
    invkit::report::ScatterPlot plot;
    plot.title = "eKLD under " + (transform ? transform->spec() : "generator " + file_name(opt.generator));
    plot.x_label = "training examples in the class";
    plot.y_label = "eKLD (nats)";
    plot.log_x = true;
    invkit::io::NamedTensors dump{{"labels", labels}, {"rows", rows}};
    for (size_t k = 0; k < classifiers.size(); ++k) {
      const auto& clf = classifiers[k];
      auto classes = invkit::metrics::per_class_invariance(logits.original[k], logits.transformed[k],
                                                           labels_of[k].index_select(0, rows), clf.spec.num_classes);
      invkit::report::Series series{file_name(checkpoints[k]), {}, {}, {}};
      for (auto& c : classes) {
        c.name = clf.class_names[c.id];
        c.n_train = clf.class_counts[c.id];
        const auto r = invkit::metrics::to_json(c);
        csv += invkit::io::csv_line({checkpoints[k], r["id"], r["name"], r["n_train"], r["ekld"], r["ekld_sem"],
                                     r["consistency"], r["accuracy"], r["images"]});
        series.x.push_back(static_cast<double>(c.n_train));
        series.y.push_back(c.ekld);
        series.labels.push_back(c.name);
      }
      plot.series.push_back(series);
      auto summary = invkit::metrics::summarize(classes, opt.many, opt.few);
      result.checkpoints.push_back({checkpoints[k], classes, summary});
      dump.emplace_back("original." + std::to_string(k), logits.original[k].contiguous());
      dump.emplace_back("transformed." + std::to_string(k), logits.transformed[k].contiguous());
    }

    // Side outputs first, so a failure leaves stdout empty.
    if (!opt.csv.empty()) invkit::io::write_all(opt.csv, csv.data(), csv.size());
    if (!opt.plot.empty()) {
      std::string svg = invkit::report::render_svg(plot);
      invkit::io::write_all(opt.plot, svg.data(), svg.size());
    }
    if (!opt.dump_logits.empty()) {
      nlohmann::json manifest = {{"format", "invkit.logits/1"}, {"settings", settings}, {"checkpoints", checkpoints},
                                 {"class_names", data.class_names}, {"history", {tool.history_entry()}}};
      invkit::io::write_safetensors(opt.dump_logits, dump, invkit::io::metadata_with_manifest(manifest));
    }
    std::cout << invkit::io::dump_json(invkit::metrics::to_json(result)) << std::endl;
  });
}
