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
// SLURM_CPUS_PER_TASK when set), and joins the group on this rank's device
// (rank_device of --device, which `device` is): the tool trains on the
// group's device(). Throws Error as dist::detect_launch and dist::join do,
// UsageError as rank_device does.
std::unique_ptr<dist::Group> start_distributed(Tool& tool, const DistributedOptions& options, torch::Device device);

// The device a rank trains on, given --device `spec` (`parsed`: what it
// names in one process), its rank on the node and the node's ranks, and the
// GPUs it sees (torch::cuda::device_count()). The CPU, and an explicit
// cuda:N, stay. cuda, or auto on a machine with GPUs, becomes cuda:LOCAL_RANK
// when the node has a GPU per rank (as torchrun users write
// torch.cuda.set_device(LOCAL_RANK)), and cuda:0 when the rank sees one GPU
// (its own, as with Slurm's --gpus-per-task). Throws UsageError when the
// rank sees several GPUs but fewer than the node's ranks (NCCL needs a GPU
// per rank).
torch::Device rank_device(const std::string& spec, torch::Device parsed, int local_rank, int local_world, int gpus);

// The threads a rank uses for --threads 0: `cores` / `local_world`, at least 1.
int threads_per_rank(int cores, int local_world);

}  // namespace invkit::cli
