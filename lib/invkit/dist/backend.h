// Inside lib/invkit/dist only: what group.cpp (the store, Gloo) and nccl.cpp
// (NCCL) share. Users include group.h.
#pragma once
#include <c10/util/intrusive_ptr.h>
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>

#include "invkit/dist/group.h"
#include "invkit/error.h"

namespace c10d {
class Store;
}

namespace invkit::dist::detail {

// "60 s", "0.5 s".
std::string seconds_text(std::chrono::milliseconds t);

// The cause in a c10d, Gloo or NCCL message, in words (their text names
// source files and errno values, not what happened to the run).
std::string cause(const std::string& what);

// Runs the collective `f`; an exception becomes Error
// "rank R of W: WHAT failed: CAUSE (timeout T)".
template <class F>
void guarded(int rank, int world, std::chrono::milliseconds timeout, const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(rank) + " of " + std::to_string(world) + ": " + what + " failed: " +
                cause(e.what()) + " (timeout " + seconds_text(timeout) + ")");
  }
}

// The NCCL group of `world` ranks on `store` (every rank has joined it), this
// one `rank` on the GPU `device`, which becomes the current CUDA device.
// Defined in nccl.cpp, only where this build has NCCL (have_nccl()).
std::unique_ptr<Group> nccl_group(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
                                  torch::Device device, std::chrono::milliseconds timeout);

}  // namespace invkit::dist::detail
