#include "invkit/train/classifier_loop.h"

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "invkit/checkpoint/classifier.h"
#include "invkit/checkpoint/generator.h"
#include "invkit/data/class_match.h"
#include "invkit/dist/group.h"
#include "invkit/dist/sync.h"
#include "invkit/error.h"
#include "invkit/io/manifest.h"
#include "invkit/io/safetensors.h"
#include "invkit/io/text.h"
#include "invkit/models/classifier.h"
#include "invkit/models/generator_sampling.h"
#include "invkit/observer.h"
#include "invkit/random.h"
#include "invkit/train/losses.h"
#include "invkit/train/rules.h"
#include "invkit/train/optimizers.h"
#include "invkit/train/schedule.h"
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

std::string last_path(const std::string& ckpt) { return ckpt + ".last"; }

// Checks that a val/test set `d` fits the training set and re-expresses its
// labels in the training set's classes, matched by name.
void check_fits(Dataset& d, const std::string& name, const Dataset& train, const std::string& train_name) {
  if (d.image_shape() != train.image_shape())
    throw Error(name + ": images are " + d.image_shape().str() + " but " + train_name + " has " +
                train.image_shape().str());
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
          {"gen_style_temperature", git.style_temperature},
          {"gen_precision", models::precision_name(git.precision)},
          {"save_every", save_every},
          {"keep", keep},
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
                    "\") has no training examples (pass " + param("allow_empty_classes") + " to train anyway)");
  // An empty validation or test set would score every epoch 0 (and pick one of them as the best).
  if (in.val) in.val->require_rows(in.val_name, "a validation set needs rows to pick the best epoch by");
  if (in.test) in.test->require_rows(in.test_name, "a test set needs rows to measure accuracy on");
  if (in.val) check_fits(*in.val, in.val_name, train, in.train_name);
  if (in.test) check_fits(*in.test, in.test_name, train, in.train_name);
}

namespace {

// One run's state between epochs: the network and its optimizer, the data on
// the device, the recipe's pieces, and where the run stands.
struct Run {
  Run(const TrainConfig& c, const TrainInputs& i, torch::Device d) : config(c), in(i), device(d) {}
  const TrainConfig& config;
  const TrainInputs& in;
  const torch::Device device;
  dist::Group* group = nullptr;       // data-parallel: this process is one of its ranks
  bool writes() const { return group == nullptr || group->rank() == 0; }  // checkpoints, test metrics
  std::vector<torch::Tensor> params;  // the model's, in a fixed order (for the gradient sums)
  models::ClassifierSpec spec;
  models::Normalization norm;
  std::vector<int64_t> counts;
  std::shared_ptr<models::ClassifierImpl> model;
  std::unique_ptr<Sgd> opt;
  std::unique_ptr<Loss> loss_fn;
  std::unique_ptr<transforms::Transform> augment;  // --augment, or none
  Rule rule = Rule::Erm;
  torch::Tensor class_weights;    // float [K] on the device
  torch::Tensor images, labels;   // the training set on the device: uint8, int64
  bool channels_last = false;
  models::LoadedGenerator generator;  // GIT
  torch::Tensor keep;                 // GIT: float [K], keep_probabilities
  std::optional<BalancedSampler> balanced;  // made by the first epoch that samples class-balanced
  checkpoint::ResumePoint at;         // where the run stands
  nlohmann::json base;                // the manifest every checkpoint shares
  nlohmann::json last_metrics;        // the last finished epoch's record
  std::string last_saved = "no checkpoint was written";
};

// What an epoch draws, each from its own stream seeded by (seed, epoch).
struct EpochDraws {
  torch::Tensor order;        // int64 [N] on the device: the rows, batch after batch
  torch::Tensor flips;        // bool [N] on the device, or undefined without --flip
  uint64_t augment_seed = 0;  // --augment's, keyed by position in the epoch
  bool git = false;           // GIT is on this epoch
  torch::Tensor twin_order;   // GIT: int64 [N] on the device, the twin batches' rows
  torch::Tensor uniforms;     // GIT: float [N] on the device, for the keep draw
  uint64_t style_seed = 0;    // GIT: style codes, keyed by position in the epoch
};

EpochDraws draw_epoch(Run& run, int64_t epoch, const EpochPlan& plan) {
  const TrainConfig& config = run.config;
  const int64_t n = run.in.train.size();
  if (plan.balanced_sampling && !run.balanced) run.balanced.emplace(run.in.train.labels, run.spec.num_classes);
  auto sample = [&](torch::Generator& gen) {
    return plan.balanced_sampling ? run.balanced->draw(n, gen) : shuffled_order(n, gen);
  };
  EpochDraws d;
  auto gen = cpu_generator(epoch_seed(config.seed, EpochStream::order, epoch));
  d.order = sample(gen).to(run.device);
  if (config.flip) {
    auto fgen = cpu_generator(epoch_seed(config.seed, EpochStream::flip, epoch));
    d.flips = (torch::rand({n}, fgen) < 0.5).to(run.device);
  }
  d.augment_seed = epoch_seed(config.seed, EpochStream::augment, epoch);
  // GIT's twin batches: the same sampler, its own draws.
  d.git = config.git.enabled() && (!config.git.delayed || epoch >= config.step1);
  d.style_seed = epoch_seed(config.seed, EpochStream::style, epoch);
  if (d.git) {
    auto tgen = cpu_generator(epoch_seed(config.seed, EpochStream::twin, epoch));
    d.twin_order = sample(tgen).to(run.device);
    auto ugen = cpu_generator(epoch_seed(config.seed, EpochStream::keep, epoch));
    d.uniforms = torch::rand({n}, ugen).to(run.device);
  }
  return d;
}

// The batch of rows [lo, hi) of the epoch, as the network sees it: GIT's
// generated rows, --augment, flips, normalized. Adds to `generated` the rows
// the generator made.
torch::Tensor make_batch(Run& run, const EpochDraws& d, int64_t lo, int64_t hi, torch::Tensor& y,
                         int64_t& generated, double& generator_seconds) {
  auto rows = d.order.slice(0, lo, hi);
  auto x = run.images.index_select(0, rows);
  y = run.labels.index_select(0, rows);
  if (d.git) {
    const auto t_gen = Clock::now();
    auto twin = d.twin_order.slice(0, lo, hi);
    auto twin_labels = run.labels.index_select(0, twin);
    auto mask = git_mask(run.config.git.frac, d.uniforms.slice(0, lo, hi), run.keep, twin_labels);
    // Style keys by position in the epoch, as for --augment.
    auto mixed = mix_git_batch(x, y, run.images.index_select(0, twin), twin_labels, mask,
                               [&](const torch::Tensor& imgs, const torch::Tensor& at) {
                                 return models::generate(run.generator, imgs, d.style_seed, at.to(torch::kCPU) + lo);
                               });
    x = mixed.images;
    y = mixed.labels;
    generated += mixed.generated.sum().item<int64_t>();
    generator_seconds += seconds_since(t_gen);
  }
  // Keys by position in the epoch (the seed is the epoch's): independent of --batch.
  if (run.augment) x = run.augment->apply(x, d.augment_seed, torch::arange(lo, hi, torch::kLong));
  if (d.flips.defined()) x = torch::where(d.flips.slice(0, lo, hi).view({-1, 1, 1, 1}), x.flip({3}), x);
  auto xf = run.norm.apply(x);
  if (run.channels_last) xf = xf.contiguous(torch::MemoryFormat::ChannelsLast);
  return xf;
}

// How an epoch ended: its training record, or the signal that stopped it
// after `steps_done` steps.
struct EpochOutcome {
  nlohmann::json record;
  int signal = 0;
  int signal_rank = -1;  // data-parallel: the rank that received it
  int64_t steps_done = 0;
};

std::string non_finite_loss(double loss_value, int64_t epoch, int64_t step, int64_t steps, const std::string& saved) {
  return "loss is " + std::string(std::isnan(loss_value) ? "nan" : "inf") + " at epoch " + std::to_string(epoch + 1) +
         " step " + std::to_string(step + 1) + " (global step " + std::to_string(epoch * steps + step + 1) +
         "); stopped, " + saved;
}

// What the ranks of a data-parallel step agree on.
struct SharedStep {
  double loss = 0;         // the global batch's mean loss
  int64_t correct = 0;     // rows of the global batch predicted right
  int64_t generated = 0;   // GIT rows of the global batch
  dist::Stop stop;         // a signal any rank received
};

// The forward and backward pass of this rank's slice of the global batch
// [lo, hi), and the sum of the ranks' gradients (the optimizer step is the
// caller's, once the loss is known to be finite).
SharedStep shared_step(Run& run, const EpochDraws& d, const torch::Tensor& weight, int64_t lo, int64_t hi,
                       double& data_seconds, double& generator_seconds) {
  dist::Group& g = *run.group;
  const auto [a, b] = dist::slice_of(lo, hi, g.rank(), g.world());
  run.opt->zero_grad();
  double local_weight = 0, local_loss = 0, local_correct = 0;
  int64_t local_generated = 0;
  if (a < b) {
    const auto t0 = Clock::now();
    torch::Tensor y;
    auto x = make_batch(run, d, a, b, y, local_generated, generator_seconds);
    data_seconds += seconds_since(t0);
    auto logits = run.model->forward(x);
    auto loss = (*run.loss_fn)(logits, y, weight);
    loss.backward();
    local_weight = run.loss_fn->normalizer(y, weight);
    local_loss = loss.item<double>() * local_weight;
    local_correct = (logits.detach().argmax(1) == y).sum().item<double>();
  }
  std::vector<double> extras{local_loss, local_correct, static_cast<double>(local_generated)};
  const auto slots = dist::stop_slots(g, SignalGuard::pending());
  extras.insert(extras.end(), slots.begin(), slots.end());
  const dist::Reduced r = dist::reduce_gradients(g, run.params, local_weight, extras);
  SharedStep out;
  out.loss = r.weight > 0 ? r.extras[0] / r.weight : std::nan("");
  out.correct = std::llround(r.extras[1]);
  out.generated = std::llround(r.extras[2]);
  out.stop = dist::read_stop(r.extras, 3, g.world());
  return out;
}

// One epoch of SGD from step `first_step` on (torchvision's train_one_epoch).
EpochOutcome train_one_epoch(Run& run, int64_t epoch, int64_t first_step, const Observer& observer) {
  const TrainConfig& config = run.config;
  const auto t_epoch = Clock::now();
  const double cpu_epoch = cpu_seconds();
  const EpochPlan plan = plan_for(run.rule, epoch, config.step1);
  const double lr = learning_rate(Schedule{config.lr, config.warmup, config.step1, config.step2}, epoch);
  const EpochDraws draws = draw_epoch(run, epoch, plan);
  const torch::Tensor weight = plan.class_weights ? run.class_weights : torch::Tensor();
  const int64_t n = run.in.train.size();
  const int64_t steps = (n + config.batch - 1) / config.batch;

  if (observer.begin) observer.begin("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(config.epochs), steps);
  double loss_sum = 0, data_seconds = 0, model_seconds = 0, generator_seconds = 0;
  int64_t seen = 0, generated = 0;
  auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(run.device));
  for (int64_t step = first_step; step < steps; ++step) {
    const auto t0 = Clock::now();
    const int64_t lo = step * config.batch, hi = std::min(n, lo + config.batch);
    if (run.group) {
      const double data_before = data_seconds;
      const SharedStep shared = shared_step(run, draws, weight, lo, hi, data_seconds, generator_seconds);
      if (!std::isfinite(shared.loss)) throw Error(non_finite_loss(shared.loss, epoch, step, steps, run.last_saved));
      run.opt->step(lr);
      model_seconds += seconds_since(t0) - (data_seconds - data_before);  // forward, backward, the sums, the update
      correct += shared.correct;
      generated += shared.generated;
      loss_sum += shared.loss * static_cast<double>(hi - lo);
      seen += hi - lo;
      if (observer.step) {
        char status[32];
        std::snprintf(status, sizeof status, "loss %.4g", shared.loss);
        observer.step(step + 1, status);
      }
      if (shared.stop.signal) {
        if (observer.end) observer.end();
        return {nullptr, shared.stop.signal, shared.stop.rank, step + 1};
      }
      continue;
    }
    torch::Tensor y;
    auto x = make_batch(run, draws, lo, hi, y, generated, generator_seconds);
    const auto t1 = Clock::now();
    data_seconds += std::chrono::duration<double>(t1 - t0).count();

    auto logits = run.model->forward(x);
    auto loss = (*run.loss_fn)(logits, y, weight);
    const double loss_value = loss.item<double>();
    if (!std::isfinite(loss_value)) throw Error(non_finite_loss(loss_value, epoch, step, steps, run.last_saved));
    run.opt->zero_grad();
    loss.backward();
    run.opt->step(lr);
    correct += (logits.detach().argmax(1) == y).sum();
    model_seconds += seconds_since(t1);
    loss_sum += loss_value * static_cast<double>(hi - lo);
    seen += hi - lo;
    if (observer.step) {
      char status[32];
      std::snprintf(status, sizeof status, "loss %.4g", loss_value);
      observer.step(step + 1, status);
    }
    if (int sig = SignalGuard::pending()) {
      if (observer.end) observer.end();
      return {nullptr, sig, -1, step + 1};
    }
  }
  const double train_seconds = seconds_since(t_epoch);
  auto per_image = [&](double total) { return seen ? total / static_cast<double>(seen) : 0.0; };
  EpochOutcome out;
  out.steps_done = steps;
  out.record = {{"epoch", epoch + 1},
                {"lr", lr},
                {"loss", per_image(loss_sum)},
                {"train_acc", per_image(static_cast<double>(correct.item<int64_t>()))},
                {"balanced_sampling", plan.balanced_sampling},
                {"class_weights", plan.class_weights},
                {"train_seconds", train_seconds},
                {"data_seconds", data_seconds},
                {"generated", per_image(static_cast<double>(generated))},
                {"generator_seconds", generator_seconds},
                {"model_seconds", model_seconds},
                {"train_images_per_second", train_seconds > 0 ? seen / train_seconds : 0.0},
                {"train_cpu_seconds", cpu_seconds() - cpu_epoch}};
  return out;
}

// Accuracy of `model` on `d` (torchvision's evaluate).
metrics::ClassMetrics evaluate(Run& run, models::ClassifierImpl& model, const models::Normalization& norm,
                               const Dataset& d) {
  auto logits = models::predict_logits(model, norm, d.images, run.config.batch, run.device);
  return metrics::classification_metrics(logits.argmax(1), d.labels, run.spec.num_classes, run.counts,
                                         run.config.shots);
}

// Data-parallel: accuracy of the run's model on `d`, each rank predicting its
// slice of the rows; every rank gets the same metrics.
metrics::ClassMetrics evaluate_shared(Run& run, const Dataset& d) {
  dist::Group& g = *run.group;
  const int64_t n = d.size(), k = run.spec.num_classes;
  const auto [a, b] = dist::slice_of(0, n, g.rank(), g.world());
  auto all = torch::zeros({n, k}, torch::kFloat);  // each row filled by one rank, zeros elsewhere: the sum is exact
  if (a < b)
    all.slice(0, a, b).copy_(
        models::predict_logits(*run.model, run.norm, d.images.slice(0, a, b), run.config.batch, run.device));
  all = dist::sum_on_cpu(g, all);
  return metrics::classification_metrics(all.argmax(1), d.labels, k, run.counts, run.config.shots);
}

// Validates the epoch just trained into `record`; true when it is the best so far.
bool validate(Run& run, int64_t epoch, nlohmann::json& record) {
  if (!run.in.val) {
    run.at.best_epoch = epoch + 1;
    return true;
  }
  const auto t_val = Clock::now();
  const double cpu_val = cpu_seconds();
  if (run.group) dist::broadcast_buffers(*run.group, *run.model);  // rank 0's BatchNorm statistics
  auto vm = run.group ? evaluate_shared(run, *run.in.val) : evaluate(run, *run.model, run.norm, *run.in.val);
  const double val_seconds = seconds_since(t_val);
  record["val_cpu_seconds"] = cpu_seconds() - cpu_val;
  record["val_acc"] = vm.accuracy;
  record["val_bacc"] = vm.balanced_accuracy;
  record["val_seconds"] = val_seconds;
  record["val_images_per_second"] = val_seconds > 0 ? run.in.val->size() / val_seconds : 0.0;
  if (!(vm.accuracy > run.at.best_val_accuracy)) return false;
  run.at.best_val_accuracy = vm.accuracy;
  run.at.best_epoch = epoch + 1;
  run.at.best_val = {{"accuracy", vm.accuracy}, {"balanced_accuracy", vm.balanced_accuracy}};
  return true;
}

void save(Run& run, const std::string& path) {
  nlohmann::json m = run.base;
  if (run.group) {
    dist::broadcast_buffers(*run.group, *run.model);  // rank 0's BatchNorm statistics, which it writes
    dist::check_same_state(*run.group, *run.model, "after epoch " + std::to_string(run.at.epoch) + " step " +
                                                       std::to_string(run.at.step_in_epoch));
    if (!run.writes()) return;
    m["distributed"] = {{"ranks", run.group->world()},
                        {"state", "the same bits on every rank (checked before saving)"}};
  }
  checkpoint::write_resume_point(m, run.at);
  m["metrics"] = run.last_metrics;
  checkpoint::save_checkpoint(path, *run.model, run.opt->state("optimizer."), m);
}

// Builds the network, optimizer and recipe of a fresh run, or of the run
// saved in config.resume.
void set_up(Run& run, const nlohmann::json& history_entry) {
  const TrainConfig& config = run.config;
  const TrainInputs& in = run.in;
  const Dataset& train = in.train;
  run.rule = parse_rule(config.rule);
  run.counts = train.class_counts();
  run.loss_fn = make_loss(config.loss, run.counts);
  if (!config.augment.empty()) run.augment = transforms::parse_transform(config.augment);
  if (config.epochs < 1) throw UsageError(param("epochs") + " must be at least 1");
  if (config.batch < 1) throw UsageError(param("batch") + " must be at least 1");
  if (config.save_every < 1) throw UsageError(param("save_every") + " must be at least 1");
  if (config.keep != "best" && config.keep != "last")
    throw UsageError(param("keep") + " " + config.keep + ": expected best or last");
  if (config.git.enabled() && !(config.git.frac > 0 && config.git.frac <= 1))
    throw UsageError(param("gen_frac") + " must be in (0, 1]");

  run.spec.arch = config.arch;
  run.spec.num_classes = train.num_classes();
  run.spec.channels = train.channels();
  run.spec.height = train.height();
  run.spec.width = train.width();
  run.spec.normed_linear = config.loss == "ldam";
  run.model = models::make_classifier(run.spec);  // initialized from torch's global generator (the tool seeds it)
  run.norm = models::Normalization::of(train.images);  // reads the set in order, once
  train.advise_random_reads();                          // then batches are drawn at random
  run.model->to(run.device);
  run.model->train();
  run.channels_last = run.device.is_cpu();
  if (run.channels_last) models::use_channels_last(*run.model);
  run.opt = std::make_unique<Sgd>(named_parameters(*run.model), config.momentum, config.wd);
  run.class_weights =
      torch::tensor(effective_number_weights(run.counts, 0.9999), torch::kDouble).to(run.device, torch::kFloat);

  run.base = checkpoint::describe_classifier(run.spec, run.norm, train.class_names, run.counts);
  if (!config.resume.empty()) {
    auto st = io::Safetensors::read(config.resume);
    run.at = checkpoint::read_resume_point(st, run.base);
    checkpoint::load_model_tensors(*run.model, st);
    run.opt->load_state(st, "optimizer.");
    if (run.at.epoch >= config.epochs)
      throw UsageError(st.source() + " already finished " + std::to_string(run.at.epoch) +
                       " epochs; pass a larger " + param("epochs") + " to continue");
    run.last_saved = "the last good checkpoint is " + config.resume;
  }
  run.base["training"] = config.to_json();
  run.base["training"]["train"] = in.train_name;
  if (in.val) run.base["training"]["val"] = in.val_name;
  run.base["rng"] = {{"seed", config.seed},
                     {"scheme", "epoch e draws its order, flips and augmentation from generators seeded with "
                                "epoch_seed(seed, stream, e) (invkit/random.h); model init from the seed"}};
  nlohmann::json history = train.extra.value("history", nlohmann::json::array());
  history.push_back(history_entry);
  run.base["history"] = history;

  // GIT: the generator runs forward only, on the training device.
  if (config.git.enabled()) {
    run.generator = checkpoint::load_generator(config.git.generator, run.device);
    run.generator.style_temperature = config.git.style_temperature;
    run.generator.precision = config.git.precision;
    const auto& o = run.generator.options;
    const ImageShape takes{o.channels, o.height, o.width};
    if (takes != train.image_shape())
      throw Error(config.git.generator + ": the generator takes " + takes.str() + " images but " + in.train_name +
                  " has " + train.image_shape().str());
    check_generator_classes(run.generator.manifest, config.git.generator, train, in.train_name);
    run.keep = torch::tensor(keep_probabilities(run.counts, config.git.threshold), torch::kDouble)
                   .to(run.device, torch::kFloat);
  }
  // Data stays uint8 on the device; batches are gathered and normalized there.
  run.images = train.images.to(run.device);
  run.labels = train.labels.to(run.device);
  if (run.group) {
    run.params = run.model->parameters();
    dist::broadcast_state(*run.group, *run.model);  // every rank starts from rank 0's weights
  }
}

// Test metrics of the kept (best) checkpoint, also recorded in it.
nlohmann::json test_best(Run& run) {
  const TrainConfig& config = run.config;
  auto st = io::Safetensors::read(config.output);
  auto best = checkpoint::load_classifier(st, run.device);
  auto tm = evaluate(run, *best.model, best.normalization, *run.in.test);
  nlohmann::json tj = metrics::to_json(tm, run.in.train.class_names, run.counts, config.shots, false);
  tj["data"] = run.in.test_name;
  nlohmann::json m = best.manifest;
  m["metrics"]["test"] = tj;
  io::NamedTensors tensors;
  for (const auto& t : st.tensors()) tensors.emplace_back(t.name, st.tensor(t.name));
  io::write_safetensors(config.output, tensors, io::metadata_with_manifest(m));
  return tj;
}

}  // namespace

nlohmann::json train_classifier(const TrainConfig& config, TrainInputs in, torch::Device device,
                                const nlohmann::json& history_entry, const Observer& observer, dist::Group* group) {
  check_inputs(config, in);
  Run run(config, in, device);
  run.group = group;
  set_up(run, history_entry);
  SignalGuard signals;
  const std::string last = last_path(config.output);
  for (int64_t epoch = run.at.epoch; epoch < config.epochs; ++epoch) {
    const auto t_epoch = Clock::now();
    const int64_t first_step = epoch == run.at.epoch ? run.at.step_in_epoch : 0;
    EpochOutcome out = train_one_epoch(run, epoch, first_step, observer);
    if (out.signal) {
      const int64_t steps = (in.train.size() + config.batch - 1) / config.batch;
      run.at.epoch = out.steps_done == steps ? epoch + 1 : epoch;
      run.at.step_in_epoch = out.steps_done == steps ? 0 : out.steps_done;
      save(run, last);
      const std::string on_rank = out.signal_rank >= 0 ? " on rank " + std::to_string(out.signal_rank) : "";
      throw Error(std::string("interrupted by ") + SignalGuard::name(out.signal) + on_rank + " at epoch " +
                  std::to_string(epoch + 1) + " step " + std::to_string(out.steps_done) + "; saved " + last +
                  " (continue with " + param("resume") + " " + last + ")");
    }
    nlohmann::json& record = out.record;
    const bool improved = validate(run, epoch, record);
    record["seconds"] = seconds_since(t_epoch);
    if (observer.end) observer.end();
    if (observer.record) observer.record(record);
    run.last_metrics = record;

    // Checkpoint policy: CKPT keeps the best epoch by validation accuracy
    // (the last one without a validation set), or the last one (keep =
    // last, as the paper's code tests its final weights); CKPT.last every
    // save_every epochs and at the end.
    run.at.epoch = epoch + 1;
    run.at.step_in_epoch = 0;
    const bool final_epoch = epoch + 1 == config.epochs;
    const bool due = final_epoch || (epoch + 1) % config.save_every == 0;
    if (config.keep == "last" ? final_epoch : improved && (in.val || due)) save(run, config.output);
    if (due) {
      save(run, last);
      run.last_saved = "the last good checkpoint is " + last + " (epoch " + std::to_string(epoch + 1) + ")";
    }
  }

  nlohmann::json report = {{"checkpoint", config.output}, {"best_epoch", run.at.best_epoch}, {"epochs", config.epochs}};
  if (config.keep == "last") report["kept_epoch"] = config.epochs;
  if (in.val) report["val"] = run.at.best_val;
  if (in.test && run.writes()) report["test"] = test_best(run);
  return report;
}

}  // namespace invkit::train
