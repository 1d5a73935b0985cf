#include "invkit/metrics/ekld_protocol.h"

#include <gtest/gtest.h>

using namespace invkit::metrics;

namespace {
// A fixed "classifier": logits = per-class mean pixel of a few fixed masks.
torch::Tensor toy_logits(const torch::Tensor& images) {
  auto x = images.to(torch::kFloat).flatten(1) / 255.0;
  auto w = torch::arange(x.size(1) * 3, torch::kFloat).view({x.size(1), 3}).sin();
  return torch::mm(x, w);
}
}  // namespace

TEST(EkldProtocol, SelectsUpToNRowsOfEachClassBySeed) {
  auto labels = torch::tensor({1, 0, 1, 1, 2, 0, 1, 1, 1, 1}, torch::kLong);
  auto rows = ekld_rows(labels, 3, 2, 7);
  ASSERT_EQ(rows.size(0), 5);  // 2 of class 0, 2 of class 1, the single one of class 2
  auto picked = labels.index_select(0, rows);
  EXPECT_EQ((picked == 0).sum().item<int64_t>(), 2);
  EXPECT_EQ((picked == 1).sum().item<int64_t>(), 2);
  EXPECT_EQ((picked == 2).sum().item<int64_t>(), 1);
  EXPECT_TRUE(torch::equal(rows, std::get<0>(rows.sort())));
  EXPECT_TRUE(torch::equal(rows, ekld_rows(labels, 3, 2, 7)));
  bool differs = false;
  for (uint64_t seed = 0; seed < 10 && !differs; ++seed)
    differs = !torch::equal(rows, ekld_rows(labels, 3, 2, seed));
  EXPECT_TRUE(differs);
}

TEST(EkldProtocol, IdentityGivesZeroAndConsistencyOne) {
  torch::manual_seed(0);
  auto images = torch::randint(0, 256, {6, 1, 4, 4}).to(torch::kByte);
  auto identity = [](const torch::Tensor& x, const torch::Tensor&) { return x; };
  auto logits = collect_logits(images, 5, 7, identity, {toy_logits, toy_logits});
  ASSERT_EQ(logits.transformed.size(), 2u);
  EXPECT_EQ(logits.transformed[0].sizes(), (std::vector<int64_t>{6, 5, 3}));
  auto labels = torch::tensor({0, 0, 1, 1, 2, 2}, torch::kLong);
  auto rows = per_class_invariance(logits.original[0], logits.transformed[0], labels, 3);
  for (const auto& r : rows) {
    EXPECT_LE(r.ekld, 1e-7);
    EXPECT_EQ(r.consistency, 1.0);
  }
}

TEST(EkldProtocol, EachDrawPairsWithItsOwnOriginal) {
  // The transform returns its input darkened by a key-dependent amount; the
  // transformed logits of original m must come from original m's pixels.
  auto images = torch::stack({torch::full({1, 2, 2}, 200), torch::full({1, 2, 2}, 10)}).to(torch::kByte);
  auto darken = [](const torch::Tensor& x, const torch::Tensor& keys) {
    return (x.to(torch::kLong) - keys.view({-1, 1, 1, 1}).remainder(3)).clamp(0, 255).to(torch::kByte);
  };
  std::vector<torch::Tensor> seen;
  auto record = [&](const torch::Tensor& x) {
    seen.push_back(x.clone());
    return toy_logits(x);
  };
  collect_logits(images, 3, 4, darken, {record});
  auto transformed = torch::cat(std::vector<torch::Tensor>(seen.begin() + 1, seen.end()));
  ASSERT_EQ(transformed.size(0), 6);
  EXPECT_EQ(transformed[0].max().item<int>(), 200);  // key 0
  EXPECT_EQ(transformed[2].max().item<int>(), 198);  // key 2
  EXPECT_EQ(transformed[3].max().item<int>(), 10);   // original 1, key 3 → 0
  EXPECT_EQ(transformed[4].max().item<int>(), 9);
}

TEST(EkldProtocol, SummaryGroupsAndSpearman) {
  std::vector<ClassInvariance> rows(4);
  int64_t n[] = {4800, 300, 50, 5};
  double e[] = {0.01, 0.05, 0.04, 0.2};
  for (int i = 0; i < 4; ++i) {
    rows[i].id = i;
    rows[i].n_train = n[i];
    rows[i].ekld = e[i];
    rows[i].images = 40;
  }
  auto s = summarize(rows, 100, 20);
  EXPECT_NEAR(s.mean_ekld, 0.075, 1e-12);
  EXPECT_NEAR(s.spearman, -0.8, 1e-12);  // ranks n: 4,3,2,1; e: 1,3,2,4; sum d^2 = 18 → 1 - 6*18/60
  EXPECT_NEAR(s.groups["many"].get<double>(), 0.03, 1e-12);
  EXPECT_NEAR(s.groups["medium"].get<double>(), 0.04, 1e-12);
  EXPECT_NEAR(s.groups["few"].get<double>(), 0.2, 1e-12);
}
