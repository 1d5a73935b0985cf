// Turns a parsed spec into stages that run on a batch: adjacent geometric
// ops fuse into one resampling, '|' splits the batch by the alternative each
// row draws, and every draw comes from (seed, key, stream of its node).
#include <ATen/Parallel.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "invkit/error.h"
#include "invkit/transforms/geometric.h"
#include "invkit/transforms/ops.h"
#include "invkit/transforms/spec.h"
#include "invkit/transforms/transform.h"

namespace invkit::transforms {

namespace {

constexpr int64_t kChunk = 128;  // images a thread takes at a time: 28x28 images are tiny

struct Ctx {
  uint64_t seed;
  float* params;  // [N, P] of the whole call, or null
  int64_t P;
};

// The rows a stage works on. `owned`: images is a private buffer that may be
// written in place (the caller's input never is).
struct Rows {
  torch::Tensor images;
  std::vector<int64_t> keys;
  std::vector<int64_t> rows;  // row of the whole call (for params)
  bool owned = false;
};

// An op of the spec as it runs: its record, its numbers, its stream of
// draws and its first params column.
struct OpRef {
  const Op* op;
  Args args;
  uint64_t stream = 0;
  int64_t col = 0;
};

float* param_ptr(const Ctx& ctx, int64_t row, int64_t col) { return ctx.params ? ctx.params + row * ctx.P + col : nullptr; }

// One image on the CPU, processed start to end by one thread while it sits
// in cache (ops leave their result in image.pixels), with its key and row.
struct Img {
  Image image;
  int64_t key, row;
};

class Stage {
 public:
  virtual ~Stage() = default;
  // The CPU path: one image.
  virtual void run_image(Img& im, const Ctx& ctx) const = 0;
  // The device path: a batch with tensor ops.
  virtual void run_batch(Rows& b, const Ctx& ctx) const = 0;
};

// A fresh output buffer is mostly page faults for fast transforms (one per
// 4 KiB); asking for transparent huge pages (where the kernel leaves it to
// madvise) makes that one per 2 MiB. Only a hint: failure changes nothing.
void prefer_huge_pages(void* data, int64_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t{1} << 21;
  if (bytes < static_cast<int64_t>(2 * kHuge)) return;
  auto begin = (reinterpret_cast<uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  auto end = (reinterpret_cast<uintptr_t>(data) + static_cast<uintptr_t>(bytes)) & ~(kHuge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#endif
}

// Runs `stage` image by image over the rows of a CPU batch on torch's
// thread count. Threads take chunks of rows from a shared counter, so a
// thread that the OS pauses (a busy machine) leaves its share to the others
// instead of making them wait.
void run_cpu(const Stage& stage, Rows& b, const Ctx& ctx) {
  const int64_t n = b.images.size(0), C = b.images.size(1), H = b.images.size(2), W = b.images.size(3);
  const int64_t per = C * H * W;
  torch::Tensor out = b.owned ? b.images : torch::empty_like(b.images);
  const uint8_t* src = b.images.data_ptr<uint8_t>();
  uint8_t* dst = out.data_ptr<uint8_t>();
  if (!b.owned) prefer_huge_pages(dst, n * per);
  std::atomic<int64_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_lock;
  auto worker = [&] {
    try {
      std::vector<uint8_t> buffers(static_cast<size_t>(2 * per));
      std::vector<float> scratch;
      for (;;) {
        const int64_t begin = next.fetch_add(kChunk);
        if (begin >= n) break;
        for (int64_t i = begin, end = std::min(n, begin + kChunk); i < end; ++i) {
          Img im{{buffers.data(), buffers.data() + per, C, H, W, scratch}, b.keys[i], b.rows[i]};
          std::memcpy(im.image.pixels, src + i * per, static_cast<size_t>(per));
          stage.run_image(im, ctx);
          std::memcpy(dst + i * per, im.image.pixels, static_cast<size_t>(per));
        }
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_lock);
      if (!failure) failure = std::current_exception();
      next = n;
    }
  };
  const int64_t threads = std::min<int64_t>(at::get_num_threads(), (n + kChunk - 1) / kChunk);
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  b.images = out;
  b.owned = true;
}

// Round trip through the CPU kernels for ops without a tensor version.
void via_cpu(const Stage& stage, Rows& b, const Ctx& ctx) {
  auto device = b.images.device();
  Rows c{b.images.to(torch::kCPU).contiguous(), b.keys, b.rows, true};
  run_cpu(stage, c, ctx);
  b.images = c.images.to(device);
  b.owned = true;
}

// A run of adjacent geometric ops: their maps composed, one resampling.
class GeometricStage : public Stage {
 public:
  GeometricStage(std::vector<OpRef> ops, Interp interp) : ops_(std::move(ops)), interp_(interp) {}

  Affine inverse_map(int64_t key, int64_t row, const Ctx& ctx, int64_t H, int64_t W) const {
    Affine m;
    for (const auto& op : ops_) {
      Draws r(ctx.seed, key, op.stream);
      const auto& map = std::get<Geometric>(op.op->run).map;
      m = then(m, map(op.args, r, static_cast<double>(H), static_cast<double>(W), Params{param_ptr(ctx, row, op.col)}));
    }
    return inverse(m);
  }

  void run_image(Img& im, const Ctx& ctx) const override {
    Image& x = im.image;
    Affine inv = inverse_map(im.key, im.row, ctx, x.height, x.width);
    if (inv.identity()) return;
    x.scratch.resize(static_cast<size_t>(warp_scratch(x.height, x.width)));
    warp_image(x.pixels, x.spare, x.channels, x.height, x.width, inv, interp_, x.scratch.data());
    std::swap(x.pixels, x.spare);
  }

  void run_batch(Rows& b, const Ctx& ctx) const override {
    const int64_t n = b.images.size(0), H = b.images.size(2), W = b.images.size(3);
    auto inv = torch::empty({n, 6}, torch::kDouble);
    auto* p = inv.data_ptr<double>();
    for (int64_t i = 0; i < n; ++i) {
      Affine m = inverse_map(b.keys[i], b.rows[i], ctx, H, W);
      double v[6] = {m.a, m.b, m.c, m.d, m.e, m.f};
      std::memcpy(p + 6 * i, v, sizeof v);
    }
    b.images = warp_tensor(b.images, inv, interp_);
    b.owned = true;
  }

 private:
  std::vector<OpRef> ops_;
  Interp interp_;
};

// Any other op: its draw, then its apply, image by image on the CPU or on
// the whole batch with its tensor version.
class OpStage : public Stage {
 public:
  explicit OpStage(OpRef op) : op_(std::move(op)), run_(std::get<PerImage>(op_.op->run)) {}

  double draw(Draws& r, const Ctx& ctx, int64_t row) const {
    return run_.draw ? run_.draw(op_.args, r, Params{param_ptr(ctx, row, op_.col)}) : 0.0;
  }

  void run_image(Img& im, const Ctx& ctx) const override {
    Draws r(ctx.seed, im.key, op_.stream);
    double v = draw(r, ctx, im.row);
    run_.image(op_.args, v, r, im.image);
  }

  void run_batch(Rows& b, const Ctx& ctx) const override {
    if (!run_.tensor) return via_cpu(*this, b, ctx);
    const int64_t n = b.images.size(0);
    auto values = torch::empty({n}, torch::kDouble);
    auto* v = values.data_ptr<double>();
    for (int64_t i = 0; i < n; ++i) {
      Draws r(ctx.seed, b.keys[i], op_.stream);
      v[i] = draw(r, ctx, b.rows[i]);
    }
    b.images = run_.tensor(b.images, values);
    b.owned = true;
  }

 private:
  OpRef op_;
  const PerImage& run_;
};

class SeqStage : public Stage {
 public:
  explicit SeqStage(std::vector<std::unique_ptr<Stage>> stages) : stages_(std::move(stages)) {}
  void run_image(Img& im, const Ctx& ctx) const override {
    for (const auto& s : stages_) s->run_image(im, ctx);
  }
  void run_batch(Rows& b, const Ctx& ctx) const override {
    for (const auto& s : stages_) s->run_batch(b, ctx);
  }

 private:
  std::vector<std::unique_ptr<Stage>> stages_;
};

class ChoiceStage : public Stage {
 public:
  ChoiceStage(uint64_t stream, int64_t col, std::vector<double> weights, std::vector<std::unique_ptr<Stage>> branches)
      : stream_(stream), col_(col), branches_(std::move(branches)) {
    double total = 0;
    for (double w : weights) total += w;
    double acc = 0;
    for (double w : weights) cumulative_.push_back(acc += w / total);
    cumulative_.back() = 1.0;
  }

  size_t pick(int64_t key, int64_t row, const Ctx& ctx) const {
    Draws r(ctx.seed, key, stream_);
    double u = r.uniform();
    size_t k = 0;
    while (k + 1 < cumulative_.size() && u >= cumulative_[k]) ++k;
    if (float* p = param_ptr(ctx, row, col_)) *p = static_cast<float>(k);
    return k;
  }

  void run_image(Img& im, const Ctx& ctx) const override { branches_[pick(im.key, im.row, ctx)]->run_image(im, ctx); }

  void run_batch(Rows& b, const Ctx& ctx) const override {
    const int64_t n = b.images.size(0);
    std::vector<std::vector<int64_t>> picked(branches_.size());
    for (int64_t i = 0; i < n; ++i) picked[pick(b.keys[i], b.rows[i], ctx)].push_back(i);
    for (size_t k = 0; k < branches_.size(); ++k)
      if (static_cast<int64_t>(picked[k].size()) == n) return branches_[k]->run_batch(b, ctx);  // one branch for all
    torch::Tensor out = torch::empty_like(b.images);
    for (size_t k = 0; k < branches_.size(); ++k) {
      if (picked[k].empty()) continue;
      auto idx = torch::tensor(picked[k], torch::kLong).to(b.images.device());
      Rows sub{b.images.index_select(0, idx), {}, {}, true};
      for (int64_t i : picked[k]) {
        sub.keys.push_back(b.keys[i]);
        sub.rows.push_back(b.rows[i]);
      }
      branches_[k]->run_batch(sub, ctx);
      out.index_copy_(0, idx, sub.images);
    }
    b.images = out;
    b.owned = true;
  }

 private:
  uint64_t stream_;
  int64_t col_;
  std::vector<double> cumulative_;
  std::vector<std::unique_ptr<Stage>> branches_;
};

class NoStage : public Stage {
 public:
  void run_image(Img&, const Ctx&) const override {}
  void run_batch(Rows&, const Ctx&) const override {}
};

// Builds stages from the tree, numbering streams and params columns.
class Builder {
 public:
  std::vector<std::string> names;

  std::unique_ptr<Stage> build(const SpecNode& n) {
    switch (n.kind) {
      case SpecNode::Kind::Op: return seq({&n});
      case SpecNode::Kind::Seq: {
        std::vector<const SpecNode*> items;
        for (const auto& c : n.children) items.push_back(&c);
        return seq(items);
      }
      case SpecNode::Kind::Choice: {
        uint64_t stream = ++streams_;
        int64_t col = column("choice", {""})[0];
        std::vector<std::unique_ptr<Stage>> branches;
        for (const auto& c : n.children) branches.push_back(build(c));
        return std::make_unique<ChoiceStage>(stream, col, n.weights, std::move(branches));
      }
    }
    return std::make_unique<NoStage>();
  }

 private:
  // A run of '+' terms: adjacent geometric ops become one stage.
  std::unique_ptr<Stage> seq(const std::vector<const SpecNode*>& items) {
    std::vector<std::unique_ptr<Stage>> stages;
    std::vector<OpRef> geo;
    int geo_interp = -1;  // the finest interpolation asked for in the run
    auto flush = [&] {
      if (geo.empty()) return;
      stages.push_back(std::make_unique<GeometricStage>(
          std::move(geo), geo_interp < 0 ? Interp::Nearest : static_cast<Interp>(geo_interp)));
      geo.clear();
      geo_interp = -1;
    };
    for (const SpecNode* n : items) {
      if (n->kind != SpecNode::Kind::Op) {
        flush();
        stages.push_back(build(*n));
        continue;
      }
      const Op& info = *find_op(n->name);
      if (std::holds_alternative<std::monostate>(info.run)) continue;  // does nothing itself
      OpRef op{&info, n->args, ++streams_, 0};
      auto cols = column(n->name, info.params);
      op.col = cols.empty() ? 0 : cols[0];
      if (const auto* geometric = std::get_if<Geometric>(&info.run)) {
        if (geometric->interpolates) geo_interp = std::max(geo_interp, static_cast<int>(parse_interp(n->interp)));
        geo.push_back(std::move(op));
        continue;
      }
      flush();
      stages.push_back(std::make_unique<OpStage>(std::move(op)));
    }
    flush();
    if (stages.empty()) return std::make_unique<NoStage>();
    if (stages.size() == 1) return std::move(stages[0]);
    return std::make_unique<SeqStage>(std::move(stages));
  }

  // Columns "NAME.PARAM" ("NAME#2.PARAM" for the second NAME, ...); returns their indices.
  std::vector<int64_t> column(const std::string& name, const std::vector<std::string>& params) {
    int seen = ++uses_[name];
    std::string prefix = seen == 1 ? name : name + "#" + std::to_string(seen);
    std::vector<int64_t> cols;
    for (const auto& p : params) {
      cols.push_back(static_cast<int64_t>(names.size()));
      names.push_back(p.empty() ? prefix : prefix + "." + p);
    }
    return cols;
  }

  uint64_t streams_ = 0;
  std::map<std::string, int> uses_;
};

class Pipeline : public Transform {
 public:
  explicit Pipeline(const std::string& text) {
    SpecNode tree = parse_spec(text);
    spec_ = to_string(tree);
    Builder builder;
    root_ = builder.build(tree);
    names_ = builder.names;
  }

  torch::Tensor apply(const torch::Tensor& images, uint64_t seed, const torch::Tensor& keys,
                      torch::Tensor* params) const override {
    if (!images.defined() || images.dim() != 4 || images.scalar_type() != torch::kByte)
      throw Error("transform: images must be uint8 [N, C, H, W]");
    const int64_t n = images.size(0);
    if (!keys.defined() || keys.dim() != 1 || keys.size(0) != n || keys.scalar_type() != torch::kLong || !keys.is_cpu())
      throw Error("transform: keys must be int64 [N] on the CPU, one per image");
    auto k = keys.contiguous();
    Rows b{images.contiguous(), std::vector<int64_t>(k.data_ptr<int64_t>(), k.data_ptr<int64_t>() + n), {}, false};
    b.rows.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) b.rows[i] = i;
    Ctx ctx{seed, nullptr, static_cast<int64_t>(names_.size())};
    if (params) {
      *params = torch::full({n, ctx.P}, std::numeric_limits<float>::quiet_NaN(), torch::kFloat);
      ctx.params = params->data_ptr<float>();
    }
    if (n > 0) {
      if (b.images.is_cpu())
        run_cpu(*root_, b, ctx);
      else
        root_->run_batch(b, ctx);
    }
    return b.owned ? b.images : b.images.clone();
  }

  std::vector<std::string> param_names() const override { return names_; }
  std::string spec() const override { return spec_; }

 private:
  std::string spec_;
  std::unique_ptr<Stage> root_;
  std::vector<std::string> names_;
};

}  // namespace

std::unique_ptr<Transform> parse_transform(const std::string& spec) { return std::make_unique<Pipeline>(spec); }

}  // namespace invkit::transforms
