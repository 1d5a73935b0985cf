// What a long-running library function reports while it works, for a front
// end to show and record. The training loops call these members, each
// optional, and know nothing of terminals or files; cli::progress_observer
// (cli/progress.h) draws the tools' progress bar and writes their --log.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace invkit {

struct Observer {
  // A stretch of `total` steps begins: one epoch of the classifier
  // ("epoch 3/50"), the whole run of the generator ("train-generator").
  std::function<void(const std::string& label, int64_t total)> begin;
  // After a step: the steps done so far in the stretch and a short status
  // ("loss 0.31").
  std::function<void(int64_t done, const std::string& status)> step;
  // The stretch ended, finished or stopped by a signal.
  std::function<void()> end;
  // One record for the log: per epoch (classifier) or per iteration (generator).
  std::function<void(const nlohmann::json& record)> record;
};

}  // namespace invkit
