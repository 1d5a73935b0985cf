#include "invkit/dist/launch.h"

#include <cstdlib>
#include <vector>

#include "invkit/error.h"

namespace invkit::dist {

namespace {

// A whole decimal number in [lo, hi] from variable `name`, else an Error.
long long number(const std::string& name, const std::string& value, long long lo, long long hi) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || v < lo || v > hi)
    throw Error("environment variable " + name + "=" + value + ": expected a whole number from " +
                std::to_string(lo) + " to " + std::to_string(hi));
  return v;
}

// Slurm's compressed tasks per node ("2(x3),1": 2, 2, 2, 1), expanded.
std::vector<int> tasks_per_node(const std::string& spec) {
  std::vector<int> out;
  size_t at = 0;
  while (at < spec.size()) {
    size_t end = spec.find(',', at);
    if (end == std::string::npos) end = spec.size();
    const std::string item = spec.substr(at, end - at);
    const size_t paren = item.find("(x");
    try {
      const int tasks = std::stoi(item.substr(0, paren));
      const int repeat = paren == std::string::npos ? 1 : std::stoi(item.substr(paren + 2));
      for (int i = 0; i < repeat && out.size() < 100000; ++i) out.push_back(tasks);
    } catch (const std::exception&) {
      return {};
    }
    at = end + 1;
  }
  return out;
}

}  // namespace

std::string Launch::describe() const {
  return source + " launch: rank " + std::to_string(rank) + " of " + std::to_string(world) + " (local " +
         std::to_string(local_rank) + " of " + std::to_string(local_world) + "), store " + addr + ":" +
         std::to_string(port) + (agent_store ? " (torchrun's agent)" : "");
}

Environment process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::optional<Launch> detect_launch(const Environment& env, std::string* slurm_note) {
  auto required = [&](const std::string& name, const std::string& why) {
    auto v = env(name);
    if (!v || v->empty()) throw Error("environment variable " + name + " expected, but not set (" + why + ")");
    return *v;
  };
  Launch l;
  std::string addr_var = "MASTER_ADDR";
  if (auto world = env("WORLD_SIZE"); world && !world->empty()) {
    l.source = "torchrun";
    const std::string why = "WORLD_SIZE=" + *world + " says this is one process of a distributed launch";
    l.world = static_cast<int>(number("WORLD_SIZE", *world, 1, 1 << 20));
    l.rank = static_cast<int>(number("RANK", required("RANK", why), 0, l.world - 1));
    auto local = env("LOCAL_RANK");
    auto local_world = env("LOCAL_WORLD_SIZE");
    l.local_world = local_world ? static_cast<int>(number("LOCAL_WORLD_SIZE", *local_world, 1, l.world)) : l.world;
    l.local_rank = local ? static_cast<int>(number("LOCAL_RANK", *local, 0, l.local_world - 1)) : l.rank % l.local_world;
    l.agent_store = env("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True";
    if (auto restart = env("TORCHELASTIC_RESTART_COUNT"))
      l.restart = static_cast<int>(number("TORCHELASTIC_RESTART_COUNT", *restart, 0, 1 << 30));
    if (l.world == 1) return std::nullopt;
    l.addr = required("MASTER_ADDR", why);
    l.port = static_cast<uint16_t>(number("MASTER_PORT", required("MASTER_PORT", why), 1, 65535));
    return l;
  }
  auto ntasks = env("SLURM_NTASKS");
  auto procid = env("SLURM_PROCID");
  if (!ntasks || !procid || ntasks->empty()) return std::nullopt;
  l.source = "srun";
  l.world = static_cast<int>(number("SLURM_NTASKS", *ntasks, 1, 1 << 20));
  if (l.world == 1) return std::nullopt;
  auto addr = env(addr_var);
  if (!addr || addr->empty()) {
    if (slurm_note)
      *slurm_note = "SLURM_NTASKS=" + *ntasks +
                    " but MASTER_ADDR is not set: training as one process (to train on the " + *ntasks +
                    " tasks, export MASTER_ADDR and MASTER_PORT and start the tool under srun; docs/cluster.md)";
    return std::nullopt;
  }
  const std::string why = "SLURM_NTASKS=" + *ntasks + " with MASTER_ADDR set says this is one task of a distributed launch";
  l.rank = static_cast<int>(number("SLURM_PROCID", *procid, 0, l.world - 1));
  l.local_rank = static_cast<int>(number("SLURM_LOCALID", required("SLURM_LOCALID", why), 0, l.world - 1));
  l.local_world = 1;
  const auto per_node = tasks_per_node(env("SLURM_STEP_TASKS_PER_NODE").value_or(env("SLURM_TASKS_PER_NODE").value_or("")));
  const long long node = env("SLURM_NODEID") ? number("SLURM_NODEID", *env("SLURM_NODEID"), 0, 1 << 20) : 0;
  if (node < static_cast<long long>(per_node.size())) l.local_world = per_node[static_cast<size_t>(node)];
  if (l.local_world < l.local_rank + 1) l.local_world = l.local_rank + 1;
  l.addr = *addr;
  l.port = static_cast<uint16_t>(number("MASTER_PORT", required("MASTER_PORT", why), 1, 65535));
  return l;
}

}  // namespace invkit::dist
