// augment: transformed copies of a data set (the nuisance transforms of
// lib/invkit/transforms), K samples per image, seeded per row so that runs,
// batches and shards agree.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <limits>

#include "invkit/checkpoint/generator.h"
#include "invkit/cli/progress.h"
#include "invkit/cli/specs.h"
#include "invkit/cli/tool.h"
#include "invkit/data/class_match.h"
#include "invkit/data/dataset.h"
#include "invkit/data/dataset_reader.h"
#include "invkit/data/dataset_writer.h"
#include "invkit/data/sampling.h"
#include "invkit/error.h"
#include "invkit/io/file.h"
#include "invkit/io/image.h"
#include "invkit/models/generator_sampling.h"
#include "invkit/random.h"
#include "invkit/transforms/transform.h"

namespace {

struct Options {
  std::string input;          // data set, or - for stdin
  std::string output;         // data set, or - for stdout
  std::string transform;      // spec (docs/augment.md)
  std::string generator;      // learned transform: a train-generator checkpoint
  double style_temperature = 1.0;  // its style codes from N(0, t^2 I)
  std::string gen_precision = "fp32";  // its arithmetic (models::Precision)
  int64_t samples = 1;        // transformed copies per image
  bool keep_original = false; // the untransformed image first
  bool record_params = false; // store the drawn parameters in `params`
  std::string preview;        // PNG grid of the first images and their samples
  std::string shard;          // "i/n": the i-th (0-based) of n contiguous parts of the rows
  int64_t batch = 0;          // input images per transform call; 0 = up to 8192, about 32 MB of output
};

constexpr int64_t kPreviewImages = 8, kPreviewSamples = 8;

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  invkit::cli::Tool tool(
      "augment",
      "Make K transformed copies of every image of a data set (rotation, background, dilation/erosion, ...).\n"
      "Row i's draws depend only on --seed and i, so batches, threads and shards give the same bytes.",
      "  augment --transform rotate --seed 0 lt.st -o rot-lt.st\n"
      "  augment --transform dilate-erode --samples 4 --keep-original --preview dil.png lt.st -o dil.st\n"
      "  augment --transform '0.5:rotate(-30,30)|0.5:scale(0.8,1.2)+background(0,100)' --record-params in.st -o out.st\n"
      "  augment --transform background --shard 1/4 fmnist.st -o part1.st   # then: resample --concat part*.st -o all.st");
  auto& app = tool.app();
  app.add_option("input", opt.input, "data set, or - for stdin")->required();
  app.add_option("-o,--output", opt.output, "output data set, or - for stdout")->required();
  app.add_option("-t,--transform", opt.transform,
                 "transform spec, e.g. rotate, background, dilate-erode, 'rotate(-30,30)+scale(0.9,1.1)' "
                 "(grammar in docs/augment.md)");
  app.add_option("--generator", opt.generator,
                 "learned transform: draw T(x) from a train-generator checkpoint (random style codes) instead of --transform");
  app.add_option("-k,--samples", opt.samples, "transformed copies per image")->check(invkit::cli::kPositive);
  app.add_flag("--keep-original", opt.keep_original, "put each untransformed image before its samples");
  app.add_flag("--record-params", opt.record_params,
               "store each row's drawn parameters in `params` (columns named in the manifest's params_columns)");
  app.add_option("--preview", opt.preview, "write a PNG grid: one row per image (first 8): original, then samples");
  app.add_option("--shard", opt.shard, "process only the i-th (0-based) of n contiguous, nearly equal parts of the input rows");
  app.add_option("--batch", opt.batch,
                 "input images per transform call (default: up to 8192, about 32 MB of output; bounds memory, "
                 "results do not depend on it)")
      ->check(invkit::cli::kPositive);
  tool.add_device().add_threads().add_seed().add_quiet().add_log("one JSON object for the run (rows, timings)");
  tool.add_generator_sampling(opt.style_temperature, opt.gen_precision);

  return tool.run(argc, argv, [&] {
    if (opt.transform.empty() == opt.generator.empty())
      throw invkit::UsageError("give one of --transform SPEC or --generator GEN (see augment --help)");
    if (opt.generator.empty() && (tool.app().count("--style-temperature") || tool.app().count("--gen-precision")))
      throw invkit::UsageError("--style-temperature and --gen-precision need --generator");
    const auto precision = invkit::models::parse_precision(opt.gen_precision);
    const auto [shard_index, shard_count] =
        opt.shard.empty() ? std::pair<int64_t, int64_t>{0, 1} : invkit::cli::parse_shard_spec(opt.shard);
    invkit::io::refuse_binary_to_terminal(opt.output);
    const torch::Device device = tool.device();
    tool.note(invkit::models::precision_note(precision, device));
    const uint64_t seed = tool.common().seed;

    // The draw x -> x' (and its parameters) of a transform spec or a generator,
    // whose parameters are the style codes it drew.
    std::unique_ptr<invkit::transforms::Transform> transform;
    invkit::models::LoadedGenerator generator;
    std::vector<std::string> names;
    if (!opt.transform.empty()) {
      transform = invkit::transforms::parse_transform(opt.transform);
      names = transform->param_names();
    } else {
      generator = invkit::checkpoint::load_generator(opt.generator, device);
      generator.style_temperature = opt.style_temperature;
      generator.precision = precision;
      for (int64_t i = 0; i < generator.options.style_dim; ++i) names.push_back("style" + std::to_string(i));
    }
    auto draw = [&](const torch::Tensor& x, const torch::Tensor& keys, torch::Tensor* p) {
      if (transform) return transform->apply(x, seed, keys, p);
      if (p) *p = invkit::models::style_codes(generator.options.style_dim, seed, keys, generator.style_temperature);
      return invkit::models::generate(generator, x, seed, keys);
    };

    // The input is read batch by batch; `in` is everything but its pixels.
    invkit::DatasetReader reader(opt.input);
    const invkit::Dataset& in = reader.head();
    if (!opt.generator.empty())
      invkit::check_generator_classes(generator.manifest, opt.generator, in, invkit::io::input_name(opt.input));
    const int64_t N = in.size(), K = opt.samples, per = K + (opt.keep_original ? 1 : 0);
    const auto [lo, hi] = invkit::shard_range(N, shard_index, shard_count);
    const int64_t n = hi - lo;
    // 0 rows augment to 0 rows, but a preview of nothing cannot be drawn: refuse before any work.
    if (!opt.preview.empty() && n == 0)
      throw invkit::Error((opt.shard.empty() ? invkit::io::input_name(opt.input)
                                             : "shard " + opt.shard + " of " + invkit::io::input_name(opt.input)) +
                          " has no rows: --preview " + opt.preview + " would show nothing");

    // Output row r*per + j holds input row lo + r: j = 0 the original (with
    // --keep-original), then its samples. Sample s (1..K) of input row i has
    // key i*(K+1) + s, whatever the shard or batch. Everything but the images
    // and params is known before any is drawn: the writer puts it out first
    // and then takes the images batch by batch.
    invkit::Dataset head = in.select(torch::arange(lo, hi, torch::kLong).repeat_interleave(per));
    head.params = torch::Tensor();
    const int64_t P = static_cast<int64_t>(names.size());
    if (opt.record_params)
      head.extra["params_columns"] = names;
    else
      head.extra.erase("params_columns");
    head.extra["augment"] = {{"seed", seed}, {"samples", K}, {"keep_original", opt.keep_original}, {"device", device.str()}};
    auto entry = tool.history_entry();
    if (transform) {
      head.extra["augment"]["transform"] = entry["transform"] = transform->spec();
    } else {
      head.extra["augment"]["generator"] = entry["generator"] = opt.generator;
    }
    head.add_history(entry);
    const int64_t C = reader.channels(), H = reader.height(), W = reader.width();
    invkit::DatasetWriter writer(opt.output, head, {C, H, W}, opt.record_params ? P : -1);

    const int64_t first = opt.keep_original ? 1 : 0;
    invkit::cli::Progress progress("augment", n * K, "img", tool.common().quiet);
    invkit::cli::JsonLog log(tool.common().log);
    double seconds = 0, cpu_seconds = 0;  // in the transform alone (no I/O): wall clock, CPU time of all threads
    torch::Tensor shown, shown_input;     // the preview's rows: [min(n, 8), per, C, H, W], and their inputs
    // A call holds its input, K copies of it, the transformed copies and the
    // output rows: by default about 32 MB of output, and at most 8192 inputs.
    const int64_t batch = opt.batch > 0 ? opt.batch : invkit::rows_per_chunk(per * C * H * W);
    for (int64_t b = 0; b < n; b += batch) {
      const int64_t e = std::min(n, b + batch), m = e - b;
      auto src = reader.images(lo + b, lo + e);
      auto keys = invkit::augment_keys(lo + b, lo + e, K);
      torch::Tensor p;
      auto x = (K > 1 ? src.repeat_interleave(K, 0) : src).to(device);
      auto t0 = std::chrono::steady_clock::now();
      std::clock_t c0 = std::clock();
      auto y = draw(x, keys, opt.record_params ? &p : nullptr).to(torch::kCPU);
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      cpu_seconds += static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
      auto images = torch::empty({m, per, C, H, W}, torch::kUInt8);
      if (opt.keep_original) images.select(1, 0).copy_(src);
      images.slice(1, first, per).copy_(y.view({m, K, C, H, W}));
      torch::Tensor params;
      if (opt.record_params) {
        params = torch::full({m, per, P}, std::numeric_limits<float>::quiet_NaN(), torch::kFloat);
        params.slice(1, first, per).copy_(p.view({m, K, P}));
        params = params.view({m * per, P});
      }
      if (b == 0) {
        shown = images.slice(0, 0, std::min(m, kPreviewImages)).clone();
        shown_input = src.slice(0, 0, std::min(m, kPreviewImages)).clone();
      }
      writer.append(images.view({m * per, C, H, W}), params);
      progress.update(e * K);
    }
    progress.finish();
    reader.finish();
    log.write({{"event", "done"}, {"images", n * K}, {"transform_seconds", seconds}, {"transform_cpu_seconds", cpu_seconds},
               {"images_per_second", seconds > 0 ? static_cast<double>(n * K) / seconds : 0.0},
               {"threads", torch::get_num_threads()}, {"device", device.str()}});

    if (!opt.preview.empty()) {
      const int64_t cols = 1 + std::min(K, kPreviewSamples);
      std::vector<torch::Tensor> cells;
      for (int64_t r = 0; r < shown.size(0); ++r) {
        cells.push_back(shown_input[r].unsqueeze(0));
        cells.push_back(shown[r].slice(0, first, first + cols - 1));
      }
      invkit::io::write_png(opt.preview, invkit::io::image_grid(torch::cat(cells), cols));
    }
    writer.commit();
  });
}
