// The LDAM-DRW learning-rate schedule: linear warm-up over the first
// `warmup` epochs, then lr, x0.01 after `step1` epochs, x0.0001 after `step2`.
#pragma once
#include <cstdint>

namespace invkit::train {

struct Schedule {
  double lr = 0.1;
  int64_t warmup = 5;
  int64_t step1 = 160;
  int64_t step2 = 180;
};

// The learning rate of 0-based `epoch`. With E = epoch + 1: lr*E/warmup
// while E <= warmup, lr*1e-4 when E > step2, lr*1e-2 when E > step1, else lr.
double learning_rate(const Schedule& s, int64_t epoch);

}  // namespace invkit::train
