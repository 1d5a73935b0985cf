// The steps of data-parallel training over a Group, on torch tensors alone:
// the same initial state everywhere, each rank's slice of a global batch,
// the gradients of the global batch from the ranks' partial ones, and a stop
// that every rank takes on the same step.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "invkit/dist/group.h"

namespace invkit::dist {

// Rows [first, last) of the global batch [lo, hi) that `rank` of `world`
// trains on: contiguous, in rank order, sizes differing by at most one (a
// rank may get none when hi - lo < world).
std::pair<int64_t, int64_t> slice_of(int64_t lo, int64_t hi, int rank, int world);

// Rank 0's parameters and buffers copied into `module` on every rank, bit for
// bit (one flat broadcast per dtype). Every rank's module has the same
// architecture (the same tensors, in the same order, of the same shapes).
void broadcast_state(Group& group, torch::nn::Module& module);
// Rank 0's buffers only (BatchNorm's running statistics, which each rank
// updates from its own slice): the state is consistent before evaluation and
// checkpoints. Parameters need no copy: they stay identical.
void broadcast_buffers(Group& group, torch::nn::Module& module);

// The elementwise sum over the ranks of each rank's CPU tensor `t`, on the
// CPU: it travels on the group's device (the GPU under NCCL) and back.
torch::Tensor sum_on_cpu(Group& group, const torch::Tensor& t);

// A 64-bit digest of the bytes of `module`'s parameters and buffers.
uint64_t state_digest(torch::nn::Module& module);
// Checks that every rank's `module` holds the same parameters and buffers,
// bit for bit (one allreduce of the ranks' digests). Throws the same Error on
// every rank otherwise, naming the ranks that differ from rank 0 and `when`.
void check_same_state(Group& group, torch::nn::Module& module, const std::string& when);

struct Reduced {
  double weight = 0;           // the sum of the ranks' weights
  std::vector<double> extras;  // the sums of the ranks' extras
};

// Call after each rank's backward of its own mean loss
//   L_r = sum_{i in rank r's rows} c_i / W_r,
// W_r being `weight` (the normalizer of that mean: its row count, or its sum
// of class weights for a weighted loss; 0 for a rank without rows). Makes
// every gradient of `params` that of the global mean sum_i c_i / sum_r W_r,
// i.e. sum_r W_r grad(L_r) / sum_r W_r: exact for an uneven split, a short
// last batch and weighted losses, where a mean of the ranks' gradients is not.
// The result is the same bits on every rank.
//
// params: the same list on every rank (same order, shapes, dtypes); a
// gradient that is undefined counts as zeros and is defined afterwards.
// extras: numbers summed across ranks in the same allreduce (loss sums,
// counts, stop slots), the same count on every rank, carried in the
// gradients' dtype (float32: counts exact below 2^24).
// Gradients travel in flat buckets of about `bucket_bytes`.
Reduced reduce_gradients(Group& group, const std::vector<torch::Tensor>& params, double weight,
                         const std::vector<double>& extras, int64_t bucket_bytes = int64_t(25) << 20);

// A signal one rank received (SIGINT/SIGTERM), agreed by all.
struct Stop {
  int signal = 0;  // 0: carry on
  int rank = -1;   // the lowest rank that received it
};
// This rank's part of a stop agreement: world() numbers, `signal` at rank().
std::vector<double> stop_slots(const Group& group, int signal);
// The agreement from the summed slots, read from `slots` at `offset`.
Stop read_stop(const std::vector<double>& slots, size_t offset, int world);
// One allreduce of the slots: every rank returns the same Stop.
Stop agree_on_stop(Group& group, int signal);

}  // namespace invkit::dist
