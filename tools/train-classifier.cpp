// train-classifier: train a CIFAR-style ResNet or a small CNN on a data set
// with one of the paper's class-balancing recipes; keep the best and the
// last checkpoint; print test metrics as one JSON object.
#include <iostream>

#include "invkit/cli/distributed.h"
#include "invkit/cli/progress.h"
#include "invkit/cli/tool.h"
#include "invkit/error.h"
#include "invkit/io/file.h"
#include "invkit/io/text.h"
#include "invkit/train/classifier_loop.h"

int main(int argc, char** argv) {
  invkit::train::TrainConfig cfg;
  std::string train_path, val_path, test_path;
  invkit::cli::Tool tool(
      "train-classifier",
      "Train a classifier (resnet20/32/44/56 or cnn) with a balancing rule and loss; CKPT keeps the best epoch by "
      "validation accuracy (--keep last: the last), CKPT.last the last. Test metrics go to stdout as JSON and into "
      "CKPT's manifest.",
      "  train-classifier train.st --val val.st --test test.st --arch resnet20 --epochs 50 --step1 30 --step2 40 -o erm.st\n"
      "  train-classifier lt.st --val val.st --rule drw --loss ldam -o ldam-drw.st --log train.jsonl\n"
      "  train-classifier lt.st --val val.st -o erm.st --epochs 50 --resume erm.st.last\n"
      "  train-classifier lt.st --val val.st --rule drs --generator gen.st --gen-delayed -o drs-git.st\n"
      "  torchrun --nproc_per_node 2 --no_python $(command -v train-classifier) lt.st --val val.st -o erm.st   # 2 "
      "processes (docs/cluster.md)");
  auto& app = tool.app();
  // A later option overrides an earlier one, so scripts can append to a recipe.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("train", train_path, "training set (invkit data set), or - for stdin")->required();
  app.add_option("-o,--output", cfg.output, "checkpoint of the kept epoch (--keep); the last epoch goes to OUTPUT.last")->required();
  app.add_option("--val", val_path, "validation set: accuracy each epoch, picks the best epoch");
  app.add_option("--test", test_path, "test set: metrics of the kept checkpoint at the end");
  app.add_option("--arch", cfg.arch, "resnet20|resnet32|resnet44|resnet56|cnn");
  app.add_option("--loss", cfg.loss, "ce|ldam|focal (ldam uses a normalized last layer)");
  app.add_option("--rule", cfg.rule, "erm|resample|reweight|drw|drs (drw/drs switch on after --step1 epochs)");
  app.add_option("--epochs", cfg.epochs, "epochs")->check(invkit::cli::kPositive);
  app.add_option("--warmup", cfg.warmup, "linear learning-rate warm-up epochs")->check(invkit::cli::kNonNegative);
  app.add_option("--step1", cfg.step1, "lr x0.01 after this many epochs")->check(invkit::cli::kNonNegative);
  app.add_option("--step2", cfg.step2, "lr x0.0001 after this many epochs")->check(invkit::cli::kNonNegative);
  app.add_option("--batch", cfg.batch, "batch size")->check(invkit::cli::kPositive);
  app.add_option("--lr", cfg.lr, "base learning rate")->check(invkit::cli::kNonNegative);
  app.add_option("--momentum", cfg.momentum, "SGD momentum")->check(invkit::cli::kNonNegative);
  app.add_option("--wd", cfg.wd, "weight decay")->check(invkit::cli::kNonNegative);
  app.add_option("--augment", cfg.augment, "transform SPEC applied to every training batch (oracle augmentation)");
  app.add_flag("--flip", cfg.flip, "random horizontal flips (not for characters)");
  app.add_option("--generator", cfg.git.generator, "GIT: generator checkpoint (train-generator) whose T(x) replaces part of each batch");
  app.add_option("--gen-frac", cfg.git.frac, "GIT: fraction of each batch taken from the generated twin batch")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--gen-threshold", cfg.git.threshold,
                 "GIT: keep a generated example of class y with probability max((K - n_y) / (K - n_min), 0)")
      ->check(invkit::cli::kNonNegative);
  app.add_flag("--gen-delayed", cfg.git.delayed, "GIT: only after --step1 epochs (when DRS/DRW switch on)");
  app.add_option("--keep", cfg.keep, "which epoch OUTPUT keeps: best (by validation accuracy) or last (the final "
                                     "weights, as the paper's code tests them)")
      ->check(CLI::IsMember({"best", "last"}));
  app.add_option("--save-every", cfg.save_every, "write OUTPUT.last every N epochs")->check(invkit::cli::kPositive);
  app.add_option("--resume", cfg.resume, "continue from OUTPUT.last (repeat the other options)");
  app.add_flag("--allow-empty-classes", cfg.allow_empty_classes, "train even if a class has no training example");
  std::string gen_precision = "fp32";
  tool.add_device().add_threads().add_seed().add_quiet().add_generator_sampling(cfg.git.style_temperature,
                                                                                 gen_precision);
  tool.add_log("one JSON object per epoch (loss, accuracies, timings)").add_shot_groups(cfg.shots.many, cfg.shots.few);
  invkit::cli::DistributedOptions dist_options;
  invkit::cli::add_distributed_options(app, dist_options);
  return tool.run(argc, argv, [&] {
    if (cfg.git.generator.empty() && (app.count("--gen-frac") || app.count("--gen-threshold") || cfg.git.delayed ||
                                      app.count("--style-temperature") || app.count("--gen-precision")))
      throw invkit::UsageError(
          "--gen-frac, --gen-threshold, --gen-delayed, --style-temperature and --gen-precision need --generator");
    cfg.git.precision = invkit::models::parse_precision(gen_precision);
    if (cfg.output == "-") throw invkit::UsageError("--output must be a file (the checkpoint has a .last sibling)");
    if (cfg.step2 < cfg.step1) throw invkit::UsageError("--step2 must not come before --step1");
    cfg.seed = tool.common().seed;
    // Under torchrun or srun: one rank of a data-parallel run; rank 0 writes.
    const auto group = invkit::cli::start_distributed(tool, dist_options, tool.device());
    const bool main_rank = !group || group->rank() == 0;
    const torch::Device device = group ? group->device() : tool.device();  // a rank's own GPU under NCCL
    tool.note(invkit::models::precision_note(cfg.git.precision, device));
    invkit::train::TrainInputs in;
    in.train_name = invkit::io::input_name(train_path);
    in.train = invkit::Dataset::load(train_path);
    if (!val_path.empty()) {
      in.val_name = invkit::io::input_name(val_path);
      in.val = invkit::Dataset::load(val_path);
    }
    if (!test_path.empty()) {
      in.test_name = invkit::io::input_name(test_path);
      in.test = invkit::Dataset::load(test_path);
    }
    // A progress bar per epoch on stderr, one --log record per epoch.
    const auto observer = main_rank ? invkit::cli::progress_observer("it", tool.common().quiet, tool.common().log)
                                    : invkit::Observer{};
    auto report = invkit::train::train_classifier(cfg, in, device, tool.history_entry(), observer, group.get());
    if (main_rank) std::cout << invkit::io::dump_json(report) << std::endl;
  });
}
