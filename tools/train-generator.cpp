// train-generator: learn T(.|x) with MUNIT, one domain mapped to itself.

#include "invkit/checkpoint/generator.h"
#include "invkit/cli/distributed.h"
#include "invkit/cli/progress.h"
#include "invkit/cli/tool.h"
#include "invkit/data/dataset.h"
#include "invkit/error.h"
#include "invkit/io/file.h"
#include "invkit/models/generator_sampling.h"
#include "invkit/train/generator_loop.h"

namespace {

struct Options {
  std::string input;        // training set
  std::string output;       // checkpoint written every --save-every, on a signal and at the end
  std::string resume;       // checkpoint to continue
  int64_t save_every = 0;   // 0: only at the end (and on a signal)
  int64_t sample_every = 0; // 0: no sample grids
  std::string samples_dir;  // where iter_NNNNNNNN.png go
  bool layers = false;      // print layer shapes and exit
};

// Options that --resume takes from the checkpoint instead.
const char* kFixedOnResume[] = {"--batch", "--lr", "--step-size", "--balanced", "--flip", "--gen-dim", "--style-dim",
                                "--mlp-dim", "--downsample", "--res-blocks", "--dis-dim", "--dis-layers",
                                "--dis-scales", "--seed"};

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  invkit::models::MunitOptions model;
  invkit::train::GeneratorTrainOptions train;
  invkit::cli::Tool tool(
      "train-generator",
      "Train a MUNIT generator of the nuisance distribution T(.|x) on a data set mapped to itself: "
      "x' = dec(content(x), s) with a random style s. Writes an invkit.generator/1 checkpoint.",
      "  train-generator rot-lt.st -o gen.st\n"
      "  train-generator rot-lt.st -o gen.st --iters 2000 --sample-every 500 --samples-dir samples --log gen.jsonl\n"
      "  train-generator rot-lt.st -o gen.st --resume gen.st --iters 4000   # continue the same run\n"
      "  torchrun --nproc_per_node 2 --no_python $(command -v train-generator) rot-lt.st -o gen.st --batch 8   # 2 "
      "processes (docs/cluster.md)");
  auto& app = tool.app();
  app.add_option("input", opt.input, "training set (invkit data set, - for stdin)")->required();
  app.add_option("-o,--output", opt.output, "generator checkpoint to write (required unless --layers)");
  app.add_option("--iters", train.iters, "total training iterations")->check(invkit::cli::kPositive);
  app.add_option("--batch", train.batch, "images per iteration")->check(invkit::cli::kPositive);
  app.add_option("--save-every", opt.save_every, "also save the checkpoint every N iterations (0 = only at the end)")
      ->check(invkit::cli::kNonNegative);
  app.add_option("--sample-every", opt.sample_every, "write a sample grid every N iterations (needs --samples-dir)")
      ->check(invkit::cli::kNonNegative);
  app.add_option("--samples-dir", opt.samples_dir, "folder for sample grids iter_NNNNNNNN.png");
  app.add_option("--resume", opt.resume, "continue the run saved in GEN (its options and seed; --iters is the total)");
  app.add_flag("--balanced", train.balanced, "class-balanced sampling of training images");
  app.add_flag("--flip", train.flip, "random horizontal flips (wrong for characters)");
  app.add_option("--lr", train.lr, "Adam learning rate")->check(invkit::cli::kPositive);
  app.add_option("--step-size", train.step_size, "halve the learning rate every N iterations")
      ->check(invkit::cli::kPositive);
  app.add_option("--gen-dim", model.dim, "generator filters in the first layer")->check(invkit::cli::kPositive);
  app.add_option("--style-dim", model.style_dim, "length of the style code")->check(invkit::cli::kPositive);
  app.add_option("--mlp-dim", model.mlp_dim, "hidden width of the style MLP")->check(invkit::cli::kPositive);
  app.add_option("--downsample", model.n_downsample, "content encoder downsamplings")->check(invkit::cli::kNonNegative);
  app.add_option("--res-blocks", model.n_res, "residual blocks in content encoder and decoder")
      ->check(invkit::cli::kNonNegative);
  app.add_option("--dis-dim", model.dis_dim, "discriminator filters in the first layer")->check(invkit::cli::kPositive);
  app.add_option("--dis-layers", model.dis_layers, "discriminator stride-2 layers per scale")
      ->check(invkit::cli::kPositive);
  app.add_option("--dis-scales", model.dis_scales, "discriminator scales")->check(invkit::cli::kPositive);
  app.add_flag("--layers", opt.layers, "print each layer's output shape for DATA's image size and exit");
  tool.add_device().add_threads().add_seed().add_quiet().add_log("one JSON object per iteration (losses, lr)");
  invkit::cli::DistributedOptions dist_options;
  invkit::cli::add_distributed_options(app, dist_options);

  return tool.run(argc, argv, [&] {
    if (opt.layers) {
      invkit::Dataset data = invkit::Dataset::load(opt.input);
      model.channels = data.channels();
      model.height = data.height();
      model.width = data.width();
      model.validate();
      for (const auto& line : invkit::models::describe_layers(model)) std::printf("%s\n", line.c_str());
      std::printf("parameters: generator %lld, discriminator %lld\n",
                  static_cast<long long>(invkit::models::count_parameters(*invkit::models::AdaINGen(model))),
                  static_cast<long long>(invkit::models::count_parameters(*invkit::models::MsImageDis(model))));
      return;
    }
    if (opt.output.empty()) throw invkit::UsageError("-o/--output is required");
    if (opt.output == "-") throw invkit::UsageError("-o: the checkpoint is rewritten while training; give a file name");
    if (opt.sample_every > 0 && opt.samples_dir.empty())
      throw invkit::UsageError("--sample-every needs --samples-dir");
    const bool resuming = !opt.resume.empty();
    if (resuming)
      for (const char* name : kFixedOnResume)
        if (app.count(name) > 0)
          throw invkit::UsageError(std::string(name) + " cannot be changed when resuming: it comes from " + opt.resume);
    // Under torchrun or srun: one rank of a data-parallel run; rank 0 writes.
    const auto group = invkit::cli::start_distributed(tool, dist_options, tool.device());
    const bool main_rank = !group || group->rank() == 0;
    const torch::Device device = group ? group->device() : tool.device();  // a rank's own GPU under NCCL

    invkit::Dataset data = invkit::Dataset::load(opt.input);
    data.require_rows(invkit::io::input_name(opt.input), "there is nothing to train a generator on");
    const int64_t iters = train.iters;
    train.seed = tool.common().seed;
    model.channels = data.channels();
    model.height = data.height();
    model.width = data.width();

    auto trainer = resuming ? invkit::train::GeneratorTrainer::resume(opt.resume, device)
                            : invkit::train::GeneratorTrainer(model, train, device);
    invkit::checkpoint::check_generator_input(trainer.model_options(), opt.resume, data.image_shape(), opt.input);
    if (resuming && app.count("--iters") > 0) trainer.train_options().iters = iters;
    if (trainer.iteration() >= trainer.train_options().iters)
      throw invkit::UsageError("--iters " + std::to_string(trainer.train_options().iters) + ": " + opt.resume +
                               " is already at iteration " + std::to_string(trainer.iteration()));

    nlohmann::json history = resuming ? trainer.saved_manifest().value("history", nlohmann::json::array())
                                      : data.extra.value("history", nlohmann::json::array());
    history.push_back(tool.history_entry());
    const nlohmann::json extra = {
        {"data",
         {{"file", opt.input}, {"size", data.size()}, {"class_names", data.class_names},
          {"class_counts", data.class_counts()}}},
        {"history", history}};

    invkit::train::GeneratorRun run;
    run.output = opt.output;
    run.extra = extra;
    run.save_every = opt.save_every;
    run.sample_every = opt.sample_every;
    run.samples_dir = opt.samples_dir;
    invkit::train::train_generator(
        trainer, data, run, device,
        main_rank ? invkit::cli::progress_observer("it", tool.common().quiet, tool.common().log) : invkit::Observer{},
        group.get());
  });
}
