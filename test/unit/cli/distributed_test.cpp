#include "invkit/cli/distributed.h"

#include <gtest/gtest.h>

#include "invkit/error.h"

namespace {

using invkit::cli::rank_device;

const torch::Device kCpu(torch::kCPU);
const torch::Device kCuda0(torch::kCUDA, 0);

TEST(RankDevice, TheCpuAndAnExplicitGpuStay) {
  EXPECT_EQ(rank_device("cpu", kCpu, 1, 2, 4), kCpu);
  EXPECT_EQ(rank_device("auto", kCpu, 1, 2, 0), kCpu);  // auto without GPUs
  EXPECT_EQ(rank_device("cuda:3", torch::Device(torch::kCUDA, 3), 1, 2, 4), torch::Device(torch::kCUDA, 3));
}

TEST(RankDevice, EachRankOfTheNodeTakesItsOwnGpu) {
  for (const std::string spec : {"cuda", "auto"}) {
    EXPECT_EQ(rank_device(spec, kCuda0, 0, 4, 4), kCuda0);
    EXPECT_EQ(rank_device(spec, kCuda0, 3, 4, 4), torch::Device(torch::kCUDA, 3));
    EXPECT_EQ(rank_device(spec, kCuda0, 1, 2, 8), torch::Device(torch::kCUDA, 1));
  }
}

TEST(RankDevice, ARankThatSeesOneGpuUsesIt) {
  // Slurm's --gpus-per-task: local rank 2 sees only its own GPU, as cuda:0.
  EXPECT_EQ(rank_device("cuda", kCuda0, 2, 4, 1), kCuda0);
}

TEST(RankDevice, FewerGpusThanRanksIsRefused) {
  try {
    rank_device("cuda", kCuda0, 1, 4, 2);
    FAIL() << "no error";
  } catch (const invkit::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("4 ranks on this node but 2 GPUs"), std::string::npos) << e.what();
  }
}

}  // namespace
