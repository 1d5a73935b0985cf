#include "invkit/dist/group.h"

#include <cstdio>
#include <thread>

#include "invkit/dist/backend.h"
#include "invkit/error.h"

// CMake defines INVKIT_HAVE_GLOO where gloo's headers are, INVKIT_HAVE_NCCL
// where nccl.h is; torch's targets define USE_C10D_GLOO and USE_C10D_NCCL
// where its libraries have those backends.
#if defined(INVKIT_HAVE_GLOO) && defined(USE_C10D_GLOO)
#define INVKIT_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(INVKIT_HAVE_NCCL) && defined(USE_C10D_NCCL)
#define INVKIT_NCCL 1
#endif
#if defined(INVKIT_GLOO) || defined(INVKIT_NCCL)
#define INVKIT_C10D 1
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace invkit::dist {

namespace detail {

std::string seconds_text(std::chrono::milliseconds t) {
  const double s = static_cast<double>(t.count()) / 1000.0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

std::string cause(const std::string& what) {
  auto has = [&](const char* s) { return what.find(s) != std::string::npos; };
  if (has("Connection reset") || has("Connection closed") || has("Broken pipe") || has("EOF") ||
      has("Connection refused"))
    return "another rank closed its connection (it failed, was killed or ended)";
  if (has("imed out") || has("imeout")) return "another rank did not answer within the timeout";
  if (has("Address already in use")) return "the address is already in use";
  if (has("Duplicate GPU")) return "two ranks use the same GPU (NCCL needs one GPU per rank)";
  if (has("NCCL") || has("nccl")) return "NCCL failed (NCCL_DEBUG=INFO prints its reason)";
  return "the connection failed";
}

}  // namespace detail

using detail::cause;
using detail::seconds_text;

bool have_gloo() {
#ifdef INVKIT_GLOO
  return true;
#else
  return false;
#endif
}

#ifdef INVKIT_C10D

namespace {

#ifdef INVKIT_GLOO

class GlooGroup : public Group {
 public:
  GlooGroup(c10::intrusive_ptr<c10d::ProcessGroupGloo> pg, int rank, int world, std::chrono::milliseconds timeout)
      : pg_(std::move(pg)), rank_(rank), world_(world), timeout_(timeout) {}
  int rank() const override { return rank_; }
  int world() const override { return world_; }
  torch::Device device() const override { return torch::kCPU; }

  void allreduce_sum(torch::Tensor& t) override {
    run("an allreduce", [&] {
      std::vector<at::Tensor> ts{t};
      c10d::AllreduceOptions o;
      o.reduceOp = c10d::ReduceOp::SUM;
      pg_->allreduce(ts, o)->wait();
    });
  }
  void broadcast(torch::Tensor& t, int root) override {
    run("a broadcast", [&] {
      std::vector<at::Tensor> ts{t};
      c10d::BroadcastOptions o;
      o.rootRank = root;
      pg_->broadcast(ts, o)->wait();
    });
  }
  void barrier() override {
    run("a barrier", [&] { pg_->barrier()->wait(); });
  }

 private:
  template <class F>
  void run(const char* what, F&& f) {
    detail::guarded(rank_, world_, timeout_, what, std::forward<F>(f));
  }

  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
  int rank_, world_;
  std::chrono::milliseconds timeout_;
};

std::shared_ptr<::gloo::transport::Device> gloo_device(const Launch& l) {
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");  // read by PyTorch's Python side only: read it here
  if (ifname != nullptr && *ifname != '\0') {
    std::string first(ifname);
    first = first.substr(0, first.find(','));
    try {
      return c10d::ProcessGroupGloo::createDeviceForInterface(first);
    } catch (const std::exception&) {
      throw Error("GLOO_SOCKET_IFNAME=" + std::string(ifname) + ": no usable network interface " + first);
    }
  }
  if (l.local_world == l.world) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

#endif  // INVKIT_GLOO

c10::intrusive_ptr<c10d::Store> connect_store(const Launch& l, std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions o;
  o.port = l.port;
  o.isServer = !l.agent_store && l.rank == 0;
  if (o.isServer) o.numWorkers = static_cast<size_t>(l.world);
  o.waitWorkers = false;  // arrivals are checked below, by rank, to name the missing ones
  o.timeout = timeout;
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(l.addr, o);
  } catch (const std::exception& e) {
    const std::string where = l.addr + ":" + std::to_string(l.port);
    if (o.isServer)
      throw Error("rank 0 could not serve the rendezvous store on " + where + ": " + cause(e.what()) +
                  " (another run on this port? choose another MASTER_PORT)");
    throw Error("rank " + std::to_string(l.rank) + " could not reach the rendezvous store at " + where + " within " +
                seconds_text(timeout) + ": " +
                (l.agent_store ? "torchrun's agent" : "rank 0, which serves it,") +
                " has not started or MASTER_ADDR/MASTER_PORT are wrong");
  }
  // Under torchrun the agent's store is shared by its restarts: keys live under the attempt's prefix.
  if (l.agent_store)
    store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::to_string(l.restart), store);
  return store;
}

// Announces this rank and waits for the others; names those missing.
void await_ranks(c10d::Store& store, const Launch& l, std::chrono::milliseconds timeout) {
  auto key = [](int r) { return "invkit/joined/" + std::to_string(r); };
  std::vector<std::string> keys;
  for (int r = 0; r < l.world; ++r) keys.push_back(key(r));
  try {
    store.set(key(l.rank), std::vector<uint8_t>{1});
    store.wait(keys, timeout);
    return;
  } catch (const std::exception&) {
  }
  std::string missing;
  int count = 0;
  try {
    for (int r = 0; r < l.world; ++r)
      if (!store.check({key(r)})) {
        missing += (count++ ? ", " : "") + std::to_string(r);
        if (count == 8 && l.world > 8) {
          missing += ", ...";
          break;
        }
      }
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(l.rank) + ": lost the rendezvous store at " + l.addr + ":" +
                std::to_string(l.port) + " while waiting for the other ranks: " + cause(e.what()));
  }
  throw Error("rank " + std::to_string(l.rank) + ": " + (count == 1 ? "rank " : "ranks ") + missing + " of " +
              std::to_string(l.world) + " did not join within " + seconds_text(timeout) + " (store " + l.addr +
              ":" + std::to_string(l.port) + "; " + l.source + " launch)");
}

#ifdef INVKIT_GLOO
c10::intrusive_ptr<c10d::ProcessGroupGloo> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, int rank,
                                                     int world, std::shared_ptr<::gloo::transport::Device> device,
                                                     std::chrono::milliseconds timeout) {
  auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
  opts->devices.push_back(std::move(device));
  opts->threads = 2;
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("invkit/gloo", store);
  try {
    return c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, rank, world, opts);
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(rank) + " of " + std::to_string(world) +
                ": could not connect to the other ranks: " + cause(e.what()) +
                " (across nodes, set GLOO_SOCKET_IFNAME to the network interface that joins them)");
  }
}

#endif  // INVKIT_GLOO

}  // namespace

#endif  // INVKIT_C10D

std::unique_ptr<Group> join(const Launch& launch, torch::Device device, std::chrono::milliseconds timeout) {
  const std::string runs = launch.source + " launched " + std::to_string(launch.world) + " processes on " +
                           device.str() + ", but this invkit was built without ";
  if (device.is_cuda() && !have_nccl())
    throw Error(runs + "NCCL (its LibTorch has no CUDA, or nccl.h was not found), so it cannot train on several "
                "GPUs: build against a CUDA LibTorch (docs/cluster.md), use " + param("device") +
                " cpu (Gloo), or run one process");
  if (device.is_cpu() && !have_gloo())
    throw Error(runs + "Gloo, so it cannot train on several: install gloo's headers (Debian: libgloo-dev), rebuild, "
                "or run one process");
  if (!device.is_cpu() && !device.is_cuda())
    throw Error("distributed training on " + device.str() + " is not supported: use " + param("device") +
                " cpu (Gloo) or cuda (NCCL)");
#ifdef INVKIT_C10D
  auto store = connect_store(launch, timeout);
  await_ranks(*store, launch, timeout);
#ifdef INVKIT_NCCL
  if (device.is_cuda()) return detail::nccl_group(store, launch.rank, launch.world, device, timeout);
#endif
#ifdef INVKIT_GLOO
  auto pg = make_gloo(store, launch.rank, launch.world, gloo_device(launch), timeout);
  return std::make_unique<GlooGroup>(std::move(pg), launch.rank, launch.world, timeout);
#endif
#endif
  throw Error("distributed training: no backend for " + device.str());  // not reached: refused above
}

std::vector<std::unique_ptr<Group>> local_groups(int world, std::chrono::milliseconds timeout) {
#ifdef INVKIT_GLOO
  auto store = c10::make_intrusive<c10d::HashStore>();
  std::vector<std::unique_ptr<Group>> groups(static_cast<size_t>(world));
  std::vector<std::thread> threads;
  std::vector<std::string> errors(static_cast<size_t>(world));
  for (int r = 0; r < world; ++r)
    threads.emplace_back([&, r] {
      try {
        auto pg = make_gloo(store, r, world, c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"), timeout);
        groups[static_cast<size_t>(r)] = std::make_unique<GlooGroup>(std::move(pg), r, world, timeout);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(r)] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (!e.empty()) throw Error(e);
  return groups;
#else
  throw Error("this invkit was built without Gloo");
#endif
}

}  // namespace invkit::dist
