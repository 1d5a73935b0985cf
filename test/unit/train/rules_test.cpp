#include <gtest/gtest.h>

#include "invkit/error.h"
#include "invkit/random.h"
#include "invkit/train/rules.h"

using namespace invkit::train;
using invkit::cpu_generator;

TEST(Rules, SwitchAtStep1) {
  for (int64_t e : {0, 100, 159}) {
    EXPECT_FALSE(plan_for(Rule::Drw, e, 160).class_weights);
    EXPECT_FALSE(plan_for(Rule::Drs, e, 160).balanced_sampling);
  }
  for (int64_t e : {160, 161, 199}) {
    EXPECT_TRUE(plan_for(Rule::Drw, e, 160).class_weights);
    EXPECT_FALSE(plan_for(Rule::Drw, e, 160).balanced_sampling);
    EXPECT_TRUE(plan_for(Rule::Drs, e, 160).balanced_sampling);
    EXPECT_FALSE(plan_for(Rule::Drs, e, 160).class_weights);
  }
  for (int64_t e : {0, 170}) {
    EXPECT_TRUE(plan_for(Rule::Resample, e, 160).balanced_sampling);
    EXPECT_TRUE(plan_for(Rule::Reweight, e, 160).class_weights);
    EXPECT_FALSE(plan_for(Rule::Erm, e, 160).balanced_sampling);
    EXPECT_FALSE(plan_for(Rule::Erm, e, 160).class_weights);
  }
  EXPECT_EQ(parse_rule("drs"), Rule::Drs);
  EXPECT_EQ(rule_name(parse_rule("reweight")), "reweight");
  EXPECT_THROW(parse_rule("smote"), invkit::UsageError);
}

TEST(Rules, BalancedSamplerIsUniformOverClasses) {
  // Classes of 1000, 100, 10 and 1 rows, an empty class 4.
  std::vector<int64_t> y;
  for (int c = 0; c < 4; ++c)
    for (int i = 0; i < (c == 0 ? 1000 : c == 1 ? 100 : c == 2 ? 10 : 1); ++i) y.push_back(c);
  auto labels = torch::tensor(y, torch::kLong);
  // Shuffle the rows so classes are not contiguous.
  auto g0 = cpu_generator(7);
  labels = labels.index_select(0, shuffled_order(labels.size(0), g0));
  const int64_t n = 40000;
  auto gen = cpu_generator(123);
  auto rows = BalancedSampler(labels, 5).draw(n, gen);
  ASSERT_EQ(rows.size(0), n);
  auto counts = torch::bincount(labels.index_select(0, rows), {}, 5);
  const double sd = std::sqrt(0.25 * 0.75 / n);
  for (int c = 0; c < 4; ++c) EXPECT_NEAR(counts[c].item<double>() / n, 0.25, 5 * sd) << "class " << c;
  EXPECT_EQ(counts[4].item<int64_t>(), 0);
  // Within class 2 (10 rows) each row is drawn about n/40 times.
  auto class2 = (labels == 2).nonzero().flatten();
  auto hits = torch::bincount(rows, {}, labels.size(0)).index_select(0, class2).to(torch::kDouble);
  const double expect = n / 4.0 / 10.0, sd_row = std::sqrt(expect * 0.9);
  EXPECT_LT((hits - expect).abs().max().item<double>(), 5 * sd_row);
}
