#include "invkit/dist/launch.h"

#include <gtest/gtest.h>

#include <map>

#include "invkit/error.h"
#include "testing.h"

namespace {

using invkit::dist::detect_launch;
using invkit::testing::error_of;

invkit::dist::Environment env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Launch, NoneWithoutVariables) {
  EXPECT_FALSE(detect_launch(env_of({})));
  EXPECT_FALSE(detect_launch(env_of({{"PATH", "/bin"}, {"SLURM_JOB_ID", "7"}})));
}

TEST(Launch, Torchrun) {
  auto l = detect_launch(env_of({{"WORLD_SIZE", "4"}, {"RANK", "3"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                                 {"MASTER_ADDR", "node1"}, {"MASTER_PORT", "29400"},
                                 {"TORCHELASTIC_USE_AGENT_STORE", "True"}, {"TORCHELASTIC_RESTART_COUNT", "2"}}));
  ASSERT_TRUE(l);
  EXPECT_EQ(l->source, "torchrun");
  EXPECT_EQ(l->rank, 3);
  EXPECT_EQ(l->world, 4);
  EXPECT_EQ(l->local_rank, 1);
  EXPECT_EQ(l->local_world, 2);
  EXPECT_EQ(l->addr, "node1");
  EXPECT_EQ(l->port, 29400);
  EXPECT_TRUE(l->agent_store);
  EXPECT_EQ(l->restart, 2);
  EXPECT_EQ(l->describe(), "torchrun launch: rank 3 of 4 (local 1 of 2), store node1:29400 (torchrun's agent)");
}

TEST(Launch, TorchrunDefaults) {
  // Without LOCAL_*: every rank on this node; without the agent variables: rank 0 serves the store.
  auto l = detect_launch(env_of({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "5"}}));
  ASSERT_TRUE(l);
  EXPECT_EQ(l->local_rank, 1);
  EXPECT_EQ(l->local_world, 2);
  EXPECT_FALSE(l->agent_store);
  EXPECT_EQ(l->restart, 0);
}

TEST(Launch, WorldOfOneIsOneProcess) {
  EXPECT_FALSE(detect_launch(env_of({{"WORLD_SIZE", "1"}, {"RANK", "0"}})));
}

TEST(Launch, HalfDescribedTorchrunIsAnError) {
  EXPECT_EQ(error_of([] { detect_launch(env_of({{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}})); }),
            "environment variable RANK expected, but not set (WORLD_SIZE=2 says this is one process of a "
            "distributed launch)");
  EXPECT_EQ(error_of([] { detect_launch(env_of({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "1"}})); }),
            "environment variable MASTER_ADDR expected, but not set (WORLD_SIZE=2 says this is one process of a "
            "distributed launch)");
  EXPECT_EQ(error_of([] {
              detect_launch(env_of({{"WORLD_SIZE", "2"}, {"RANK", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}}));
            }),
            "environment variable RANK=2: expected a whole number from 0 to 1");
  EXPECT_EQ(error_of([] {
              detect_launch(env_of({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "70000"}}));
            }),
            "environment variable MASTER_PORT=70000: expected a whole number from 1 to 65535");
  EXPECT_EQ(error_of([] { detect_launch(env_of({{"WORLD_SIZE", "two"}})); }),
            "environment variable WORLD_SIZE=two: expected a whole number from 1 to 1048576");
}

TEST(Launch, Srun) {
  auto l = detect_launch(env_of({{"SLURM_NTASKS", "6"}, {"SLURM_PROCID", "4"}, {"SLURM_LOCALID", "1"},
                                 {"SLURM_NODEID", "2"}, {"SLURM_STEP_TASKS_PER_NODE", "2(x2),3"},
                                 {"MASTER_ADDR", "n0"}, {"MASTER_PORT", "15007"}}));
  ASSERT_TRUE(l);
  EXPECT_EQ(l->source, "srun");
  EXPECT_EQ(l->rank, 4);
  EXPECT_EQ(l->world, 6);
  EXPECT_EQ(l->local_rank, 1);
  EXPECT_EQ(l->local_world, 3);  // the third node runs 3 tasks
  EXPECT_EQ(l->addr, "n0");
  EXPECT_EQ(l->port, 15007);
  EXPECT_FALSE(l->agent_store);
}

TEST(Launch, SrunWithoutMasterAddrIsOneProcessWithANote) {
  // An sbatch script with --ntasks 4 that runs a tool once, not under srun.
  std::string note;
  EXPECT_FALSE(detect_launch(env_of({{"SLURM_NTASKS", "4"}, {"SLURM_PROCID", "0"}, {"SLURM_LOCALID", "0"}}), &note));
  EXPECT_NE(note.find("SLURM_NTASKS=4 but MASTER_ADDR is not set: training as one process"), std::string::npos) << note;
  note.clear();
  EXPECT_FALSE(detect_launch(env_of({{"SLURM_NTASKS", "1"}, {"SLURM_PROCID", "0"}, {"MASTER_ADDR", "a"}}), &note));
  EXPECT_EQ(note, "");
}

TEST(Launch, TorchrunWinsOverSlurm) {
  // torchrun started inside a Slurm job: its own variables describe the ranks.
  auto l = detect_launch(env_of({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "9"},
                                 {"SLURM_NTASKS", "8"}, {"SLURM_PROCID", "5"}}));
  ASSERT_TRUE(l);
  EXPECT_EQ(l->source, "torchrun");
  EXPECT_EQ(l->world, 2);
}

}  // namespace
