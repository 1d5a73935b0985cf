#include <gtest/gtest.h>

#include "invkit/train/schedule.h"

using invkit::train::learning_rate;
using invkit::train::Schedule;

TEST(Schedule, EveryBoundary) {
  Schedule s{0.1, 5, 160, 180};
  // Warm-up: epochs 1..5 (0-based 0..4) ramp linearly to lr.
  EXPECT_DOUBLE_EQ(learning_rate(s, 0), 0.02);
  EXPECT_DOUBLE_EQ(learning_rate(s, 1), 0.04);
  EXPECT_DOUBLE_EQ(learning_rate(s, 4), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate(s, 5), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate(s, 159), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate(s, 160), 0.1 * 1e-2);
  EXPECT_DOUBLE_EQ(learning_rate(s, 179), 0.1 * 1e-2);
  EXPECT_DOUBLE_EQ(learning_rate(s, 180), 0.1 * 1e-4);
  EXPECT_DOUBLE_EQ(learning_rate(s, 199), 0.1 * 1e-4);
  // No warm-up.
  Schedule k{0.05, 0, 30, 40};
  EXPECT_DOUBLE_EQ(learning_rate(k, 0), 0.05);
  EXPECT_DOUBLE_EQ(learning_rate(k, 29), 0.05);
  EXPECT_DOUBLE_EQ(learning_rate(k, 30), 0.0005);
  EXPECT_DOUBLE_EQ(learning_rate(k, 40), 0.05 * 1e-4);
}
