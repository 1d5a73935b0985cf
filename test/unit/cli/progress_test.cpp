// The tools' observer: the log is made when the first stretch begins and
// holds one line per record.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "invkit/cli/progress.h"
#include "testing.h"

namespace {

TEST(ProgressObserver, WritesOneLogLinePerRecordFromTheFirstStretch) {
  invkit::testing::TempDir dir;
  const std::string path = dir / "observer.jsonl";
  auto o = invkit::cli::progress_observer("it", true, path);
  EXPECT_FALSE(std::filesystem::exists(path));  // a run that fails its checks leaves no log
  o.begin("epoch 1/2", 3);
  for (int i = 1; i <= 3; ++i) o.step(i, "loss 1");
  o.end();
  o.record({{"epoch", 1}, {"loss", 0.5}});
  o.begin("epoch 2/2", 3);
  o.end();
  o.record({{"epoch", 2}});
  std::ifstream in(path);
  std::string a, b, c;
  std::getline(in, a);
  std::getline(in, b);
  EXPECT_EQ(a, R"({"epoch":1,"loss":0.5})");
  EXPECT_EQ(b, R"({"epoch":2})");
  EXPECT_FALSE(std::getline(in, c));
}

}  // namespace
