// What every tool shares: its command line, the common options, error
// reporting and exit codes, threads, device and seed. A tool's main() is:
//
//   int main(int argc, char** argv) {
//     invkit::cli::Tool tool("inspect", "Print the manifest of an invkit file", "inspect set.st");
//     ... tool.app().add_option(...) ...
//     return tool.run(argc, argv, [&] { ... });
//   }
#pragma once
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace invkit::cli {

// Number checks for options, with messages that say what is expected
// ("--epochs: expected a number above 0, got 0"); CLI11's own print the whole
// range of a double.
extern const CLI::Validator kPositive;     // a number > 0
extern const CLI::Validator kNonNegative;  // a number >= 0

// Options several tools share; each tool adds the ones it uses.
struct CommonOptions {
  std::string device = "auto";  // auto|cpu|cuda|cuda:N
  int threads = 0;              // 0 = all cores
  uint64_t seed = 0;            // every random draw derives from it
  bool quiet = false;           // no progress bar
  std::string log;              // JSON lines, one per step/epoch
};

class Tool {
 public:
  // `examples` are shell lines shown at the end of --help.
  Tool(std::string name, std::string description, std::string examples);

  CLI::App& app() { return app_; }
  CommonOptions& common() { return common_; }
  const std::string& name() const { return name_; }

  Tool& add_device();
  Tool& add_threads();
  Tool& add_seed();
  Tool& add_quiet();
  // --log FILE; `records` says what is written, e.g. "one JSON object per epoch".
  Tool& add_log(const std::string& records);
  // --many N and --few N: the shot groups of the classes by training size
  // (many-shot: more than N examples; few-shot: fewer than N; medium between),
  // checked after parsing: 0 <= few <= many + 1.
  Tool& add_shot_groups(int64_t& many, int64_t& few);
  // How a generator is sampled (models::LoadedGenerator): --style-temperature
  // T, its style codes drawn from N(0, T^2 I), T >= 0; --gen-precision fp32|bf16,
  // the arithmetic of its forward pass (models::parse_precision reads it).
  Tool& add_generator_sampling(double& temperature, std::string& precision);

  // Parses argv and runs `body`. Returns the exit status: 0 on success, 2 for
  // a usage error (CLI11's or UsageError), 1 for any other failure; the
  // message goes to stderr as "NAME: error: MESSAGE".
  int run(int argc, char** argv, const std::function<void()>& body);

  // The device chosen by --device (valid once run() parsed the options).
  torch::Device device() const;

  // Prints "NAME: note: TEXT" on stderr; nothing when `text` is empty.
  void note(const std::string& text) const;

  // {tool, version, arguments, seed}: how an output was made. Arguments
  // that are not UTF-8 are stored escaped (io/text.h); their indices are
  // then listed under "escaped_arguments".
  nlohmann::json history_entry() const;

 private:
  std::string name_;
  CLI::App app_;
  CommonOptions common_;
  std::vector<std::string> arguments_;
  bool has_seed_ = false;
  int64_t* many_ = nullptr;
  int64_t* few_ = nullptr;
};

// "auto" → CUDA when present, else CPU; "cpu"; "cuda"; "cuda:N".
torch::Device parse_device(const std::string& spec);

// UsageError unless 0 <= few <= many + 1 (--many, --few).
void check_shot_groups(int64_t many, int64_t few);

// Sets torch's intra-op threads; 0 means every core.
void set_threads(int threads);

}  // namespace invkit::cli
