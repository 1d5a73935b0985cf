// The classifier training loop: seeded epochs over a sampler chosen by the
// balancing rule, the LDAM-DRW schedule, validation every epoch, the best
// and the last checkpoint, exact resume, clean stop on SIGINT/SIGTERM.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "invkit/data/dataset.h"
#include "invkit/metrics/accuracy.h"
#include "invkit/observer.h"
#include "invkit/train/git.h"

namespace invkit::dist {
class Group;
}

namespace invkit::train {

// train-classifier's options; written into the checkpoint as "training".
struct TrainConfig {
  std::string output;           // CKPT (the kept epoch); CKPT + ".last" is the last epoch
  std::string keep = "best";    // which epoch CKPT keeps: best (validation accuracy) or last
  std::string arch = "resnet32";  // resnet20|32|44|56|cnn
  std::string loss = "ce";      // ce|ldam|focal
  std::string rule = "erm";     // erm|resample|reweight|drw|drs
  int64_t epochs = 200;
  int64_t warmup = 5;           // linear warm-up epochs
  int64_t step1 = 160;          // lr x0.01 after this many epochs; DRW/DRS switch on
  int64_t step2 = 180;          // lr x0.0001 after this many epochs
  int64_t batch = 128;
  double lr = 0.1;
  double momentum = 0.9;
  double wd = 2e-4;             // weight decay
  std::string augment;          // transform spec applied to training batches
  bool flip = false;            // random horizontal flips
  GitOptions git;               // Generative Invariance Transfer
  int64_t save_every = 1;       // write CKPT.last every N epochs
  bool allow_empty_classes = false;
  metrics::ShotThresholds shots;
  std::string resume;           // CKPT.last to continue from
  uint64_t seed = 0;

  nlohmann::json to_json() const;
};

struct TrainInputs {
  Dataset train;
  std::optional<Dataset> val, test;
  std::string train_name, val_name, test_name;  // for messages
};

// Checks that val/test fit the training set (channels, size, classes) and
// that no training class is empty unless allowed; re-expresses the val/test
// labels in the training set's classes, matched by name (data/class_match.h:
// another order is remapped, a split lacking a class is fine, an unknown
// name is an Error). Throws Error naming the file.
void check_inputs(const TrainConfig& config, TrainInputs& in);

// Trains and returns the report printed on stdout: checkpoint, best_epoch,
// epochs, val (best epoch) and test metrics (of the best checkpoint). The
// observer sees one stretch per epoch ("epoch E/N", its steps) and one record
// per finished epoch (lr, loss, train_acc, timings, val_acc, ...). SIGINT or
// SIGTERM stops after the step under way, saves CKPT.last and throws Error.
//
// With a `group` (dist/group.h) this process is one rank of a data-parallel
// run, and every rank calls this with the same config and inputs: rank 0's
// initial (or resumed) state is copied to all; every rank draws the same
// epoch (order, flips, augmentation, GIT) and trains on its slice of each
// global batch of config.batch rows (dist::slice_of); the gradients are
// those of the global batch (dist::reduce_gradients), so the parameters stay
// the same bits on every rank; rank 0's BatchNorm statistics are copied to
// all before each validation and checkpoint; validation is split among the
// ranks; only rank 0 writes checkpoints, tests the kept one and reports test
// metrics (the others' reports lack "test"). A signal to any rank stops all
// of them on the same step, and rank 0 saves CKPT.last. Checkpoints do not
// depend on the number of ranks, so a run resumes on any number.
nlohmann::json train_classifier(const TrainConfig& config, TrainInputs in, torch::Device device,
                                const nlohmann::json& history_entry, const Observer& observer = {},
                                dist::Group* group = nullptr);

}  // namespace invkit::train
