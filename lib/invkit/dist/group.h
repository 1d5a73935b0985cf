// A group of processes that train one model together (data parallelism), on
// torch.distributed's c10d: a TCPStore for the rendezvous and Gloo for the
// collectives on CPU tensors. Only group.cpp sees c10d; this header shows
// plain tensors.
//
// Gloo is compiled in only where its headers exist (Debian: libgloo-dev; a
// PyPI LibTorch ships none): have_gloo() says whether it was. NCCL (CUDA
// tensors) is not implemented yet: join() refuses a CUDA device.
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
  // Every rank calls each collective in the same order with a tensor of the
  // same shape and dtype (contiguous, on the CPU). Each throws Error when a
  // rank has gone (its process ended or closed the connection) or did not
  // answer within the timeout.
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

// Joins the group that `launch` describes: connects to (rank 0, or torchrun's
// agent: hosts) the TCPStore at launch.addr:port, waits for every rank to
// arrive, then builds the Gloo group on the network device GLOO_SOCKET_IFNAME
// names (else loopback when every rank is on this node, else the one the
// host name resolves to). `timeout` bounds the wait for the store, the
// arrival of every rank and each later collective.
//
// Throws Error naming what is missing: the store that cannot be reached or
// served (address and port), the ranks that did not arrive within the
// timeout, a build without Gloo, a CUDA device (no NCCL yet).
std::unique_ptr<Group> join(const Launch& launch, torch::Device device,
                            std::chrono::milliseconds timeout = kDefaultTimeout);

// `world` ranks inside this process over an in-memory store, one per element,
// for tests: each must be driven by its own thread, as processes would be.
std::vector<std::unique_ptr<Group>> local_groups(int world, std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace invkit::dist
