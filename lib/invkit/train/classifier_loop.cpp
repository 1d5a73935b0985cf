#include "invkit/train/classifier_loop.h"

#include <sys/resource.h>

#include <chrono>
#include <cmath>

#include "invkit/checkpoint/classifier.h"
#include "invkit/checkpoint/generator.h"
#include "invkit/data/class_match.h"
#include "invkit/error.h"
#include "invkit/io/manifest.h"
#include "invkit/io/safetensors.h"
#include "invkit/io/text.h"
#include "invkit/models/classifier.h"
#include "invkit/models/generator_sampling.h"
#include "invkit/random.h"
#include "invkit/train/losses.h"
#include "invkit/train/rules.h"
#include "invkit/train/schedule.h"
#include "invkit/train/optimizers.h"
#include "invkit/train/signals.h"
#include "invkit/transforms/transform.h"

namespace invkit::train {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// CPU seconds (user + system, all threads) of this process: a speed measure
// that a busy shared machine distorts less than wall time.
double cpu_seconds() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

// Random streams, each derived per epoch from the seed.

std::string last_path(const std::string& ckpt) { return ckpt + ".last"; }

// Checks that a val/test set `d` fits the training set and re-expresses its
// labels in the training set's classes, matched by name.
void check_fits(Dataset& d, const std::string& name, const Dataset& train, const std::string& train_name) {
  if (d.channels() != train.channels() || d.height() != train.height() || d.width() != train.width())
    throw Error(name + ": images are " + std::to_string(d.channels()) + "x" + std::to_string(d.height()) + "x" +
                std::to_string(d.width()) + " but " + train_name + " has " + std::to_string(train.channels()) + "x" +
                std::to_string(train.height()) + "x" + std::to_string(train.width()));
  align_classes(d, name, train.class_names, train_name);
}

}  // namespace

nlohmann::json TrainConfig::to_json() const {
  return {{"arch", arch},
          {"loss", loss},
          {"rule", rule},
          {"epochs", epochs},
          {"warmup", warmup},
          {"step1", step1},
          {"step2", step2},
          {"batch", batch},
          {"lr", lr},
          {"momentum", momentum},
          {"wd", wd},
          {"augment", augment},
          {"flip", flip},
          {"generator", git.generator},
          {"gen_frac", git.frac},
          {"gen_threshold", git.threshold},
          {"gen_delayed", git.delayed},
          {"save_every", save_every},
          {"allow_empty_classes", allow_empty_classes},
          {"many", shots.many},
          {"few", shots.few},
          {"seed", seed}};
}

void check_inputs(const TrainConfig& config, TrainInputs& in) {
  const Dataset& train = in.train;
  train.require_rows(in.train_name, "there is nothing to train on");
  auto counts = train.class_counts();
  if (!config.allow_empty_classes)
    for (size_t c = 0; c < counts.size(); ++c)
      if (counts[c] == 0)
        throw Error(in.train_name + ": class " + std::to_string(c) + " (\"" + train.class_names[c] +
                    "\") has no training examples (pass --allow-empty-classes to train anyway)");
  // An empty validation or test set would score every epoch 0 (and pick one of them as the best).
  if (in.val) in.val->require_rows(in.val_name, "a validation set needs rows to pick the best epoch by");
  if (in.test) in.test->require_rows(in.test_name, "a test set needs rows to measure accuracy on");
  if (in.val) check_fits(*in.val, in.val_name, train, in.train_name);
  if (in.test) check_fits(*in.test, in.test_name, train, in.train_name);
}

nlohmann::json train_classifier(const TrainConfig& config, TrainInputs in, torch::Device device,
                                const nlohmann::json& history_entry, const TrainObserver& observer) {
  check_inputs(config, in);
  const Dataset& train = in.train;
  const Rule rule = parse_rule(config.rule);
  const auto counts = train.class_counts();
  auto loss_fn = make_loss(config.loss, counts);
  std::unique_ptr<transforms::Transform> augment;
  if (!config.augment.empty()) augment = transforms::parse_transform(config.augment);
  if (config.epochs < 1) throw UsageError("--epochs must be at least 1");
  if (config.batch < 1) throw UsageError("--batch must be at least 1");
  if (config.save_every < 1) throw UsageError("--save-every must be at least 1");
  if (config.git.enabled() && !(config.git.frac > 0 && config.git.frac <= 1))
    throw UsageError("--gen-frac must be in (0, 1]");

  models::ClassifierSpec spec;
  spec.arch = config.arch;
  spec.num_classes = train.num_classes();
  spec.channels = train.channels();
  spec.height = train.height();
  spec.width = train.width();
  spec.normed_linear = config.loss == "ldam";
  auto model = models::make_classifier(spec);
  const models::Normalization norm = models::Normalization::of(train.images);
  model->to(device);
  model->train();
  const bool channels_last = device.is_cpu();
  if (channels_last) models::use_channels_last(*model);

  Sgd opt(named_parameters(*model), config.momentum, config.wd);

  Schedule sched{config.lr, config.warmup, config.step1, config.step2};
  const auto weights_vec = effective_number_weights(counts, 0.9999);
  const auto class_weights = torch::tensor(weights_vec, torch::kDouble).to(device, torch::kFloat);

  // Where to start, and the best epoch so far (resume carries it over).
  int64_t start_epoch = 0, start_step = 0, best_epoch = -1;
  double best_val = -1;
  nlohmann::json best_val_metrics;
  if (!config.resume.empty()) {
    auto st = io::Safetensors::read(config.resume);
    nlohmann::json m = io::manifest_of(st);
    if (!m.is_object() || m.value("format", "") != checkpoint::kClassifierFormat)
      throw Error(st.source() + ": not a classifier checkpoint");
    for (const char* k : {"arch", "num_classes", "channels", "height", "width", "normed_linear"}) {
      nlohmann::json mine = checkpoint::describe_classifier(spec, norm, train.class_names, counts)[k];
      if (m.value(k, nlohmann::json()) != mine)
        throw Error(st.source() + ": checkpoint " + k + " is " + io::dump_json(m.value(k, nlohmann::json())) +
                    " but this run has " + io::dump_json(mine));
    }
    checkpoint::load_model_tensors(*model, st);
    opt.load_state(st, "optimizer.");
    start_epoch = m.value("epoch", int64_t{0});
    start_step = m.value("step_in_epoch", int64_t{0});
    best_epoch = m.value("best", nlohmann::json::object()).value("epoch", int64_t{-1});
    best_val = m.value("best", nlohmann::json::object()).value("val_accuracy", -1.0);
    best_val_metrics = m.value("best", nlohmann::json::object()).value("val", nlohmann::json());
    if (start_epoch >= config.epochs)
      throw UsageError(st.source() + " already finished " + std::to_string(start_epoch) +
                       " epochs; pass a larger --epochs to continue");
  }

  nlohmann::json base = checkpoint::describe_classifier(spec, norm, train.class_names, counts);
  base["training"] = config.to_json();
  base["training"]["train"] = in.train_name;
  if (in.val) base["training"]["val"] = in.val_name;
  base["rng"] = {{"seed", config.seed},
                 {"scheme", "epoch e draws its order, flips and augmentation from generators seeded with "
                            "epoch_seed(seed, stream, e) (invkit/random.h); model init from the seed"}};
  nlohmann::json history = train.extra.value("history", nlohmann::json::array());
  history.push_back(history_entry);
  base["history"] = history;

  // GIT: the generator runs forward only, on the training device.
  models::LoadedGenerator generator;
  torch::Tensor keep;
  if (config.git.enabled()) {
    generator = checkpoint::load_generator(config.git.generator, device);
    const auto& o = generator.options;
    if (o.channels != train.channels() || o.height != train.height() || o.width != train.width())
      throw Error(config.git.generator + ": the generator takes " + std::to_string(o.channels) + "x" +
                  std::to_string(o.height) + "x" + std::to_string(o.width) + " images but " + in.train_name + " has " +
                  std::to_string(train.channels()) + "x" + std::to_string(train.height()) + "x" +
                  std::to_string(train.width()));
    check_generator_classes(generator.manifest, config.git.generator, train, in.train_name);
    keep = torch::tensor(keep_probabilities(counts, config.git.threshold), torch::kDouble).to(device, torch::kFloat);
  }

  // Data stays uint8 on the device; batches are gathered and normalized there.
  const auto images = train.images.to(device);
  const auto labels = train.labels.to(device);
  const int64_t n = train.size();
  const int64_t steps = (n + config.batch - 1) / config.batch;
  SignalGuard signals;

  auto checkpoint = [&](const std::string& path, int64_t epoch, int64_t step, const nlohmann::json& metrics) {
    nlohmann::json m = base;
    m["epoch"] = epoch;
    m["step_in_epoch"] = step;
    m["metrics"] = metrics;
    m["best"] = {{"epoch", best_epoch}, {"val_accuracy", best_val}, {"val", best_val_metrics}};
    checkpoint::save_checkpoint(path, *model, opt.state("optimizer."), m);
  };
  std::string last_saved = "no checkpoint was written";
  if (!config.resume.empty()) last_saved = "the last good checkpoint is " + config.resume;

  auto evaluate = [&](const Dataset& d) {
    auto logits = models::predict_logits(*model, norm, d.images, config.batch, device);
    return metrics::classification_metrics(logits.argmax(1), d.labels, spec.num_classes, counts, config.shots);
  };

  nlohmann::json last_metrics;
  std::optional<BalancedSampler> balanced;  // made by the first epoch that samples class-balanced
  for (int64_t epoch = start_epoch; epoch < config.epochs; ++epoch) {
    const auto t_epoch = Clock::now();
    const double cpu_epoch = cpu_seconds();
    const EpochPlan plan = plan_for(rule, epoch, config.step1);
    const double lr = learning_rate(sched, epoch);
    if (plan.balanced_sampling && !balanced) balanced.emplace(train.labels, spec.num_classes);
    auto gen = cpu_generator(epoch_seed(config.seed, EpochStream::order, epoch));
    auto order = plan.balanced_sampling ? balanced->draw(n, gen) : shuffled_order(n, gen);
    torch::Tensor flips;
    if (config.flip) {
      auto fgen = cpu_generator(epoch_seed(config.seed, EpochStream::flip, epoch));
      flips = (torch::rand({n}, fgen) < 0.5).to(device);
    }
    const uint64_t augment_seed = epoch_seed(config.seed, EpochStream::augment, epoch);
    const auto order_dev = order.to(device);
    // GIT's twin batches: the same sampler, its own draws.
    const bool git_on = config.git.enabled() && (!config.git.delayed || epoch >= config.step1);
    torch::Tensor twin_order, uniforms;
    const uint64_t style_seed = epoch_seed(config.seed, EpochStream::style, epoch);
    if (git_on) {
      auto tgen = cpu_generator(epoch_seed(config.seed, EpochStream::twin, epoch));
      twin_order = (plan.balanced_sampling ? balanced->draw(n, tgen) : shuffled_order(n, tgen)).to(device);
      auto ugen = cpu_generator(epoch_seed(config.seed, EpochStream::keep, epoch));
      uniforms = torch::rand({n}, ugen).to(device);
    }
    const torch::Tensor weight = plan.class_weights ? class_weights : torch::Tensor();

    if (observer.epoch_begin) observer.epoch_begin(epoch, steps);
    double loss_sum = 0, data_seconds = 0, model_seconds = 0, generator_seconds = 0;
    int64_t seen = 0, generated = 0;
    auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(device));
    const int64_t first = epoch == start_epoch ? start_step : 0;
    for (int64_t step = first; step < steps; ++step) {
      auto t0 = Clock::now();
      const int64_t lo = step * config.batch, hi = std::min(n, lo + config.batch);
      auto rows = order_dev.slice(0, lo, hi);
      auto x = images.index_select(0, rows);
      auto y = labels.index_select(0, rows);
      if (git_on) {
        const auto t_gen = Clock::now();
        auto twin = twin_order.slice(0, lo, hi);
        auto twin_labels = labels.index_select(0, twin);
        auto mask = git_mask(config.git.frac, uniforms.slice(0, lo, hi), keep, twin_labels);
        // Style keys by position in the epoch, as for --augment.
        auto mixed = mix_git_batch(x, y, images.index_select(0, twin), twin_labels, mask,
                                   [&](const torch::Tensor& imgs, const torch::Tensor& at) {
                                     return models::generate(generator, imgs, style_seed, at.to(torch::kCPU) + lo);
                                   });
        x = mixed.images;
        y = mixed.labels;
        generated += mixed.generated.sum().item<int64_t>();
        generator_seconds += seconds_since(t_gen);
      }
      if (augment) {
        // Keys by position in the epoch (the seed is the epoch's): independent of --batch.
        auto keys = torch::arange(lo, hi, torch::kLong);
        x = augment->apply(x, augment_seed, keys);
      }
      if (flips.defined()) {
        auto f = flips.slice(0, lo, hi).view({-1, 1, 1, 1});
        x = torch::where(f, x.flip({3}), x);
      }
      auto xf = norm.apply(x);
      if (channels_last) xf = xf.contiguous(torch::MemoryFormat::ChannelsLast);
      auto t1 = Clock::now();
      data_seconds += std::chrono::duration<double>(t1 - t0).count();

      auto logits = model->forward(xf);
      auto loss = (*loss_fn)(logits, y, weight);
      const double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value))
        throw Error("loss is " + std::string(std::isnan(loss_value) ? "nan" : "inf") + " at epoch " +
                    std::to_string(epoch + 1) + " step " + std::to_string(step + 1) + " (global step " +
                    std::to_string(epoch * steps + step + 1) + "); stopped, " + last_saved);
      opt.zero_grad();
      loss.backward();
      opt.step(lr);
      correct += (logits.detach().argmax(1) == y).sum();
      model_seconds += seconds_since(t1);
      loss_sum += loss_value * static_cast<double>(hi - lo);
      seen += hi - lo;
      if (observer.step_end) observer.step_end(step + 1, loss_value);

      if (int sig = SignalGuard::pending()) {
        if (observer.epoch_end) observer.epoch_end(nullptr);
        const int64_t done_epoch = step + 1 == steps ? epoch + 1 : epoch;
        const int64_t done_step = step + 1 == steps ? 0 : step + 1;
        checkpoint(last_path(config.output), done_epoch, done_step, last_metrics);
        throw Error(std::string("interrupted by ") + SignalGuard::name(sig) + " at epoch " + std::to_string(epoch + 1) +
                    " step " + std::to_string(step + 1) + "; saved " + last_path(config.output) +
                    " (continue with --resume " + last_path(config.output) + ")");
      }
    }
    const double train_seconds = seconds_since(t_epoch);
    const double train_cpu = cpu_seconds() - cpu_epoch;

    nlohmann::json record = {{"epoch", epoch + 1},
                             {"lr", lr},
                             {"loss", seen ? loss_sum / static_cast<double>(seen) : 0.0},
                             {"train_acc", seen ? static_cast<double>(correct.item<int64_t>()) / seen : 0.0},
                             {"balanced_sampling", plan.balanced_sampling},
                             {"class_weights", plan.class_weights},
                             {"train_seconds", train_seconds},
                             {"data_seconds", data_seconds},
                             {"generated", seen ? static_cast<double>(generated) / seen : 0.0},
                             {"generator_seconds", generator_seconds},
                             {"model_seconds", model_seconds},
                             {"train_images_per_second", train_seconds > 0 ? seen / train_seconds : 0.0},
                             {"train_cpu_seconds", train_cpu}};
    bool improved = !in.val;
    if (in.val) {
      const auto t_val = Clock::now();
      const double cpu_val = cpu_seconds();
      auto vm = evaluate(*in.val);
      const double val_seconds = seconds_since(t_val);
      record["val_cpu_seconds"] = cpu_seconds() - cpu_val;
      record["val_acc"] = vm.accuracy;
      record["val_bacc"] = vm.balanced_accuracy;
      record["val_seconds"] = val_seconds;
      record["val_images_per_second"] = val_seconds > 0 ? in.val->size() / val_seconds : 0.0;
      if (vm.accuracy > best_val) {
        best_val = vm.accuracy;
        best_epoch = epoch + 1;
        best_val_metrics = {{"accuracy", vm.accuracy}, {"balanced_accuracy", vm.balanced_accuracy}};
        improved = true;
      }
    } else {
      best_epoch = epoch + 1;
    }
    record["seconds"] = seconds_since(t_epoch);
    if (observer.epoch_end) observer.epoch_end(record);
    last_metrics = record;

    const bool final_epoch = epoch + 1 == config.epochs;
    if (improved && (in.val || final_epoch || (epoch + 1) % config.save_every == 0))
      checkpoint(config.output, epoch + 1, 0, last_metrics);
    if (final_epoch || (epoch + 1) % config.save_every == 0) {
      checkpoint(last_path(config.output), epoch + 1, 0, last_metrics);
      last_saved = "the last good checkpoint is " + last_path(config.output) + " (epoch " + std::to_string(epoch + 1) + ")";
    }
  }

  nlohmann::json report = {{"checkpoint", config.output}, {"best_epoch", best_epoch}, {"epochs", config.epochs}};
  if (in.val) report["val"] = best_val_metrics;
  if (in.test) {
    // Test the kept (best) checkpoint, and record the result in it.
    auto st = io::Safetensors::read(config.output);
    auto best = checkpoint::load_classifier(st, device);
    auto logits = models::predict_logits(*best.model, best.normalization, in.test->images,
                                         config.batch, device);
    auto tm = metrics::classification_metrics(logits.argmax(1), in.test->labels, spec.num_classes, counts, config.shots);
    nlohmann::json tj = metrics::to_json(tm, train.class_names, counts, config.shots, false);
    tj["data"] = in.test_name;
    report["test"] = tj;
    nlohmann::json m = best.manifest;
    m["metrics"]["test"] = tj;
    io::NamedTensors tensors;
    for (const auto& t : st.tensors()) tensors.emplace_back(t.name, st.tensor(t.name));
    io::write_safetensors(config.output, tensors, io::metadata_with_manifest(m));
  }
  return report;
}

}  // namespace invkit::train
