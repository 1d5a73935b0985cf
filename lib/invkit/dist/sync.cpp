#include "invkit/dist/sync.h"

#include "invkit/error.h"

namespace invkit::dist {

std::pair<int64_t, int64_t> slice_of(int64_t lo, int64_t hi, int rank, int world) {
  const int64_t n = hi - lo;
  return {lo + n * rank / world, lo + n * (rank + 1) / world};
}

namespace {

// Rank 0's values of `tensors` into every rank's, one flat broadcast per dtype.
void broadcast_tensors(Group& group, const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  std::vector<torch::ScalarType> dtypes;
  for (const auto& t : tensors)
    if (std::find(dtypes.begin(), dtypes.end(), t.scalar_type()) == dtypes.end()) dtypes.push_back(t.scalar_type());
  for (auto dtype : dtypes) {
    std::vector<torch::Tensor> mine, flat_parts;
    for (const auto& t : tensors)
      if (t.scalar_type() == dtype) {
        mine.push_back(t);
        flat_parts.push_back(t.detach().to(group.device()).reshape(-1));
      }
    auto flat = torch::cat(flat_parts).contiguous();
    group.broadcast(flat, 0);
    int64_t at = 0;
    for (auto& t : mine) {
      const int64_t n = t.numel();
      t.copy_(flat.slice(0, at, at + n).view(t.sizes()));
      at += n;
    }
  }
}

}  // namespace

torch::Tensor sum_on_cpu(Group& group, const torch::Tensor& t) {
  auto on_device = t.to(group.device()).contiguous();
  group.allreduce_sum(on_device);
  return on_device.to(torch::kCPU);
}

void broadcast_state(Group& group, torch::nn::Module& module) {
  std::vector<torch::Tensor> ts = module.parameters();
  for (auto& b : module.buffers()) ts.push_back(b);
  broadcast_tensors(group, ts);
}

void broadcast_buffers(Group& group, torch::nn::Module& module) {
  auto buffers = module.buffers();
  if (!buffers.empty()) broadcast_tensors(group, buffers);
}

uint64_t state_digest(torch::nn::Module& module) {
  std::vector<torch::Tensor> ts = module.parameters();
  for (auto& b : module.buffers()) ts.push_back(b);
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, 64 bits
  for (const auto& t : ts) {
    auto c = t.detach().to(torch::kCPU).contiguous();
    const auto* p = static_cast<const unsigned char*>(c.data_ptr());
    const size_t n = static_cast<size_t>(c.numel()) * c.element_size();
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  }
  return h;
}

void check_same_state(Group& group, torch::nn::Module& module, const std::string& when) {
  const int w = group.world();
  auto all = torch::zeros({w, 4}, torch::kDouble);  // each rank's digest in 16-bit pieces (exact as doubles)
  const uint64_t d = state_digest(module);
  for (int i = 0; i < 4; ++i) all[group.rank()][i] = static_cast<double>((d >> (16 * i)) & 0xffff);
  all = sum_on_cpu(group, all);
  std::string differ;
  for (int r = 1; r < w; ++r)
    if (!torch::equal(all[r], all[0])) differ += (differ.empty() ? "" : ", ") + std::to_string(r);
  if (!differ.empty())
    throw Error("the parameters of rank " + differ + " differ from rank 0's " + when +
                " (ranks must run the same invkit build with the same options and data)");
}

Reduced reduce_gradients(Group& group, const std::vector<torch::Tensor>& params, double weight,
                         const std::vector<double>& extras, int64_t bucket_bytes) {
  torch::NoGradGuard no_grad;
  if (params.empty()) throw Error("reduce_gradients: no parameters");
  const auto dtype = params.front().scalar_type();
  // Buckets of consecutive parameters; the last one also carries the weight and the extras.
  std::vector<std::vector<size_t>> buckets(1);
  int64_t bytes = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].scalar_type() != dtype)
      throw Error("reduce_gradients: parameters of different dtypes (" + std::string(c10::toString(dtype)) + ", " +
                  c10::toString(params[i].scalar_type()) + ")");
    if (bytes >= bucket_bytes && !buckets.back().empty()) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(i);
    bytes += params[i].numel() * static_cast<int64_t>(params[i].element_size());
  }
  std::vector<torch::Tensor> flats;
  for (size_t b = 0; b < buckets.size(); ++b) {
    std::vector<torch::Tensor> parts;
    for (size_t i : buckets[b]) {
      const auto& p = params[i];
      parts.push_back(p.grad().defined()
                          ? p.grad().detach().to(group.device()).reshape(-1)
                          : torch::zeros({p.numel()}, torch::TensorOptions().dtype(dtype).device(group.device())));
    }
    auto flat = torch::cat(parts);
    flat.mul_(weight);
    if (b + 1 == buckets.size()) {
      std::vector<double> tail{weight};
      tail.insert(tail.end(), extras.begin(), extras.end());
      flat = torch::cat({flat, torch::tensor(tail, torch::kDouble).to(group.device(), dtype)});
    }
    flat = flat.contiguous();
    group.allreduce_sum(flat);
    flats.push_back(flat);
  }
  auto& last = flats.back();
  const int64_t tail_at = last.numel() - static_cast<int64_t>(extras.size()) - 1;
  auto tail = last.slice(0, tail_at).to(torch::kCPU, torch::kDouble).contiguous();
  Reduced out;
  out.weight = tail.data_ptr<double>()[0];
  out.extras.assign(tail.data_ptr<double>() + 1, tail.data_ptr<double>() + tail.numel());
  const torch::Scalar total = out.weight;
  for (size_t b = 0; b < buckets.size(); ++b) {
    auto flat = flats[b];
    if (out.weight != 0) flat.div_(total); else flat.zero_();
    int64_t at = 0;
    for (size_t i : buckets[b]) {
      auto p = params[i];
      const int64_t n = p.numel();
      auto mean = flat.slice(0, at, at + n).view(p.sizes()).to(p.device());
      if (p.grad().defined())
        p.mutable_grad().copy_(mean);
      else
        p.mutable_grad() = mean.clone();
      at += n;
    }
  }
  return out;
}

std::vector<double> stop_slots(const Group& group, int signal) {
  std::vector<double> slots(static_cast<size_t>(group.world()), 0.0);
  slots[static_cast<size_t>(group.rank())] = signal;
  return slots;
}

Stop read_stop(const std::vector<double>& slots, size_t offset, int world) {
  for (int r = 0; r < world; ++r) {
    const double s = slots.at(offset + static_cast<size_t>(r));
    if (s != 0) return {static_cast<int>(s), r};
  }
  return {};
}

Stop agree_on_stop(Group& group, int signal) {
  auto slots = stop_slots(group, signal);
  const auto t = sum_on_cpu(group, torch::tensor(slots, torch::kDouble));
  std::vector<double> summed(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
  return read_stop(summed, 0, group.world());
}

}  // namespace invkit::dist
