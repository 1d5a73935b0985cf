#include <gtest/gtest.h>

#include "invkit/cli/specs.h"
#include "invkit/error.h"

using namespace invkit;
using namespace invkit::cli;

TEST(Specs, SplitAndShard) {
  EXPECT_EQ(parse_split_spec("val=0.2"), (std::pair<std::string, double>{"val", 0.2}));
  for (const char* bad : {"val", "=0.2", "val=", "val=x", "val=0.2x", "val=1.5", "val=-0.1"})
    EXPECT_THROW(parse_split_spec(bad), UsageError) << bad;
  EXPECT_EQ(parse_shard_spec("2/5"), (std::pair<int64_t, int64_t>{2, 5}));
  for (const char* bad : {"5/5", "1", "a/2", "-1/2", "0/0", "1/", "/3", "1/2/3"})
    EXPECT_THROW(parse_shard_spec(bad), UsageError) << bad;
}
