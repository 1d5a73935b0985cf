// A distributed launch read from the environment that torchrun or Slurm's
// srun gives each process: which rank this is, how many there are, where the
// rendezvous store is. No torch here, so it is cheap to include and to test.
//
// torchrun (and torch.distributed.launch) sets RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_RESTART_COUNT and
// TORCHELASTIC_USE_AGENT_STORE (its agent already serves the store). srun
// sets SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID and SLURM_STEP_TASKS_PER_NODE;
// the job script exports MASTER_ADDR and MASTER_PORT (docs/cluster.md).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace invkit::dist {

struct Launch {
  std::string source;       // "torchrun" or "srun"
  int rank = 0;             // 0 <= rank < world
  int world = 1;            // processes in the run
  int local_rank = 0;       // rank among the processes of this node
  int local_world = 1;      // processes on this node
  std::string addr;         // the store's host (MASTER_ADDR)
  uint16_t port = 0;        // the store's port (MASTER_PORT)
  bool agent_store = false; // torchrun's agent hosts the store: every rank is a client
  int restart = 0;          // TORCHELASTIC_RESTART_COUNT: the store's keys live under /worker/attempt_<restart>

  // "torchrun launch: rank 1 of 2 (local 1 of 2), store 127.0.0.1:29500"
  std::string describe() const;
};

// Reads one environment variable: its value, or nullopt when unset.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;
// The process's own environment (getenv).
Environment process_environment();

// The launch described by `env`, or nullopt when there is none (no WORLD_SIZE;
// no SLURM_NTASKS above 1 with MASTER_ADDR set) or it is of one process (a
// world of 1 trains as a plain process does).
//
// Throws Error naming the variable when a launch is half described: WORLD_SIZE
// without RANK, MASTER_ADDR or MASTER_PORT (as PyTorch's env:// does), a value
// that is not a number, a rank outside [0, world), a port outside [1, 65535].
//
// srun without MASTER_ADDR is not a launch (an sbatch script with --ntasks 4
// that runs a tool once, not under srun, must not wait for 3 peers):
// `slurm_note`, when given, receives a line saying so.
std::optional<Launch> detect_launch(const Environment& env, std::string* slurm_note = nullptr);

}  // namespace invkit::dist
