// The NCCL group (dist/nccl.cpp) on real GPUs; skipped on machines without
// one (scripts/gpu-check fails when DistNccl.WorldOfOneOnTheGpu skipped in a
// build with NCCL). On the CPU: a build without NCCL refuses a GPU clearly.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <thread>

#include "invkit/dist/group.h"
#include "invkit/dist/sync.h"
#include "invkit/error.h"

namespace {

using invkit::dist::Group;
using invkit::dist::Launch;

// A TCP port free on the loopback now (bound to port 0, then released).
uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("no free port");
  close(fd);
  return ntohs(a.sin_port);
}

Launch launch_of(int rank, int world, uint16_t port) {
  Launch l;
  l.source = "torchrun";
  l.rank = l.local_rank = rank;
  l.world = l.local_world = world;
  l.addr = "127.0.0.1";
  l.port = port;
  return l;
}

// Runs body(group) on `world` ranks, one thread each on cuda:RANK, joined
// through a TCPStore as processes are; returns each rank's failure ("" if none).
std::vector<std::string> on_gpus(int world, const std::function<void(Group&)>& body) {
  const uint16_t port = free_port();
  std::vector<std::string> errors(static_cast<size_t>(world));
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r)
    threads.emplace_back([&, r] {
      try {
        auto g = invkit::dist::join(launch_of(r, world, port), torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(r)),
                                    std::chrono::seconds(60));
        body(*g);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(r)] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  return errors;
}

#define SKIP_WITHOUT_GPUS(n)                                                                           \
  if (!invkit::dist::have_nccl()) GTEST_SKIP() << "this build has no NCCL";                           \
  if (static_cast<int>(torch::cuda::device_count()) < (n)) GTEST_SKIP() << "fewer than " << (n) << " GPUs"

TEST(DistNccl, ABuildWithoutNcclRefusesAGpu) {
  if (invkit::dist::have_nccl()) GTEST_SKIP() << "this build has NCCL";
  try {
    invkit::dist::join(launch_of(0, 2, 1), torch::Device(torch::kCUDA, 0), std::chrono::seconds(1));
    FAIL() << "no error";
  } catch (const invkit::Error& e) {
    EXPECT_NE(std::string(e.what()).find("torchrun launched 2 processes on cuda:0, but this invkit was built without "
                                         "NCCL"),
              std::string::npos)
        << e.what();
  }
}

TEST(DistNccl, WorldOfOneOnTheGpu) {
  SKIP_WITHOUT_GPUS(1);
  auto errors = on_gpus(1, [](Group& g) {
    EXPECT_EQ(g.device(), torch::Device(torch::kCUDA, 0));
    auto t = torch::tensor({1.5, -2.0, 3.25}, torch::TensorOptions().dtype(torch::kDouble).device(g.device()));
    g.allreduce_sum(t);
    EXPECT_TRUE(torch::equal(t.cpu(), torch::tensor({1.5, -2.0, 3.25}, torch::kDouble)));
    g.broadcast(t, 0);
    g.barrier();
    // One rank's gradients of its own mean are the global mean's: unchanged bits.
    torch::manual_seed(5);
    torch::nn::Linear lin(6, 3);
    lin->to(g.device());
    lin->forward(torch::randn({4, 6}, g.device())).pow(2).mean().backward();
    std::vector<torch::Tensor> before;
    for (auto& p : lin->parameters()) before.push_back(p.grad().clone());
    const auto r = invkit::dist::reduce_gradients(g, lin->parameters(), 4.0, {2.5, 7.0});
    EXPECT_EQ(r.weight, 4.0);
    EXPECT_EQ(r.extras, (std::vector<double>{2.5, 7.0}));
    auto after = lin->parameters();
    for (size_t i = 0; i < before.size(); ++i) {
      EXPECT_TRUE(after[i].grad().device().is_cuda());
      EXPECT_TRUE(torch::allclose(after[i].grad(), before[i], 1e-6, 1e-7));
    }
    invkit::dist::broadcast_state(g, *lin);
    invkit::dist::check_same_state(g, *lin, "in the test");
    const auto stop = invkit::dist::agree_on_stop(g, 15);
    EXPECT_EQ(stop.signal, 15);
    EXPECT_EQ(stop.rank, 0);
  });
  EXPECT_EQ(errors[0], "");
}

TEST(DistNccl, TwoGpusSumTheGlobalBatch) {
  SKIP_WITHOUT_GPUS(2);
  torch::manual_seed(7);
  auto x = torch::randn({5, 6});
  torch::nn::Linear reference(6, 3);
  auto single = std::dynamic_pointer_cast<torch::nn::LinearImpl>(reference->clone());
  single->forward(x).pow(2).sum(1).mean().backward();
  std::vector<std::vector<torch::Tensor>> grads(2);
  std::vector<invkit::dist::Stop> stops(2);
  auto errors = on_gpus(2, [&](Group& g) {
    auto mine = std::dynamic_pointer_cast<torch::nn::LinearImpl>(reference->clone(g.device()));
    const auto [a, b] = invkit::dist::slice_of(0, 5, g.rank(), g.world());  // 2 rows and 3
    mine->forward(x.slice(0, a, b).to(g.device())).pow(2).sum(1).mean().backward();
    invkit::dist::reduce_gradients(g, mine->parameters(), static_cast<double>(b - a), {});
    for (auto& p : mine->parameters()) grads[static_cast<size_t>(g.rank())].push_back(p.grad().cpu());
    invkit::dist::check_same_state(g, *mine, "in the test");
    stops[static_cast<size_t>(g.rank())] = invkit::dist::agree_on_stop(g, g.rank() == 1 ? 2 : 0);
  });
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
  auto want = single->parameters();
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_TRUE(torch::equal(grads[1][i], grads[0][i]));  // the same bits on both ranks
    EXPECT_TRUE(torch::allclose(grads[0][i], want[i].grad(), 1e-5, 1e-6));
  }
  for (const auto& s : stops) {
    EXPECT_EQ(s.signal, 2);
    EXPECT_EQ(s.rank, 1);
  }
}

}  // namespace
