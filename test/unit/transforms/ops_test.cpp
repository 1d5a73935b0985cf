// The table of operations: every record is complete, records what it says,
// and its tensor version agrees with its per-image one.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "invkit/transforms/ops.h"
#include "invkit/transforms/spec.h"
#include "invkit/transforms/transform.h"

namespace it = invkit::transforms;

namespace {

torch::Tensor random_images(int64_t n, int64_t c, int64_t h, int64_t w, int64_t seed = 7) {
  auto g = at::detail::createCPUGenerator(static_cast<uint64_t>(seed));
  return torch::randint(0, 256, {n, c, h, w}, g, torch::kLong).to(torch::kByte);
}

// The arguments of an op's example.
it::Args example_args(const it::Op& op) { return it::parse_spec(op.example).args; }

bool runs(const it::Op& op) { return !std::holds_alternative<std::monostate>(op.run); }

// One image's draws of `op` (a 9x12 image, key `key`), recorded into `params`.
void draw(const it::Op& op, const it::Args& args, int64_t key, it::Params params) {
  invkit::Draws r(3, key, 1);
  if (const auto* g = std::get_if<it::Geometric>(&op.run)) g->map(args, r, 9, 12, params);
  if (const auto* p = std::get_if<it::PerImage>(&op.run); p && p->draw) p->draw(args, r, params);
}

}  // namespace

TEST(TransformOps, EveryRecordIsComplete) {
  std::set<std::string> names;
  for (const auto& op : it::all_ops()) {
    EXPECT_TRUE(names.insert(op.name).second) << "two records named " << op.name;
    EXPECT_EQ(it::find_op(op.name), &op);
    EXPECT_FALSE(op.about.empty()) << op.name;
    // The example parses; for an op that runs, it is one call of it with
    // suitable arguments, and records the columns the record names.
    auto t = it::parse_transform(op.example);
    if (!op.preset.empty()) {
      EXPECT_NO_THROW(it::parse_spec(op.preset)) << op.name;
    }
    if (!runs(op)) continue;
    auto node = it::parse_spec(op.example);
    EXPECT_EQ(node.kind, it::SpecNode::Kind::Op) << op.name;
    EXPECT_EQ(node.name, op.name);
    EXPECT_EQ(node.args.size(), op.args.size()) << op.name;
    std::vector<std::string> columns;
    for (const auto& p : op.params) columns.push_back(op.name + "." + p);
    EXPECT_EQ(t->param_names(), columns) << op.name;
    if (!op.args.empty()) {
      EXPECT_NE(op.check, nullptr) << op.name << " checks no argument";
    }
    if (const auto* g = std::get_if<it::Geometric>(&op.run)) {
      EXPECT_NE(g->map, nullptr) << op.name;
    }
    if (const auto* p = std::get_if<it::PerImage>(&op.run)) {
      EXPECT_NE(p->image, nullptr) << op.name;
      if (p->tensor) {
        EXPECT_NE(p->draw, nullptr) << op.name << " has a tensor version but draws nothing for it";
      }
    }
  }
}

TEST(TransformOps, DrawsWriteExactlyTheirColumns) {
  for (const auto& op : it::all_ops()) {
    if (!runs(op)) continue;
    const auto args = example_args(op);
    for (int64_t key = 0; key < 20; ++key) {
      std::vector<float> row(op.params.size() + 1, NAN);
      draw(op, args, key, {row.data()});
      for (size_t i = 0; i < op.params.size(); ++i) EXPECT_FALSE(std::isnan(row[i])) << op.name << "." << op.params[i];
      EXPECT_TRUE(std::isnan(row.back())) << op.name << " writes past its columns";
      draw(op, args, key, {});  // not recording
    }
  }
}

TEST(TransformOps, TensorVersionsMatchTheImageVersions) {
  // The tensor versions serve CUDA; on the CPU they must agree with the kernels.
  const int64_t n = 16;
  auto x = random_images(n, 2, 9, 12);
  x.masked_fill_(x < 80, 0);  // zeros, for background
  for (const auto& op : it::all_ops()) {
    const auto* p = std::get_if<it::PerImage>(&op.run);
    if (!p || !p->tensor) continue;
    const auto args = example_args(op);
    auto values = torch::empty({n}, torch::kDouble);
    auto kernel = x.clone();
    std::vector<float> scratch;
    std::vector<uint8_t> spare(static_cast<size_t>(x[0].numel()));
    for (int64_t i = 0; i < n; ++i) {
      invkit::Draws r(5, i, 1);
      double v = p->draw(args, r, {});
      values[i] = v;
      it::Image im{kernel[i].data_ptr<uint8_t>(), spare.data(), 2, 9, 12, scratch};
      p->image(args, v, r, im);
      ASSERT_EQ(im.pixels, kernel[i].data_ptr<uint8_t>()) << op.name << " has a tensor version but resamples";
    }
    auto tensor = p->tensor(x, values);
    EXPECT_EQ(tensor.sizes(), x.sizes()) << op.name;
    EXPECT_LE((tensor.to(torch::kInt) - kernel.to(torch::kInt)).abs().max().item<int>(), 1) << op.name;
  }
}
