#include "invkit/cli/tool.h"

#include <cmath>

#include <c10/util/Exception.h>

#include <malloc.h>

#include <cstdio>
#include <iostream>
#include <thread>

#include "invkit/error.h"
#include "invkit/io/text.h"

namespace invkit::cli {

namespace {

// A validator that `value` (an option's text) is a number and that `ok` holds.
CLI::Validator number_check(const std::string& what, bool (*ok)(double)) {
  return CLI::Validator(
      [what, ok](std::string& value) -> std::string {
        size_t used = 0;
        double v = 0;
        try {
          v = std::stod(value, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != value.size() || !std::isfinite(v) || !ok(v))
          return "expected " + what + ", got " + value;
        return "";
      },
      what);
}

}  // namespace

const CLI::Validator kPositive = number_check("a number above 0", [](double v) { return v > 0; });
const CLI::Validator kNonNegative = number_check("a number 0 or above", [](double v) { return v >= 0; });

namespace {

// Whether `app` or one of its subcommands has the option `flag`.
bool has_option(const CLI::App& app, const std::string& flag) {
  if (app.get_option_no_throw(flag) != nullptr) return true;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    if (has_option(*sub, flag)) return true;
  return false;
}

}  // namespace

Tool::Tool(std::string name, std::string description, std::string examples)
    : name_(std::move(name)), app_(std::move(description), name_) {
  app_.set_version_flag("--version", std::string(name_) + " (invkit) " + INVKIT_VERSION);
  app_.footer("Examples:\n" + examples +
              "\n\nExit status: 0 on success, 1 on bad input or a failed step, 2 on a usage error.");
  app_.option_defaults()->always_capture_default();
}

Tool& Tool::add_device() {
  app_.add_option("--device", common_.device, "auto|cpu|cuda|cuda:N (auto = CUDA when present)");
  return *this;
}
Tool& Tool::add_threads() {
  app_.add_option("--threads", common_.threads, "CPU threads (0 = all cores)")->check(kNonNegative);
  return *this;
}
Tool& Tool::add_seed() {
  app_.add_option("--seed", common_.seed, "random seed; the same seed gives the same bytes on the same device");
  has_seed_ = true;
  return *this;
}
Tool& Tool::add_quiet() {
  app_.add_flag("-q,--quiet", common_.quiet, "no progress bar");
  return *this;
}
Tool& Tool::add_log(const std::string& records) {
  app_.add_option("--log", common_.log, "write " + records + " to FILE (JSON lines)");
  return *this;
}

torch::Device parse_device(const std::string& spec) {
  if (spec == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (spec == "cpu") return torch::Device(torch::kCPU);
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available()) throw UsageError("--device " + spec + ": CUDA is not available on this machine");
    int index = 0;
    if (spec.size() > 5) {
      try {
        size_t used = 0;
        index = std::stoi(spec.substr(5), &used);
        if (used != spec.size() - 5 || index < 0) throw std::invalid_argument(spec);
      } catch (const std::exception&) {
        throw UsageError("--device " + spec + ": expected cuda:N with N a device number");
      }
      if (index >= static_cast<int>(torch::cuda::device_count()))
        throw UsageError("--device " + spec + ": only " + std::to_string(torch::cuda::device_count()) + " CUDA devices");
    }
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw UsageError("--device " + spec + ": expected auto, cpu, cuda or cuda:N");
}

// glibc maps every allocation above a threshold afresh and returns freed heap
// to the kernel, so each batch's activations page-fault in again (a tenth of
// measure-ekld's time). Keep freed memory for reuse instead.
static void keep_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest allowed value
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

void set_threads(int threads) {
  int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
}

void check_shot_groups(int64_t many, int64_t few) {
  if (few < 0 || few > many + 1)
    throw UsageError("--few " + std::to_string(few) + " and --many " + std::to_string(many) +
                     ": need 0 <= few <= many + 1");
}

Tool& Tool::add_shot_groups(int64_t& many, int64_t& few) {
  app_.add_option("--many", many, "many-shot: classes with more training examples than N");
  app_.add_option("--few", few, "few-shot: classes with fewer training examples than N");
  many_ = &many;
  few_ = &few;
  return *this;
}

Tool& Tool::add_generator_sampling(double& temperature, std::string& precision) {
  app_.add_option("--style-temperature", temperature,
                  "draw the generator's style codes from N(0, T^2 I): below 1 closer to typical nuisances, 0 one "
                  "output per image (default 1, the training prior)")
      ->check(kNonNegative);
  app_.add_option("--gen-precision", precision,
                  "the generator's arithmetic: fp32 (exact, default) or bf16 (autocast to bfloat16: about 2.5x "
                  "faster on CPUs with AVX512-BF16 or AMX, outputs within a few grey levels)");
  return *this;
}

torch::Device Tool::device() const { return parse_device(common_.device); }

void Tool::note(const std::string& text) const {
  if (!text.empty()) std::cerr << name_ << ": note: " << text << std::endl;
}

nlohmann::json Tool::history_entry() const {
  // Arguments that are not UTF-8 (a path with a Latin-1 byte) are stored in
  // the escaped form of io/text.h, and listed, so they can be undone exactly.
  nlohmann::json arguments = nlohmann::json::array(), escaped = nlohmann::json::array();
  for (size_t i = 0; i < arguments_.size(); ++i) {
    arguments.push_back(io::escape_text(arguments_[i]));
    if (!io::is_utf8(arguments_[i])) escaped.push_back(i);
  }
  nlohmann::json h = {{"tool", name_}, {"version", INVKIT_VERSION}, {"arguments", arguments}};
  if (!escaped.empty()) h["escaped_arguments"] = escaped;
  if (has_seed_) h["seed"] = common_.seed;
  return h;
}

int Tool::run(int argc, char** argv, const std::function<void()>& body) {
  for (int i = 1; i < argc; ++i) arguments_.emplace_back(argv[i]);
  // A subcommand (convert idx ...) answers --version as its tool does.
  for (CLI::App* sub : app_.get_subcommands([](CLI::App*) { return true; }))
    sub->set_version_flag("--version", app_.version());
  auto report = [&](const std::string& message) {
    std::fflush(stdout);
    std::cerr << name_ << ": error: " << message << std::endl;
  };
  // A parameter named in a library message (error.h) is shown as this tool's
  // option for it, "--per-class" for per_class, where the tool has one.
  const auto spell = [&](const std::string& name) {
    std::string flag = "--" + name;
    for (char& c : flag)
      if (c == '_') c = '-';
    return has_option(app_, flag) ? flag : name;
  };
  try {
    try {
      app_.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
      return app_.exit(e, std::cout, std::cerr);
    } catch (const CLI::CallForAllHelp& e) {
      return app_.exit(e, std::cout, std::cerr);
    } catch (const CLI::CallForVersion& e) {
      std::cout << e.what() << std::endl;
      return 0;
    } catch (const CLI::ParseError& e) {
      report(std::string(e.what()) + " (see " + name_ + " --help)");
      return 2;
    }
    if (many_) check_shot_groups(*many_, *few_);
    keep_freed_memory();
    set_threads(common_.threads);
    if (has_seed_) torch::manual_seed(common_.seed);
    body();
    std::cout.flush();
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      report("writing to standard output failed");
      return 1;
    }
    return 0;
  } catch (const UsageError& e) {
    report(render_params(e.text(), spell));
    return 2;
  } catch (const Error& e) {
    report(render_params(e.text(), spell));
    return 1;
  } catch (const c10::Error& e) {
    report(e.what_without_backtrace());
    return 1;
  } catch (const std::bad_alloc&) {
    report("out of memory");
    return 1;
  } catch (const std::exception& e) {
    report(e.what());
    return 1;
  } catch (...) {
    report("unknown failure");
    return 1;
  }
}

}  // namespace invkit::cli
