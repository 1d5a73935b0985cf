// measure-generator: how close a generator's T̂(.|x) is to the true nuisance
// T(.|x), per class and shot group, by transformation decoding; with a
// classifier, eKLD under T̂ against under T and the judge's fidelity; a
// sweep of the style temperature.
#include <filesystem>
#include <iostream>
#include <memory>

#include "invkit/checkpoint/classifier.h"
#include "invkit/checkpoint/external_model.h"
#include "invkit/checkpoint/generator.h"
#include "invkit/cli/model_options.h"
#include "invkit/cli/progress.h"
#include "invkit/cli/tool.h"
#include "invkit/data/class_match.h"
#include "invkit/data/dataset.h"
#include "invkit/error.h"
#include "invkit/io/file.h"
#include "invkit/io/text.h"
#include "invkit/metrics/ekld_protocol.h"
#include "invkit/metrics/generator_measure.h"
#include "invkit/metrics/transform_decoding.h"
#include "invkit/models/classifier.h"
#include "invkit/models/generator_sampling.h"
#include "invkit/report/generator_plots.h"
#include "invkit/report/svg_plot.h"
#include "invkit/transforms/transform.h"

namespace {

struct Options {
  std::string generator, data, transform, classifier, decoder_data, plot_dir;
  double style_temperature = 1.0;
  std::string gen_precision = "fp32";
  std::vector<double> temperatures;
  int64_t per_class = 100, samples = 10, batch = 256;
  invkit::metrics::DecoderTraining decoder;
  invkit::metrics::ShotThresholds shots;
  invkit::checkpoint::ExternalOptions external;
};

// The generator's training images per class of `names`, by name; -1 where unknown.
std::vector<int64_t> generator_counts(const nlohmann::json& manifest, const std::vector<std::string>& names) {
  std::vector<int64_t> out(names.size(), -1);
  const auto data = manifest.value("data", nlohmann::json::object());
  if (!data.contains("class_names") || !data.contains("class_counts")) return out;
  const auto gen_names = data["class_names"].get<std::vector<std::string>>();
  const auto counts = data["class_counts"].get<std::vector<int64_t>>();
  for (size_t i = 0; i < names.size(); ++i)
    for (size_t k = 0; k < gen_names.size() && k < counts.size(); ++k)
      if (gen_names[k] == names[i]) out[i] = counts[k];
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  invkit::cli::Tool tool(
      "measure-generator",
      "How close a generator's T^(.|x) is to the true transformation T(.|x): a decoder trained on true pairs "
      "(x, T(x)) reads the parameters of generated pairs (x, T^(x)); their distance to the true ones per class and "
      "shot group; with --classifier, eKLD under T^ against T; with --temperatures, a sweep. JSON on stdout.",
      "  measure-generator gen.st test.st --transform rotate > gen.json\n"
      "  measure-generator gen.st test.st --transform rotate --classifier erm.st --temperatures 0,0.5,1 "
      "--plot-dir plots");
  auto& app = tool.app();
  app.add_option("generator", opt.generator, "a train-generator checkpoint")->required();
  app.add_option("data", opt.data, "held-out images (untransformed), or - for stdin")->required();
  app.add_option("--transform", opt.transform, "the true transformation T, a SPEC of the augment grammar")->required();
  app.add_option("--classifier", opt.classifier,
                 "a classifier (invkit checkpoint, TorchScript file or state dict): eKLD under T^ and T, and its "
                 "accuracy on generated against true images (fidelity)");
  app.add_option("--per-class", opt.per_class, "held-out images per class measured (fewer if a class has fewer)")
      ->check(invkit::cli::kPositive);
  app.add_option("--samples", opt.samples, "draws of T and of T^ per image")->check(invkit::cli::kPositive);
  app.add_option("--temperatures", opt.temperatures, "style temperatures to sweep, e.g. 0,0.5,1")
      ->delimiter(',')
      ->check(invkit::cli::kNonNegative);
  app.add_option("--decoder-steps", opt.decoder.steps, "training steps of the decoder")->check(invkit::cli::kPositive);
  app.add_option("--decoder-data", opt.decoder_data,
                 "images to train the decoder on (default: the rows of DATA that are not measured)");
  app.add_option("--batch", opt.batch, "images per forward pass")->check(invkit::cli::kPositive);
  app.add_option("--plot-dir", opt.plot_dir,
                 "write decoded-COLUMN.svg (histograms) and, with --temperatures, temperature.svg into DIR");
  invkit::cli::add_external_model_options(app, opt.external, true);
  tool.add_device().add_threads().add_seed().add_quiet().add_shot_groups(opt.shots.many, opt.shots.few);
  tool.add_generator_sampling(opt.style_temperature, opt.gen_precision);
  return tool.run(argc, argv, [&] {
    const auto device = tool.device();
    const uint64_t seed = tool.common().seed;
    auto truth = invkit::transforms::parse_transform(opt.transform);
    auto generator = invkit::checkpoint::load_generator(opt.generator, device);
    generator.precision = invkit::models::parse_precision(opt.gen_precision);
    tool.note(invkit::models::precision_note(generator.precision, device));

    auto data = invkit::Dataset::load(opt.data);
    const std::string data_name = invkit::io::input_name(opt.data);
    data.require_rows(data_name, "there are no images to measure the generator on");
    invkit::check_generator_classes(generator.manifest, opt.generator, data, data_name);
    invkit::checkpoint::check_generator_input(generator.options, opt.generator, data.image_shape(), data_name);

    // The classifier, if any, sees the data's labels in its own classes.
    invkit::checkpoint::LoadedClassifier clf;
    invkit::metrics::LogitsFn logits;
    if (!opt.classifier.empty()) {
      clf = invkit::checkpoint::load_any_classifier(opt.classifier, device, opt.external, data, data.image_shape(),
                                                    data_name);
      invkit::checkpoint::check_data_matches(clf, data.image_shape(), data, opt.classifier, data_name);
      auto predict = std::make_shared<invkit::models::Predictor>(*clf.model, clf.normalization, device);
      logits = [&clf, &opt, predict](const torch::Tensor& x) {
        auto l = (*predict)(x, opt.batch);
        return clf.logit_scale == 1.0 ? l : l * clf.logit_scale;
      };
    }

    // Measured rows: measure-ekld's selection; the decoder learns on the others.
    auto rows = invkit::metrics::ekld_rows(data.labels, data.num_classes(), opt.per_class, seed);
    torch::Tensor decoder_images;
    if (!opt.decoder_data.empty()) {
      auto extra = invkit::Dataset::load(opt.decoder_data);
      extra.require_rows(opt.decoder_data, "there is nothing to train the decoder on");
      if (extra.images.sizes().slice(1) != data.images.sizes().slice(1))
        throw invkit::Error(opt.decoder_data + ": its images are not of " + data_name + "'s size");
      decoder_images = extra.images;
    } else {
      auto rest = torch::ones({data.size()}, torch::kBool);
      rest.index_fill_(0, rows, false);
      decoder_images = data.images.index_select(0, rest.nonzero().squeeze(1));
      if (decoder_images.size(0) == 0)
        throw invkit::UsageError("--per-class " + std::to_string(opt.per_class) + " measures every image of " +
                                 data_name + " and leaves none to train the decoder: give --decoder-data SET or a "
                                 "smaller --per-class");
    }
    opt.decoder.seed = seed;
    invkit::cli::Progress train_bar("measure-generator: decoder", opt.decoder.steps, "step", tool.common().quiet);
    invkit::metrics::TransformDecoder decoder(*truth, decoder_images, opt.decoder, device,
                                              [&](int64_t step, int64_t, double) { train_bar.update(step); });
    train_bar.finish();

    invkit::metrics::HeldOut held{data.images.index_select(0, rows), data.labels.index_select(0, rows),
                                  data.class_names, generator_counts(generator.manifest, data.class_names)};
    invkit::metrics::GeneratorMeasureOptions mo;
    mo.samples = opt.samples;
    mo.temperature = opt.style_temperature;
    mo.sweep = opt.temperatures;
    mo.shots = opt.shots;
    mo.batch = opt.batch;
    mo.seed = seed;
    auto generate = [&](const torch::Tensor& x, const torch::Tensor& keys, double temperature) {
      auto g = generator;
      g.style_temperature = temperature;
      return invkit::models::generate(g, x.to(device), seed, keys).to(torch::kCPU);
    };
    std::unique_ptr<invkit::cli::Progress> bar;  // its total is known at the first call
    auto m = invkit::metrics::measure_generator(held, *truth, generate, decoder, logits, mo, [&](int64_t done, int64_t total) {
      if (!bar) bar = std::make_unique<invkit::cli::Progress>("measure-generator", total, "img", tool.common().quiet);
      bar->update(done);
    });
    if (bar) bar->finish();

    nlohmann::json out = {{"generator", opt.generator},
                          {"data", data_name},
                          {"settings",
                           {{"transform", truth->spec()},
                            {"per_class", opt.per_class},
                            {"samples", opt.samples},
                            {"style_temperature", opt.style_temperature},
                            {"gen_precision", invkit::models::precision_name(generator.precision)},
                            {"decoder_steps", opt.decoder.steps},
                            {"decoder_images", decoder_images.size(0)},
                            {"many", opt.shots.many},
                            {"few", opt.shots.few},
                            {"seed", seed}}}};
    if (!opt.classifier.empty()) out["classifier"] = opt.classifier;
    out.update(m.json);

    // Side outputs first, so a failure leaves stdout empty.
    if (!opt.plot_dir.empty()) {
      std::filesystem::create_directories(opt.plot_dir);
      auto plots = invkit::report::decoded_histograms(m, decoder.columns(), held, opt.shots);
      for (size_t j = 0; j < plots.size(); ++j) {
        auto svg = invkit::report::render_svg(plots[j]);
        invkit::io::write_all(opt.plot_dir + "/decoded-" + decoder.columns()[j].name + ".svg", svg.data(), svg.size());
      }
      if (!opt.temperatures.empty()) {
        auto svg = invkit::report::render_svg(invkit::report::temperature_plot(m.json));
        invkit::io::write_all(opt.plot_dir + "/temperature.svg", svg.data(), svg.size());
      }
    }
    std::cout << invkit::io::dump_json(out) << std::endl;
  });
}
