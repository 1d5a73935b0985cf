// Training MUNIT on one domain mapped to itself (x' = dec(content(x), s),
// s ~ N(0, I)): the losses, Adam, the lr step decay, one iteration, the batch
// sampler and the checkpoint (checkpoint/generator.h).
//
// Every random draw of iteration t comes from a CPU generator seeded with
// (seed, t), so the "RNG state" of a run is its seed and iteration count, and
// a resumed run repeats an uninterrupted one weight for weight (same device).
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "invkit/data/dataset.h"
#include "invkit/models/munit.h"
#include "invkit/observer.h"
#include "invkit/train/optimizers.h"
#include "invkit/train/rules.h"

namespace invkit::dist {
class Group;
}

namespace invkit::train {

struct GeneratorTrainOptions {
  int64_t iters = 10000;        // total iterations of the run
  int64_t batch = 1;            // images per iteration
  double lr = 1e-4;             // Adam, both networks
  double beta1 = 0.5;
  double beta2 = 0.999;
  double weight_decay = 1e-4;   // L2 added to the gradient (torch.optim.Adam)
  int64_t step_size = 100000;   // lr × gamma every step_size iterations (MUNIT and the paper's K49 config)
  double gamma = 0.5;
  double gan_w = 1, recon_x_w = 10, recon_s_w = 1, recon_c_w = 1;  // loss weights
  bool balanced = false;        // class-balanced sampling of training images
  bool flip = false;            // random horizontal flips
  uint64_t seed = 0;            // init, batches, flips, style codes

  nlohmann::json to_json() const;
  static GeneratorTrainOptions from_json(const nlohmann::json& j, const std::string& source);
};

// The loss terms of one iteration (plain numbers, for logs).
struct GeneratorLosses {
  double dis = 0, gan = 0, recon_x = 0, recon_s = 0, recon_c = 0, total = 0;
  nlohmann::json to_json() const;
  std::string status() const;  // "D 0.50 G 0.25 x 0.301 s 0.12 c 0.20" for the progress bar
};

// Draws the training batches: uint8 images kept on the device, scaled to
// [-1, 1] per batch. Uniform sampling walks seeded epoch permutations;
// balanced sampling is train-classifier's (BalancedSampler, train/rules.h).
class GeneratorBatches {
 public:
  GeneratorBatches(const Dataset& data, const GeneratorTrainOptions& options, torch::Device device);
  // Batch of iteration t, float [-1, 1] [batch, C, H, W] on the device.
  torch::Tensor batch(int64_t iteration);
  // Row indices of iteration t's batch (for tests).
  torch::Tensor rows(int64_t iteration);

 private:
  torch::Tensor images_;  // uint8 on the device
  std::optional<BalancedSampler> balanced_;
  int64_t n_;
  GeneratorTrainOptions opt_;
  int64_t perm_epoch_ = -1;
  torch::Tensor perm_;
};

// Images in [-1, 1] → uint8 (round((x + 1) · 127.5), clamped), same device.
torch::Tensor to_uint8(const torch::Tensor& x);
// uint8 → float in [-1, 1].
torch::Tensor to_unit(const torch::Tensor& images);

class GeneratorTrainer {
 public:
  // A fresh run: builds and initialises both networks from options.seed.
  GeneratorTrainer(const models::MunitOptions& model, const GeneratorTrainOptions& train, torch::Device device);
  // Continues the run saved in `path` (networks, optimizers, iteration).
  static GeneratorTrainer resume(const std::string& path, torch::Device device);

  // One iteration on x (float [-1, 1] on the device): a discriminator update
  // on x' = dec(content(x), s) (detached) and x, then a generator update.
  //
  // Data-parallel (set_group): x is this rank's slice of the iteration's
  // batch, its rows `offset`, offset + 1, ... of options().batch; the style
  // codes are those of the same rows of the whole batch, each update applies
  // the whole batch's gradients (dist::reduce_gradients) and the losses are
  // the whole batch's, on every rank.
  GeneratorLosses step(const torch::Tensor& x, int64_t offset = 0);
  // The group this trainer is one rank of (nullptr: none); not owned.
  void set_group(dist::Group* group) { group_ = group; }

  // Saves networks, optimizer state and the manifest (plus `extra` keys, e.g.
  // data and history) atomically to `path`.
  void save(const std::string& path, const nlohmann::json& extra = nlohmann::json::object()) const;

  int64_t iteration() const { return iteration_; }
  double current_lr() const;
  models::AdaINGen& gen() { return gen_; }
  models::MsImageDis& dis() { return dis_; }
  const models::MunitOptions& model_options() const { return model_; }
  GeneratorTrainOptions& train_options() { return train_; }
  const nlohmann::json& saved_manifest() const { return manifest_; }  // of the resumed file

 private:
  models::MunitOptions model_;
  GeneratorTrainOptions train_;
  torch::Device device_;
  models::AdaINGen gen_{nullptr};
  models::MsImageDis dis_{nullptr};
  std::unique_ptr<Adam> gen_opt_, dis_opt_;
  int64_t iteration_ = 0;
  nlohmann::json manifest_;
  dist::Group* group_ = nullptr;
};

// A sample grid as in MUNIT's image display: one row per input image: the
// input, its reconstruction, then one column per style code in `styles`
// [K, style_dim]. Returns uint8 [C, H', W'].
torch::Tensor sample_grid(models::AdaINGen& gen, const torch::Tensor& images_u8, const torch::Tensor& styles);

// A run around a trainer, as train-generator makes it: where and when to
// save, and sample grids.
struct GeneratorRun {
  std::string output;         // checkpoint: every save_every iterations, on a signal and at the end; empty: never saved
  nlohmann::json extra = nlohmann::json::object();  // manifest keys saved with it (data, history)
  int64_t save_every = 0;     // 0: only at the end (and on a signal)
  int64_t sample_every = 0;   // 0: no sample grids
  std::string samples_dir;    // where the grids iter_NNNNNNNN.png go (made if missing)
  int64_t sample_rows = 8;    // inputs per grid, spread evenly over the set, the same each time
  int64_t sample_styles = 6;  // style codes per row, the same each time
};

// Trains until the trainer's options().iters on `data` (whose image shape is
// the model's), one GeneratorTrainer::step per iteration. The observer sees
// one stretch ("generator", iters) with a step per iteration, and a record
// per iteration: the losses, iteration, lr and elapsed_s. SIGINT or SIGTERM
// stops after the iteration under way, saves run.output and throws Error.
//
// With a `group` (dist/group.h) this process is one rank of a data-parallel
// run and every rank calls this alike: rank 0's networks are copied to all,
// each rank trains on its slice of each batch (dist::slice_of; the batch must
// have a row for every rank, else UsageError), only rank 0 writes the
// checkpoint and the sample grids, and a signal to any rank stops every rank
// after the same iteration. The checkpoint does not depend on the number of
// ranks: a run resumes on any number.
void train_generator(GeneratorTrainer& trainer, const Dataset& data, const GeneratorRun& run, torch::Device device,
                     const Observer& observer = {}, dist::Group* group = nullptr);

}  // namespace invkit::train
