// A progress bar on stderr (only when stderr is a terminal and not --quiet)
// and a JSON-lines log (--log FILE) for machines.
#pragma once
#include <chrono>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "invkit/observer.h"

namespace invkit::cli {

class Progress {
 public:
  // `total` steps of `unit` (e.g. "img", "it"); quiet or a non-terminal
  // stderr turns the bar off.
  Progress(std::string label, int64_t total, std::string unit, bool quiet);
  ~Progress();

  // Moves to `done` steps; `status` (e.g. "loss 0.31") is shown after the rate.
  void update(int64_t done, const std::string& status = "");
  void finish();

 private:
  std::string label_, unit_;
  int64_t total_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// Appends one JSON object per line to a file; a no-op without a path.
class JsonLog {
 public:
  explicit JsonLog(const std::string& path);
  void write(const nlohmann::json& record);

 private:
  std::string path_;
  std::ofstream out_;
};

// The tools' Observer: a Progress bar per stretch (in `unit`s, off when
// quiet) and each record as a line of the JsonLog `log_path`, opened when the
// first stretch begins (so a run that fails its checks leaves no log).
Observer progress_observer(const std::string& unit, bool quiet, const std::string& log_path);

}  // namespace invkit::cli
