#include "invkit/data/sampling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "invkit/error.h"

using namespace invkit;

namespace {

// Labels with class c holding sizes[c] rows, interleaved so classes mix.
std::vector<int64_t> make_labels(const std::vector<int64_t>& sizes) {
  std::vector<int64_t> left = sizes, labels;
  for (bool more = true; more;) {
    more = false;
    for (size_t c = 0; c < left.size(); ++c)
      if (left[c] > 0) {
        labels.push_back(static_cast<int64_t>(c));
        --left[c];
        more = true;
      }
  }
  return labels;
}

std::map<int64_t, int64_t> count(const std::vector<int64_t>& labels, const std::vector<int64_t>& rows) {
  std::map<int64_t, int64_t> n;
  for (int64_t r : rows) ++n[labels[r]];
  return n;
}

// A small data set: row r has label labels[r] and every pixel equal to r % 256.
Dataset make_dataset(const std::vector<int64_t>& labels, int64_t classes) {
  Dataset d;
  const auto n = static_cast<int64_t>(labels.size());
  d.labels = torch::tensor(labels, torch::kLong);
  d.images = (torch::arange(n, torch::kLong) % 256).to(torch::kByte).view({n, 1, 1, 1}).expand({n, 1, 2, 3}).contiguous();
  d.class_names = numbered_class_names(classes);
  return d;
}

std::vector<ImageShape> shapes_of(const std::vector<Dataset>& parts) {
  std::vector<ImageShape> shapes;
  for (const auto& p : parts) shapes.push_back(p.image_shape());
  return shapes;
}

}  // namespace

TEST(Sampling, RandomSubsetIsSortedDistinctAndSeeded) {
  auto s = random_subset(100, 30, 5);
  EXPECT_EQ(s.size(), 30u);
  EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
  EXPECT_EQ(std::set<int64_t>(s.begin(), s.end()).size(), 30u);
  EXPECT_GE(s.front(), 0);
  EXPECT_LT(s.back(), 100);
  EXPECT_EQ(s, random_subset(100, 30, 5));
  EXPECT_NE(s, random_subset(100, 30, 6));
  EXPECT_EQ(random_subset(4, 4, 1), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_TRUE(random_subset(4, 0, 1).empty());
}

TEST(Sampling, SelectPerClassGivesExactCounts) {
  auto labels = make_labels({50, 40, 30});
  auto sel = select_per_class(labels, {10, 0, 30}, numbered_class_names(3), 0, false);
  EXPECT_EQ(count(labels, sel.rows), (std::map<int64_t, int64_t>{{0, 10}, {2, 30}}));
  EXPECT_TRUE(std::is_sorted(sel.rows.begin(), sel.rows.end()));
  EXPECT_EQ(std::set<int64_t>(sel.rows.begin(), sel.rows.end()).size(), 40u);
  EXPECT_TRUE(sel.repeated.empty());
  EXPECT_EQ(sel.rows, select_per_class(labels, {10, 0, 30}, numbered_class_names(3), 0, false).rows);
  EXPECT_NE(sel.rows, select_per_class(labels, {10, 0, 30}, numbered_class_names(3), 1, false).rows);
  // A class's subset depends on its own seed stream only, not on other targets.
  auto other = select_per_class(labels, {10, 40, 0}, numbered_class_names(3), 0, false);
  std::vector<int64_t> a, b;
  for (int64_t r : sel.rows) if (labels[r] == 0) a.push_back(r);
  for (int64_t r : other.rows) if (labels[r] == 0) b.push_back(r);
  EXPECT_EQ(a, b);
}

TEST(Sampling, TooFewRowsIsAnErrorNamingTheClass) {
  auto labels = make_labels({5, 3});
  try {
    select_per_class(labels, {5, 4}, {"shirt", "dress"}, 0, false);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "class 1 (dress) has 3 rows but 4 are asked (allow_repeat repeats rows)");
  }
  // An empty class cannot be repeated either.
  auto only0 = make_labels({5, 0});
  EXPECT_THROW(select_per_class(only0, {5, 1}, numbered_class_names(2), 0, true), Error);
  EXPECT_NO_THROW(select_per_class(only0, {5, 0}, numbered_class_names(2), 0, false));
}

TEST(Sampling, AllowRepeatTakesAllRowsThenARandomRemainder) {
  auto labels = make_labels({3, 4});
  auto sel = select_per_class(labels, {8, 2}, numbered_class_names(2), 3, true);
  std::map<int64_t, int64_t> times;
  for (int64_t r : sel.rows) ++times[r];
  std::vector<int64_t> class0;
  for (size_t r = 0; r < labels.size(); ++r) if (labels[r] == 0) class0.push_back(static_cast<int64_t>(r));
  // 8 = 2 * 3 + 2: every row of class 0 twice, two of them three times.
  int thrice = 0;
  for (int64_t r : class0) {
    EXPECT_GE(times[r], 2);
    EXPECT_LE(times[r], 3);
    thrice += times[r] == 3;
  }
  EXPECT_EQ(thrice, 2);
  EXPECT_EQ(count(labels, sel.rows), (std::map<int64_t, int64_t>{{0, 8}, {1, 2}}));
  EXPECT_TRUE(std::is_sorted(sel.rows.begin(), sel.rows.end()));
  ASSERT_EQ(sel.repeated.size(), 1u);
  EXPECT_EQ(sel.repeated[0]["class"], 0);
  EXPECT_EQ(sel.repeated[0]["available"], 3);
  EXPECT_EQ(sel.repeated[0]["rows"], 8);
}

TEST(Sampling, BalanceOversamplesToTheLargestClass) {
  auto labels = make_labels({20, 7, 1});
  auto sel = select_per_class(labels, {20, 20, 20}, numbered_class_names(3), 0, true);
  EXPECT_EQ(count(labels, sel.rows), (std::map<int64_t, int64_t>{{0, 20}, {1, 20}, {2, 20}}));
  EXPECT_EQ(sel.repeated.size(), 2u);
}

TEST(Sampling, SplitIsStratifiedDisjointAndComplete) {
  auto labels = make_labels({100, 55, 7, 0, 3});
  auto s = stratified_split(labels, 5, 0.2, 0);
  // round(0.2 * n): 20, 11, 1 (1.4), 0, 1 (0.6)
  EXPECT_EQ(count(labels, s.named), (std::map<int64_t, int64_t>{{0, 20}, {1, 11}, {2, 1}, {4, 1}}));
  EXPECT_EQ(count(labels, s.remainder), (std::map<int64_t, int64_t>{{0, 80}, {1, 44}, {2, 6}, {4, 2}}));
  std::vector<int64_t> all = s.named;
  all.insert(all.end(), s.remainder.begin(), s.remainder.end());
  std::sort(all.begin(), all.end());
  std::vector<int64_t> every(labels.size());
  std::iota(every.begin(), every.end(), 0);
  EXPECT_EQ(all, every);  // disjoint and complete
  EXPECT_TRUE(std::is_sorted(s.named.begin(), s.named.end()));
  EXPECT_EQ(s.named, stratified_split(labels, 5, 0.2, 0).named);
  EXPECT_NE(s.named, stratified_split(labels, 5, 0.2, 1).named);
  EXPECT_EQ(stratified_split(make_labels({5}), 1, 0.5, 0).named.size(), 3u);  // 2.5 rounds up
  EXPECT_TRUE(stratified_split(labels, 5, 0.0, 0).named.empty());
  EXPECT_TRUE(stratified_split(labels, 5, 1.0, 0).remainder.empty());
}

TEST(Sampling, ShardsCoverEveryRowOnce) {
  for (int64_t rows : {0, 1, 7, 10, 1001}) {
    for (int64_t n : {1, 3, 4, 10}) {
      int64_t next = 0, lo = rows, hi = 0;
      for (int64_t i = 0; i < n; ++i) {
        auto [b, e] = shard_range(rows, i, n);
        EXPECT_EQ(b, next);
        next = e;
        lo = std::min(lo, e - b);
        hi = std::max(hi, e - b);
      }
      EXPECT_EQ(next, rows);
      EXPECT_LE(hi - lo, 1);  // nearly equal
    }
  }
  EXPECT_EQ(shard_range(10, 1, 4), (std::pair<int64_t, int64_t>{2, 5}));
}

TEST(Sampling, SelectRowsKeepsIndex) {
  Dataset d = make_dataset(make_labels({3, 3}), 2);
  Dataset s = select_rows(d, {1, 1, 4});
  EXPECT_EQ(s.size(), 3);
  EXPECT_TRUE(torch::equal(s.index, torch::tensor(std::vector<int64_t>{1, 1, 4}, torch::kLong)));
  EXPECT_EQ(s.images[2][0][1][2].item<int>(), 4);
  EXPECT_EQ(select_rows(d, {}).size(), 0);
}

TEST(Sampling, ConcatOfShardsEqualsTheOriginal) {
  Dataset d = make_dataset(make_labels({10, 7, 4}), 3);
  d.params = torch::arange(21 * 2, torch::kFloat).view({21, 2});
  std::vector<Dataset> parts;
  std::vector<std::string> names;
  for (int64_t i = 0; i < 4; ++i) {
    auto [b, e] = shard_range(d.size(), i, 4);
    std::vector<int64_t> rows;
    for (int64_t r = b; r < e; ++r) rows.push_back(r);
    parts.push_back(select_rows(d, rows));
    names.push_back("part" + std::to_string(i) + ".st");
  }
  Dataset whole = concat(parts, shapes_of(parts), names);
  EXPECT_TRUE(torch::equal(whole.images, d.images));
  EXPECT_TRUE(torch::equal(whole.labels, d.labels));
  EXPECT_TRUE(torch::equal(whole.params, d.params));
  EXPECT_TRUE(torch::equal(whole.index, torch::arange(21, torch::kLong)));
  EXPECT_EQ(whole.class_names, d.class_names);
}

TEST(Sampling, ConcatOfHeadsHasNoImages) {
  Dataset a = make_dataset(make_labels({2, 1}), 2), b = make_dataset(make_labels({1, 2}), 2);
  const std::vector<ImageShape> shapes{a.image_shape(), b.image_shape()};
  a.images = b.images = torch::Tensor();
  Dataset whole = concat({a, b}, shapes, {"a.st", "b.st"});
  EXPECT_FALSE(whole.images.defined());
  EXPECT_TRUE(torch::equal(whole.labels, torch::tensor({0, 1, 0, 0, 1, 1}, torch::kLong)));
  try {
    concat({a, b}, {shapes[0], {1, 2, 2}}, {"a.st", "b.st"});
    ADD_FAILURE() << "a shape that differs was accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "b.st has image shape 1x2x2 but a.st has 1x2x3; cannot concatenate");
  }
}

TEST(Sampling, ConcatRefusesMismatchesNamingTheFile) {
  Dataset a = make_dataset(make_labels({2, 2}), 2);
  Dataset b = make_dataset(make_labels({2, 2}), 3);
  auto message = [](const std::vector<Dataset>& parts) {
    try {
      concat(parts, shapes_of(parts), {"a.st", "b.st"});
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message({a, b}),
            "b.st: has 3 classes but a.st has 2; without class names on both sides, classes are matched by position "
            "and the counts must agree");
  Dataset c = a;
  c.images = torch::zeros({4, 1, 3, 3}, torch::kByte);
  EXPECT_EQ(message({a, c}), "b.st has image shape 1x3x3 but a.st has 1x2x3; cannot concatenate");
  Dataset i = select_rows(a, {0, 1});
  EXPECT_EQ(message({a, i}), "b.st has a tensor index but a.st has no tensor index; cannot concatenate");
  Dataset p = a;
  p.params = torch::zeros({4, 1});
  EXPECT_EQ(message({a, p}), "b.st has a tensor params but a.st has no tensor params; cannot concatenate");
}
