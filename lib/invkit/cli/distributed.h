// What a training tool does when torchrun or srun started it as one of
// several processes (dist/launch.h): say so on stderr, divide the cores
// among the processes of the node, and join their group (dist/group.h).
#pragma once
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "invkit/cli/tool.h"
#include "invkit/dist/group.h"

namespace invkit::cli {

struct DistributedOptions {
  double timeout = 1800;  // seconds to wait for the store, the other ranks and each collective
};

// --dist-timeout SECONDS.
void add_distributed_options(CLI::App& app, DistributedOptions& options);

// Without a launch in the environment: nullptr, and nothing is printed or
// changed. With one: prints "TOOL: torchrun launch: rank R of W ..." on
// stderr, sets the intra-op threads to --threads, or when it is 0 to this
// process's cores divided by the processes on its node (at least 1; srun's
// SLURM_CPUS_PER_TASK when set), and joins the group. Throws Error as
// dist::detect_launch and dist::join do.
std::unique_ptr<dist::Group> start_distributed(Tool& tool, const DistributedOptions& options, torch::Device device);

// The threads a rank uses for --threads 0: `cores` / `local_world`, at least 1.
int threads_per_rank(int cores, int local_world);

}  // namespace invkit::cli
