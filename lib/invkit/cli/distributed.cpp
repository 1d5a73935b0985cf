#include "invkit/cli/distributed.h"

#include <sched.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "invkit/dist/launch.h"
#include "invkit/error.h"

namespace invkit::cli {

namespace {

// CPUs this process may run on (its affinity mask), else the machine's.
int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

int threads_per_rank(int cores, int local_world) { return std::max(1, cores / std::max(1, local_world)); }

torch::Device rank_device(const std::string& spec, torch::Device parsed, int local_rank, int local_world, int gpus) {
  if (!parsed.is_cuda() || spec.rfind("cuda:", 0) == 0) return parsed;
  if (gpus >= local_world) return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank));
  if (gpus == 1) return torch::Device(torch::kCUDA, 0);
  throw UsageError("--device " + spec + ": " + std::to_string(local_world) + " ranks on this node but " +
                   std::to_string(gpus) + " GPUs: NCCL needs a GPU per rank (start at most " + std::to_string(gpus) +
                   " per node, or make each rank see its own GPU)");
}

void add_distributed_options(CLI::App& app, DistributedOptions& options) {
  app.add_option("--dist-timeout", options.timeout,
                 "under torchrun or srun: seconds to wait for the other processes to arrive and for each exchange "
                 "with them before failing")
      ->check(kPositive);
}

std::unique_ptr<dist::Group> start_distributed(Tool& tool, const DistributedOptions& options, torch::Device device) {
  std::string note;
  auto launch = dist::detect_launch(dist::process_environment(), &note);
  tool.note(note);
  if (!launch) return nullptr;
  int threads = tool.common().threads;
  if (threads == 0) {
    const char* per_task = std::getenv("SLURM_CPUS_PER_TASK");
    threads = launch->source == "srun" && per_task != nullptr && std::atoi(per_task) > 0
                  ? std::atoi(per_task)
                  : threads_per_rank(usable_cores(), launch->local_world);
  }
  set_threads(threads);
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(std::llround(options.timeout * 1000.0)));
  const auto mine = rank_device(tool.common().device, device, launch->local_rank, launch->local_world,
                                static_cast<int>(torch::cuda::device_count()));
  std::cerr << tool.name() << ": " << launch->describe() << "; " << threads << (threads == 1 ? " thread" : " threads")
            << (mine.is_cuda() ? "; " + mine.str() : "") << std::endl;
  return dist::join(*launch, mine, timeout);
}

}  // namespace invkit::cli
