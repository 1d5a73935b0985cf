// The NCCL group: c10d's ProcessGroupNCCL over CUDA tensors, one GPU per rank.
// Compiled in where CMake found nccl.h (INVKIT_HAVE_NCCL) and the LibTorch is
// a CUDA build with c10d's NCCL backend (USE_C10D_NCCL, from torch_cuda's
// target); elsewhere have_nccl() is false and join() refuses a GPU.
#include "invkit/dist/backend.h"

#if defined(INVKIT_HAVE_NCCL) && defined(USE_C10D_NCCL)
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

namespace invkit::dist {

bool have_nccl() { return true; }

namespace detail {

namespace {

class NcclGroup : public Group {
 public:
  NcclGroup(c10::intrusive_ptr<c10d::ProcessGroupNCCL> pg, int rank, int world, torch::Device device,
            std::chrono::milliseconds timeout)
      : pg_(std::move(pg)), rank_(rank), world_(world), device_(device), timeout_(timeout) {}
  int rank() const override { return rank_; }
  int world() const override { return world_; }
  torch::Device device() const override { return device_; }

  // wait() makes the current stream wait for NCCL's: work queued after it,
  // and any copy to the CPU, sees the result.
  void allreduce_sum(torch::Tensor& t) override {
    detail::guarded(rank_, world_, timeout_, "an allreduce", [&] {
      std::vector<at::Tensor> ts{t};
      c10d::AllreduceOptions o;
      o.reduceOp = c10d::ReduceOp::SUM;
      pg_->allreduce(ts, o)->wait();
    });
  }
  void broadcast(torch::Tensor& t, int root) override {
    detail::guarded(rank_, world_, timeout_, "a broadcast", [&] {
      std::vector<at::Tensor> ts{t};
      c10d::BroadcastOptions o;
      o.rootRank = root;
      pg_->broadcast(ts, o)->wait();
    });
  }
  // An allreduce of one number, read back on the CPU: returns once every rank
  // has called it (what ProcessGroupNCCL's own barrier does, without its
  // guess of the device).
  void barrier() override {
    auto one = torch::ones({1}, torch::TensorOptions().dtype(torch::kFloat).device(device_));
    allreduce_sum(one);
    detail::guarded(rank_, world_, timeout_, "a barrier", [&] { (void)one.to(torch::kCPU); });
  }

 private:
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> pg_;
  int rank_, world_;
  torch::Device device_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<Group> nccl_group(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
                                  torch::Device device, std::chrono::milliseconds timeout) {
  if (!device.is_cuda() || !device.has_index())
    throw Error("rank " + std::to_string(rank) + ": NCCL needs a GPU of its own (cuda:N), not " + device.str());
  c10::cuda::set_device(device.index());
  auto opts = c10d::ProcessGroupNCCL::Options::create();
  opts->timeout = timeout;  // the watchdog's: a collective that a rank never joins ends the process after it
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("invkit/nccl", store);
  try {
    auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, rank, world, opts);
    return std::make_unique<NcclGroup>(std::move(pg), rank, world, device, timeout);
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(rank) + " of " + std::to_string(world) + " on " + device.str() +
                ": could not start NCCL: " + cause(e.what()));
  }
}

}  // namespace detail

}  // namespace invkit::dist

#else  // no NCCL in this build

namespace invkit::dist {

bool have_nccl() { return false; }

}  // namespace invkit::dist

#endif
