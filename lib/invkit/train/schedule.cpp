#include "invkit/train/schedule.h"

namespace invkit::train {

double learning_rate(const Schedule& s, int64_t epoch) {
  const int64_t e = epoch + 1;
  if (e <= s.warmup) return s.lr * static_cast<double>(e) / static_cast<double>(s.warmup);
  if (e > s.step2) return s.lr * 1e-4;
  if (e > s.step1) return s.lr * 1e-2;
  return s.lr;
}

}  // namespace invkit::train
