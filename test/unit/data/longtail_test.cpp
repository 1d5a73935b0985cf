#include "invkit/data/longtail.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "invkit/error.h"

using namespace invkit;

namespace {

LongTailProfile zipf(double alpha, int64_t max, int64_t min) {
  LongTailProfile p;
  p.name = "zipf";
  p.alpha = alpha;
  p.max = max;
  p.min = min;
  return p;
}

}  // namespace

TEST(LongTail, ZipfK49Counts) {
  // The paper's K49-LT profile on 10 classes.
  EXPECT_EQ(zipf(2, 4800, 5).counts_by_position(10),
            (std::vector<int64_t>{4800, 1200, 533, 300, 192, 133, 97, 75, 59, 48}));
}

TEST(LongTail, ZipfMinClamps) {
  // 4800 / i^2 falls below 5 after i = 30 (4800/31^2 = 4.99...).
  auto n = zipf(2, 4800, 5).counts_by_position(49);
  EXPECT_EQ(n[29], 5);  // 4800 / 900 = 5.33
  EXPECT_EQ(n[30], 5);  // 4.99 clamped
  EXPECT_EQ(n[48], 5);
  EXPECT_EQ(zipf(2, 100, 30).counts_by_position(3), (std::vector<int64_t>{100, 30, 30}));
  EXPECT_EQ(zipf(0, 7, 0).counts_by_position(3), (std::vector<int64_t>{7, 7, 7}));
  // floor(10 / 4^2) = 0: only --counts may drop a class, so this needs --min.
  EXPECT_THROW(zipf(2, 10, 0).counts_by_position(4), UsageError);
  EXPECT_EQ(zipf(2, 10, 1).counts_by_position(4), (std::vector<int64_t>{10, 2, 1, 1}));
}

TEST(LongTail, ExpFirstIsMaxLastIsMaxOverRatio) {
  LongTailProfile p;
  p.name = "exp";
  p.ratio = 100;
  p.max = 5000;
  auto n = p.counts_by_position(10);
  EXPECT_EQ(n.front(), 5000);
  EXPECT_EQ(n.back(), 50);
  // CIFAR-10-LT (ratio 100): 5000 * 100^(-i/9), floored.
  EXPECT_EQ(n, (std::vector<int64_t>{5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50}));
  EXPECT_TRUE(std::is_sorted(n.rbegin(), n.rend()));
  EXPECT_EQ(p.counts_by_position(1), (std::vector<int64_t>{5000}));
  p.min = 100;
  EXPECT_EQ(p.counts_by_position(10).back(), 100);
}

TEST(LongTail, Step) {
  LongTailProfile p;
  p.name = "step";
  p.ratio = 10;
  p.max = 500;
  p.head = 3;
  EXPECT_EQ(p.counts_by_position(5), (std::vector<int64_t>{500, 500, 500, 50, 50}));
  p.ratio = 3;  // 500 / 3 = 166.67
  p.head = 0;
  EXPECT_EQ(p.counts_by_position(2), (std::vector<int64_t>{166, 166}));
}

TEST(LongTail, Counts) {
  LongTailProfile p;
  p.name = "counts";
  p.counts = {10, 0, 30};
  EXPECT_EQ(p.counts_by_position(3), (std::vector<int64_t>{10, 0, 30}));
  EXPECT_THROW(p.counts_by_position(4), UsageError);
  try {
    p.counts_by_position(2);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "counts has 3 numbers but the data set has 2 classes");
  }
  p.counts = {1, -1, 2};
  EXPECT_THROW(p.counts_by_position(3), UsageError);
}

TEST(LongTail, BadParametersAreUsageErrors) {
  EXPECT_THROW(zipf(-1, 10, 0).counts_by_position(3), UsageError);
  EXPECT_THROW(zipf(2, 0, 0).counts_by_position(3), UsageError);
  EXPECT_THROW(zipf(2, 10, 11).counts_by_position(3), UsageError);
  LongTailProfile p;
  p.name = "exp";
  p.max = 10;
  p.ratio = 0.5;
  EXPECT_THROW(p.counts_by_position(3), UsageError);
  p.name = "step";
  p.ratio = 2;
  p.head = 4;
  EXPECT_THROW(p.counts_by_position(3), UsageError);
  p.name = "pareto";
  EXPECT_THROW(p.counts_by_position(3), UsageError);
}

TEST(LongTail, FloorTolerant) {
  EXPECT_EQ(floor_tolerant(191.99999999999997), 192);
  EXPECT_EQ(floor_tolerant(192.4), 192);
  EXPECT_EQ(floor_tolerant(4.999), 4);
  EXPECT_EQ(floor_tolerant(0.0), 0);
}

TEST(LongTail, ClassOrders) {
  std::vector<int64_t> sizes = {5, 9, 9, 1};
  EXPECT_EQ(class_order(ClassOrder::as_is, sizes, 0), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(class_order(ClassOrder::size, sizes, 0), (std::vector<int64_t>{1, 2, 0, 3}));  // ties by id
  std::vector<int64_t> ten(10, 1);
  auto a = class_order(ClassOrder::shuffle, ten, 0);
  EXPECT_EQ(a, class_order(ClassOrder::shuffle, ten, 0));  // same seed, same order
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> ids(10);
  std::iota(ids.begin(), ids.end(), 0);
  EXPECT_EQ(sorted, ids);  // a permutation
  EXPECT_NE(a, ids);
  int differing = 0;
  for (uint64_t s = 1; s <= 5; ++s) differing += class_order(ClassOrder::shuffle, ten, s) != a;
  EXPECT_EQ(differing, 5);  // other seeds give other orders
  EXPECT_EQ(parse_class_order("as-is"), ClassOrder::as_is);
  EXPECT_THROW(parse_class_order("random"), UsageError);
}

TEST(LongTail, TargetsByClass) {
  EXPECT_EQ(targets_by_class({2, 0, 1}, {100, 10, 1}), (std::vector<int64_t>{10, 1, 100}));
}
