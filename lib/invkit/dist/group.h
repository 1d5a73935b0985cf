// A group of processes that train one model together (data parallelism), on
// torch.distributed's c10d: a TCPStore for the rendezvous, Gloo for the
// collectives on CPU tensors and NCCL for those on CUDA tensors (one GPU per
// rank). Only group.cpp and nccl.cpp see c10d; this header shows plain
// tensors.
//
// Gloo is compiled in only where its headers exist (Debian: libgloo-dev; a
// PyPI LibTorch ships none): have_gloo() says whether it was. NCCL is
// compiled in where the LibTorch is a CUDA build with c10d's NCCL backend and
// nccl.h is found (a PyPI wheel with its nvidia-nccl wheel): have_nccl().
#pragma once
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "invkit/dist/launch.h"

namespace invkit::dist {

// PyTorch's default for a process group (30 minutes).
constexpr std::chrono::seconds kDefaultTimeout{1800};

class Group {
 public:
  virtual ~Group() = default;
  virtual int rank() const = 0;
  virtual int world() const = 0;
  // The device this rank trains on, where the collectives' tensors live: the
  // CPU (Gloo) or this rank's GPU (NCCL).
  virtual torch::Device device() const = 0;
  // Every rank calls each collective in the same order with a tensor of the
  // same shape and dtype (contiguous, on device()). Under Gloo each throws
  // Error when a rank has gone (its process ended or closed the connection)
  // or did not answer within the timeout. Under NCCL a collective returns once
  // queued on the device (later work on the current stream waits for it); a
  // rank that has gone makes c10d's watchdog end the process after the
  // timeout, as in PyTorch.
  //
  // `t` becomes the elementwise sum of every rank's `t`; the sums are the same
  // bits on every rank.
  virtual void allreduce_sum(torch::Tensor& t) = 0;
  // `t` becomes rank `root`'s `t` on every rank.
  virtual void broadcast(torch::Tensor& t, int root) = 0;
  // Returns once every rank has called it.
  virtual void barrier() = 0;
};

// Whether this build has Gloo (CPU collectives).
bool have_gloo();
// Whether this build has NCCL (CUDA collectives).
bool have_nccl();

// Joins the group that `launch` describes: connects to (rank 0, or torchrun's
// agent: hosts) the TCPStore at launch.addr:port, waits for every rank to
// arrive, then builds the group for `device`: on the CPU, Gloo on the network
// device GLOO_SOCKET_IFNAME names (else loopback when every rank is on this
// node, else the one the host name resolves to); on a GPU (cuda:N, this
// rank's own: see cli::rank_device), NCCL, which finds its network itself
// (NCCL_SOCKET_IFNAME). `timeout` bounds the wait for the store, the arrival
// of every rank and each later collective.
//
// Throws Error naming what is missing: the store that cannot be reached or
// served (address and port), the ranks that did not arrive within the
// timeout, a build without the backend the device needs.
std::unique_ptr<Group> join(const Launch& launch, torch::Device device,
                            std::chrono::milliseconds timeout = kDefaultTimeout);

// `world` ranks inside this process over an in-memory store, one per element,
// for tests: each must be driven by its own thread, as processes would be.
std::vector<std::unique_ptr<Group>> local_groups(int world, std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace invkit::dist
