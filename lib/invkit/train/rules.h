// Class-balancing rules (the paper's ERM, resampling, reweighting, DRW, DRS)
// and the seeded samplers that draw each epoch's example order.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace invkit::train {

enum class Rule { Erm, Resample, Reweight, Drw, Drs };

Rule parse_rule(const std::string& name);  // UsageError unless erm|resample|reweight|drw|drs
std::string rule_name(Rule rule);

// What a rule does in a given (0-based) epoch: DRW and DRS switch on at
// epoch `step1`, the epoch whose learning rate first drops.
struct EpochPlan {
  bool balanced_sampling = false;  // class-balanced sampler instead of a shuffle
  bool class_weights = false;      // effective-number weights in the loss
};
EpochPlan plan_for(Rule rule, int64_t epoch, int64_t step1);

// Cui et al.'s effective-number weights: w_j = (1 - beta) / (1 - beta^n_j),
// scaled so that they sum to the number of classes; empty classes get 0.
std::vector<double> effective_number_weights(const std::vector<int64_t>& class_counts, double beta = 0.9999);

// A uniform random permutation of [0, n).
torch::Tensor shuffled_order(int64_t n, torch::Generator& gen);

// Class-balanced draws with replacement: every non-empty class is equally
// likely and rows within a class are equally likely (LDAM-DRW's sampler;
// DRS epochs, and train-generator --balanced). Built once per data set.
class BalancedSampler {
 public:
  // labels: int64 [N] in [0, num_classes); an Error when no class has a row.
  BalancedSampler(const torch::Tensor& labels, int64_t num_classes);
  // n row numbers, int64 [n] on the CPU: for each, a class by randint over
  // the non-empty ones, then a row of it by one uniform draw.
  torch::Tensor draw(int64_t n, torch::Generator& gen) const;

 private:
  torch::Tensor nonempty_, counts_, start_, by_class_;
};

}  // namespace invkit::train
