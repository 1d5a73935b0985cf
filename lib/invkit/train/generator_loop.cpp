#include "invkit/train/generator_loop.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "invkit/checkpoint/generator.h"
#include "invkit/checkpoint/module_tensors.h"
#include "invkit/dist/group.h"
#include "invkit/dist/sync.h"
#include "invkit/error.h"
#include "invkit/io/image.h"
#include "invkit/io/manifest.h"
#include "invkit/io/safetensors.h"
#include "invkit/models/generator_sampling.h"
#include "invkit/random.h"
#include "invkit/train/signals.h"

namespace invkit::train {

namespace {

void set_requires_grad(torch::nn::Module& m, bool on) {
  for (auto& p : m.parameters()) p.set_requires_grad(on);
}

}  // namespace

// ---------------------------------------------------------------- options, losses

nlohmann::json GeneratorTrainOptions::to_json() const {
  return {{"iters", iters},         {"batch", batch},       {"lr", lr},
          {"beta1", beta1},         {"beta2", beta2},       {"weight_decay", weight_decay},
          {"lr_policy", "step"},    {"step_size", step_size}, {"gamma", gamma},
          {"gan_w", gan_w},         {"recon_x_w", recon_x_w}, {"recon_s_w", recon_s_w},
          {"recon_c_w", recon_c_w}, {"balanced", balanced}, {"flip", flip},
          {"seed", seed},           {"init", "kaiming (generator), gaussian 0.02 (discriminator)"}};
}

GeneratorTrainOptions GeneratorTrainOptions::from_json(const nlohmann::json& j, const std::string& source) {
  GeneratorTrainOptions o;
  try {
    o.iters = j.at("iters").get<int64_t>();
    o.batch = j.at("batch").get<int64_t>();
    o.lr = j.at("lr").get<double>();
    o.beta1 = j.at("beta1").get<double>();
    o.beta2 = j.at("beta2").get<double>();
    o.weight_decay = j.at("weight_decay").get<double>();
    o.step_size = j.at("step_size").get<int64_t>();
    o.gamma = j.at("gamma").get<double>();
    o.gan_w = j.at("gan_w").get<double>();
    o.recon_x_w = j.at("recon_x_w").get<double>();
    o.recon_s_w = j.at("recon_s_w").get<double>();
    o.recon_c_w = j.at("recon_c_w").get<double>();
    o.balanced = j.at("balanced").get<bool>();
    o.flip = j.at("flip").get<bool>();
    o.seed = j.at("seed").get<uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": generator manifest: training options: " + e.what());
  }
  // Counts that size tensors and loops: checked here, not left to LibTorch.
  if (o.iters < 1 || o.step_size < 1 || o.batch < 1 || o.batch > (int64_t(1) << 31))
    throw Error(source + ": generator manifest: training options: iters " + std::to_string(o.iters) + ", batch " +
                std::to_string(o.batch) + ", step_size " + std::to_string(o.step_size) +
                " (each must be at least 1, batch at most 2^31)");
  return o;
}

nlohmann::json GeneratorLosses::to_json() const {
  return {{"dis", dis}, {"gan", gan}, {"recon_x", recon_x}, {"recon_s", recon_s}, {"recon_c", recon_c}, {"total", total}};
}

std::string GeneratorLosses::status() const {
  char buf[128];
  std::snprintf(buf, sizeof buf, "D %.3f G %.3f x %.3f s %.3f c %.3f", dis, gan, recon_x, recon_s, recon_c);
  return buf;
}

// ---------------------------------------------------------------- random draws, batches

torch::Tensor to_uint8(const torch::Tensor& x) {
  return ((x + 1) * 127.5).round_().clamp_(0, 255).to(torch::kUInt8);
}

torch::Tensor to_unit(const torch::Tensor& images) { return images.to(torch::kFloat32).div_(127.5).sub_(1); }

GeneratorBatches::GeneratorBatches(const Dataset& data, const GeneratorTrainOptions& options, torch::Device device)
    : images_(data.images.to(device)), n_(data.size()), opt_(options) {
  if (n_ == 0) throw Error("train-generator: the training set has no images");
  data.advise_random_reads();
  if (options.balanced) balanced_.emplace(data.labels, data.num_classes());
}

torch::Tensor GeneratorBatches::rows(int64_t iteration) {
  const int64_t b = opt_.batch;
  if (balanced_) {
    auto gen = cpu_generator(iteration_seed(opt_.seed, IterationStream::balanced, iteration));
    return balanced_->draw(b, gen);
  }
  auto out = torch::empty({b}, torch::kInt64);
  auto* o = out.data_ptr<int64_t>();
  // Epochs of seeded permutations; a batch may straddle two epochs.
  for (int64_t j = 0; j < b; ++j) {
    int64_t k = iteration * b + j, epoch = k / n_;
    if (epoch != perm_epoch_) {
      auto gen = cpu_generator(iteration_seed(opt_.seed, IterationStream::data_epoch, epoch));
      perm_ = torch::randperm(n_, gen, torch::kInt64);
      perm_epoch_ = epoch;
    }
    o[j] = perm_.data_ptr<int64_t>()[k % n_];
  }
  return out;
}

torch::Tensor GeneratorBatches::batch(int64_t iteration) {
  auto r = rows(iteration).to(images_.device());
  torch::Tensor x = to_unit(images_.index_select(0, r));
  if (opt_.flip) {
    auto gen = cpu_generator(iteration_seed(opt_.seed, IterationStream::flip, iteration));
    auto flip = (torch::rand({opt_.batch}, gen) < 0.5).to(x.device()).view({-1, 1, 1, 1});
    x = torch::where(flip, x.flip({3}), x);
  }
  return x;
}

// ---------------------------------------------------------------- trainer

GeneratorTrainer::GeneratorTrainer(const models::MunitOptions& model, const GeneratorTrainOptions& train,
                                   torch::Device device)
    : model_(model), train_(train), device_(device) {
  model_.validate();
  if (train_.batch < 1) throw UsageError(param("batch") + " must be at least 1");
  if (train_.step_size < 1) throw UsageError(param("step_size") + " must be at least 1");
  torch::manual_seed(train_.seed);  // initialisation derives from the seed alone
  gen_ = models::AdaINGen(model_);
  dis_ = models::MsImageDis(model_);
  models::init_generator(gen_);
  models::init_discriminator(dis_);
  gen_->to(device_);
  dis_->to(device_);
  gen_opt_ = std::make_unique<Adam>(named_parameters(*gen_), train_.beta1, train_.beta2, train_.weight_decay);
  dis_opt_ = std::make_unique<Adam>(named_parameters(*dis_), train_.beta1, train_.beta2, train_.weight_decay);
}

double GeneratorTrainer::current_lr() const {
  return train_.lr * std::pow(train_.gamma, static_cast<double>(iteration_ / train_.step_size));
}

GeneratorLosses GeneratorTrainer::step(const torch::Tensor& x, int64_t offset) {
  gen_->train();
  dis_->train();
  const int64_t b = x.size(0);
  auto gen = cpu_generator(iteration_seed(train_.seed, IterationStream::style, iteration_));
  // Data-parallel: the rows' codes of the whole batch's draw.
  auto s_rand = group_ ? torch::randn({train_.batch, model_.style_dim, 1, 1}, gen, torch::kFloat32).narrow(0, offset, b)
                             .to(device_)
                       : torch::randn({b, model_.style_dim, 1, 1}, gen, torch::kFloat32).to(device_);
  const double lr = current_lr();

  // One encoding and one decoding pass serve both updates: the reconstruction
  // and the translation x' share a batch (AdaIN parameters are per sample),
  // and the discriminator sees x' detached (MUNIT draws a second style code
  // and decodes again for its discriminator step; the distribution is the same).
  auto content = gen_->encode_content(x);
  auto style = gen_->encode_style(x);
  auto out = gen_->decode(torch::cat({content, content}), torch::cat({style, s_rand}));
  auto x_recon = out.narrow(0, 0, b), x_fake = out.narrow(0, b, b);

  dis_opt_->zero_grad();
  auto loss_dis = dis_->dis_loss(x_fake.detach(), x) * train_.gan_w;
  loss_dis.backward();
  // Every term is a mean over rows of equal size: a rank's weight is its row count.
  if (group_) dist::reduce_gradients(*group_, dis_->parameters(), static_cast<double>(b), {});
  dis_opt_->step(lr);

  gen_opt_->zero_grad();
  auto c_recon = gen_->encode_content(x_fake);
  auto s_recon = gen_->encode_style(x_fake);
  auto recon_x = (x_recon - x).abs().mean();
  auto recon_s = (s_recon - s_rand).abs().mean();
  auto recon_c = (c_recon - content).abs().mean();
  set_requires_grad(*dis_, false);  // the generator's loss needs no discriminator weight gradients
  auto gan = dis_->gen_loss(x_fake);
  auto total = train_.gan_w * gan + train_.recon_x_w * recon_x + train_.recon_s_w * recon_s + train_.recon_c_w * recon_c;
  total.backward();
  set_requires_grad(*dis_, true);
  auto v = torch::stack({loss_dis.detach(), gan.detach(), recon_x.detach(), recon_s.detach(), recon_c.detach(),
                         total.detach()})
               .to(torch::kCPU, torch::kFloat64);
  auto* p = v.data_ptr<double>();
  GeneratorLosses losses{p[0], p[1], p[2], p[3], p[4], p[5]};
  if (group_) {
    const double w = static_cast<double>(b);
    const auto r = dist::reduce_gradients(*group_, gen_->parameters(), w,
                                          {p[0] * w, p[1] * w, p[2] * w, p[3] * w, p[4] * w, p[5] * w});
    const auto& e = r.extras;
    losses = {e[0] / r.weight, e[1] / r.weight, e[2] / r.weight, e[3] / r.weight, e[4] / r.weight, e[5] / r.weight};
  }
  gen_opt_->step(lr);
  ++iteration_;
  return losses;
}

void GeneratorTrainer::save(const std::string& path, const nlohmann::json& extra) const {
  io::NamedTensors tensors = checkpoint::model_tensors(*gen_, "gen.");
  for (auto& named : checkpoint::model_tensors(*dis_, "dis.")) tensors.push_back(std::move(named));
  for (auto& named : gen_opt_->state("optimizer.gen.")) tensors.push_back(std::move(named));
  for (auto& named : dis_opt_->state("optimizer.dis.")) tensors.push_back(std::move(named));
  nlohmann::json m = extra;
  m["format"] = checkpoint::kGeneratorFormat;
  m["architecture"] = "munit";
  m["model"] = model_.to_json();
  m["training"] = train_.to_json();
  m["iteration"] = iteration_;
  m["rng"] = {{"seed", train_.seed},
              {"iteration", iteration_},
              {"scheme", "iteration t draws from CPU generators seeded by iteration_seed(seed, stream, t) (invkit/random.h)"}};
  m["optimizer"] = {{"type", "adam"}, {"gen_steps", gen_opt_->steps()}, {"dis_steps", dis_opt_->steps()},
                    {"lr", current_lr()}};
  m["input"] = {{"channels", model_.channels},
                {"height", model_.height},
                {"width", model_.width},
                {"normalization", "x / 127.5 - 1 (uint8 to [-1, 1])"}};
  m["tensor_prefixes"] = {{"gen.", "AdaINGen state_dict"},
                          {"dis.", "MsImageDis state_dict"},
                          {"optimizer.", "Adam exp_avg / exp_avg_sq per parameter"}};
  io::write_safetensors(path, tensors, io::metadata_with_manifest(m));
}

GeneratorTrainer GeneratorTrainer::resume(const std::string& path, torch::Device device) {
  auto st = io::Safetensors::read(path);
  auto m = checkpoint::generator_manifest(st);
  auto model = models::MunitOptions::from_json(m.value("model", nlohmann::json::object()), path);
  auto train = GeneratorTrainOptions::from_json(m.value("training", nlohmann::json::object()), path);
  GeneratorTrainer t(model, train, device);
  checkpoint::load_model_tensors(*t.gen_, st, "gen.");
  checkpoint::load_model_tensors(*t.dis_, st, "dis.");
  t.gen_opt_->load_state(st, "optimizer.gen.");
  t.dis_opt_->load_state(st, "optimizer.dis.");
  try {
    t.iteration_ = m.at("iteration").get<int64_t>();
    t.gen_opt_->set_steps(m.at("optimizer").at("gen_steps").get<int64_t>());
    t.dis_opt_->set_steps(m.at("optimizer").at("dis_steps").get<int64_t>());
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": generator manifest: " + e.what());
  }
  t.manifest_ = m;
  return t;
}

// ---------------------------------------------------------------- samples, loop

torch::Tensor sample_grid(models::AdaINGen& gen, const torch::Tensor& images_u8, const torch::Tensor& styles) {
  torch::NoGradGuard no_grad;
  auto device = gen->parameters().front().device();
  auto x = to_unit(images_u8.to(device));
  const int64_t r = x.size(0), k = styles.size(0);
  auto content = gen->encode_content(x);
  std::vector<torch::Tensor> cols{x, gen->decode(content, gen->encode_style(x))};
  auto s = styles.to(device).reshape({k, -1});
  for (int64_t j = 0; j < k; ++j) cols.push_back(gen->decode(content, s[j].unsqueeze(0).expand({r, s.size(1)})));
  auto cells = torch::stack(cols, 1).reshape({r * (2 + k), x.size(1), x.size(2), x.size(3)});
  return io::image_grid(to_uint8(cells).cpu(), 2 + k);
}

void train_generator(GeneratorTrainer& trainer, const Dataset& data, const GeneratorRun& run, torch::Device device,
                     const Observer& observer, dist::Group* group) {
  GeneratorBatches batches(data, trainer.train_options(), device);
  const bool writes = group == nullptr || group->rank() == 0;  // checkpoint and sample grids
  if (group) {
    const int64_t batch = trainer.train_options().batch;
    if (batch < group->world())
      throw UsageError(param("batch") + " " + std::to_string(batch) + " is smaller than the " +
                       std::to_string(group->world()) + " ranks: each needs a row of every batch");
    trainer.set_group(group);
    dist::broadcast_state(*group, *trainer.gen());  // every rank starts from rank 0's networks
    dist::broadcast_state(*group, *trainer.dis());
  }
  auto save = [&] {
    if (!group) return trainer.save(run.output, run.extra);
    dist::broadcast_buffers(*group, *trainer.gen());
    dist::broadcast_buffers(*group, *trainer.dis());
    const std::string when = "at iteration " + std::to_string(trainer.iteration());
    dist::check_same_state(*group, *trainer.gen(), when);
    dist::check_same_state(*group, *trainer.dis(), when);
    if (!writes) return;
    nlohmann::json extra = run.extra;
    extra["distributed"] = {{"ranks", group->world()},
                            {"state", "the same bits on every rank (checked before saving)"}};
    trainer.save(run.output, extra);
  };
  // Sample grids: the same inputs (spread over the set) and style codes each time.
  torch::Tensor sample_images, sample_styles;
  if (run.sample_every > 0) {
    if (writes) std::filesystem::create_directories(run.samples_dir);
    const int64_t rows = std::min(run.sample_rows, data.size());
    sample_images = data.images.index_select(0, torch::linspace(0, data.size() - 1, rows).round().to(torch::kInt64));
    sample_styles = models::style_codes(trainer.model_options().style_dim,
                                        sample_grid_seed(trainer.train_options().seed),
                                        torch::arange(run.sample_styles, torch::kInt64));
  }
  SignalGuard signals;  // SIGINT/SIGTERM: save and stop after the iteration
  const int64_t iters = trainer.train_options().iters;
  if (observer.begin) observer.begin("generator", iters);
  const auto start = std::chrono::steady_clock::now();
  int stop_signal = 0, stop_rank = -1;
  while (trainer.iteration() < iters) {
    torch::Tensor x = batches.batch(trainer.iteration());
    int64_t offset = 0;
    if (group) {
      const auto [a, b] = dist::slice_of(0, x.size(0), group->rank(), group->world());
      x = x.slice(0, a, b);
      offset = a;
    }
    const GeneratorLosses l = trainer.step(x, offset);
    const int64_t it = trainer.iteration();
    if (observer.record) {
      nlohmann::json record = l.to_json();
      record["iteration"] = it;
      record["lr"] = trainer.current_lr();
      record["elapsed_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      observer.record(record);
    }
    if (observer.step) observer.step(it, l.status());
    if (writes && run.sample_every > 0 && it % run.sample_every == 0) {
      char name[32];
      std::snprintf(name, sizeof name, "iter_%08lld.png", static_cast<long long>(it));
      io::write_png((std::filesystem::path(run.samples_dir) / name).string(),
                    sample_grid(trainer.gen(), sample_images, sample_styles));
    }
    if (group) {  // every rank stops after the same iteration
      const dist::Stop stop = dist::agree_on_stop(*group, SignalGuard::pending());
      if (stop.signal) {
        stop_signal = stop.signal;
        stop_rank = stop.rank;
        break;
      }
    } else if (SignalGuard::pending()) {
      break;
    }
    if (!run.output.empty() && run.save_every > 0 && it % run.save_every == 0 && it < iters) save();
  }
  if (!run.output.empty()) save();
  if (observer.end) observer.end();
  if (int sig = group ? stop_signal : SignalGuard::pending()) {
    const std::string on_rank = stop_rank >= 0 ? " on rank " + std::to_string(stop_rank) : "";
    throw Error(std::string("interrupted by ") + SignalGuard::name(sig) + on_rank + " at iteration " +
                std::to_string(trainer.iteration()) + "; saved " + run.output + " (continue with " + param("resume") +
                " " + run.output + ")");
  }
}

}  // namespace invkit::train
