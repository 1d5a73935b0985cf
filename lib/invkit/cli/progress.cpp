#include "invkit/cli/progress.h"

#include <unistd.h>

#include <cstdio>
#include <memory>

#include "invkit/error.h"
#include "invkit/io/text.h"

namespace invkit::cli {

Progress::Progress(std::string label, int64_t total, std::string unit, bool quiet)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      enabled_(!quiet && ::isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::seconds(1)) {}

Progress::~Progress() { finish(); }

void Progress::update(int64_t done, const std::string& status) {
  if (!enabled_ || finished_) return;
  auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? done / secs : 0;
  double eta = rate > 0 && total_ > done ? (total_ - done) / rate : 0;
  const int width = 24;
  int filled = total_ > 0 ? static_cast<int>(width * std::min<double>(1.0, double(done) / total_)) : 0;
  std::string bar(filled, '#');
  bar.append(width - filled, '.');
  std::fprintf(stderr, "\r%s [%s] %lld/%lld %.1f %s/s ETA %.0fs %s\033[K", label_.c_str(), bar.c_str(),
               static_cast<long long>(done), static_cast<long long>(total_), rate, unit_.c_str(), eta, status.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  std::fprintf(stderr, "\n");
}

JsonLog::JsonLog(const std::string& path) : path_(path) {
  if (path_.empty()) return;
  out_.open(path_, std::ios::out | std::ios::trunc);
  if (!out_) throw Error(path_ + ": cannot open the log for writing");
}

void JsonLog::write(const nlohmann::json& record) {
  if (path_.empty()) return;
  out_ << io::dump_json(record) << "\n";
  out_.flush();
  if (!out_) throw Error(path_ + ": writing the log failed");
}

Observer progress_observer(const std::string& unit, bool quiet, const std::string& log_path) {
  struct State {
    std::unique_ptr<Progress> bar;
    std::unique_ptr<JsonLog> log;
  };
  auto state = std::make_shared<State>();
  Observer o;
  o.begin = [=](const std::string& label, int64_t total) {
    if (!state->log) state->log = std::make_unique<JsonLog>(log_path);
    state->bar = std::make_unique<Progress>(label, total, unit, quiet);
  };
  o.step = [=](int64_t done, const std::string& status) { state->bar->update(done, status); };
  o.end = [=] { state->bar->finish(); };
  o.record = [=](const nlohmann::json& record) { state->log->write(record); };
  return o;
}

}  // namespace invkit::cli
