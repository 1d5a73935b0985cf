#include "invkit/data/dataset_reader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <functional>
#include <thread>

#include "invkit/data/dataset.h"
#include "invkit/io/safetensors.h"
#include "testing.h"

using invkit::Dataset;
using invkit::DatasetReader;
using invkit::testing::error_of;

namespace {

Dataset sample_set() {
  Dataset d;
  d.images = torch::randint(0, 256, {9, 1, 3, 2}, torch::kLong).to(torch::kUInt8);
  d.labels = torch::tensor({0, 1, 1, 2, 1, 0, 2, 2, 0}, torch::kLong);
  d.index = torch::arange(9, torch::kLong).flip(0);
  d.params = torch::randn({9, 2});
  d.class_names = {"a", "b", "c"};
  d.extra["params_columns"] = {"angle", "level"};
  d.add_history({{"tool", "test"}});
  return d;
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

// Runs `body` on a reader of `bytes` fed through a FIFO by another thread.
void through_fifo(const invkit::testing::TempDir& dir, const std::vector<uint8_t>& bytes,
                  const std::function<void(const std::string&)>& body) {
  const std::string fifo = dir / "fifo";
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] {
    std::ofstream f(fifo, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  });
  try {
    body(fifo);
  } catch (...) {
    writer.join();
    throw;
  }
  writer.join();
}

void expect_same_head(const Dataset& head, const Dataset& d) {
  EXPECT_FALSE(head.images.defined());
  EXPECT_TRUE(torch::equal(head.labels, d.labels));
  EXPECT_TRUE(torch::equal(head.index, d.index));
  EXPECT_TRUE(torch::equal(head.params, d.params));
  EXPECT_EQ(head.class_names, d.class_names);
  EXPECT_EQ(head.extra, d.extra);
}

}  // namespace

// From a file any rows in any order; from a pipe in order, skipped rows read
// past. Both give Dataset::load's set.
TEST(DatasetReader, ReadsFilesAndPipesAsLoadDoes) {
  invkit::testing::TempDir dir;
  const Dataset d = sample_set();
  d.save(dir / "set.st");
  const Dataset loaded = Dataset::load(dir / "set.st");
  {
    DatasetReader r(dir / "set.st");
    expect_same_head(r.head(), loaded);
    EXPECT_EQ(r.size(), 9);
    EXPECT_EQ((std::array<int64_t, 3>{r.channels(), r.height(), r.width()}), (std::array<int64_t, 3>{1, 3, 2}));
    EXPECT_TRUE(torch::equal(r.images(5, 9), d.images.slice(0, 5, 9)));
    EXPECT_TRUE(torch::equal(r.images(0, 2), d.images.slice(0, 0, 2)));
    const auto rows = torch::tensor({5, 0, 1, 2, 5, 8}, torch::kLong);
    EXPECT_TRUE(torch::equal(r.gather(rows), d.images.index_select(0, rows)));
    r.finish();
  }
  through_fifo(dir, file_bytes(dir / "set.st"), [&](const std::string& fifo) {
    DatasetReader r(fifo);
    expect_same_head(r.head(), loaded);
    EXPECT_TRUE(torch::equal(r.images(2, 4), d.images.slice(0, 2, 4)));
    EXPECT_TRUE(torch::equal(r.images(4, 4), d.images.slice(0, 4, 4)));
    EXPECT_TRUE(torch::equal(r.images(6, 8), d.images.slice(0, 6, 8)));
    EXPECT_EQ(error_of([&] { r.images(0, 1); }), fifo + ": internal: a pipe read at data offset 216 after 264");
    r.finish();  // reads the last row
  });
  through_fifo(dir, file_bytes(dir / "set.st"), [&](const std::string& fifo) {
    DatasetReader r(fifo);  // any rows from a pipe: its pixels are read whole, once
    const auto rows = torch::tensor({7, 1, 1, 3}, torch::kLong);
    EXPECT_TRUE(torch::equal(r.gather(rows), d.images.index_select(0, rows)));
    EXPECT_TRUE(torch::equal(r.gather(rows.flip(0)), d.images.index_select(0, rows.flip(0))));
    r.finish();
  });
}

// A pipe cut short, or with bytes after its data, is refused with the
// messages a whole read gives.
TEST(DatasetReader, RefusesShortAndLongPipes) {
  invkit::testing::TempDir dir;
  sample_set().save(dir / "set.st");
  auto bytes = file_bytes(dir / "set.st");
  auto cut = bytes;
  cut.resize(bytes.size() - 7);
  through_fifo(dir, cut, [&](const std::string& fifo) {
    DatasetReader r(fifo);
    EXPECT_EQ(error_of([&] { r.images(0, 9); }),
              fifo + ": not a valid safetensors file: tensor \"images\": data_offsets end 270 is past the data (263 "
                     "bytes): truncated file?");
  });
  auto longer = bytes;
  longer.push_back(0);
  through_fifo(dir, longer, [&](const std::string& fifo) {
    DatasetReader r(fifo);
    r.images(0, 9);
    EXPECT_EQ(error_of([&] { r.finish(); }),
              fifo + ": not a valid safetensors file: data section is longer than the 270 bytes the tensors cover");
  });
  // A file cut short is refused at open, as Dataset::load refuses it.
  invkit::testing::write_bytes(dir / "cut.st", cut);
  EXPECT_EQ(error_of([&] { DatasetReader r(dir / "cut.st"); }), error_of([&] { Dataset::load(dir / "cut.st"); }));
}

// Labels after the pixels (a layout other writers may choose): from a pipe
// the pixels are then read whole at open; the rows are the same.
TEST(DatasetReader, ReadsLabelsThatFollowThePixels) {
  invkit::testing::TempDir dir;
  const std::string header =
      R"({"images":{"dtype":"U8","shape":[3,1,2,2],"data_offsets":[0,12]},)"
      R"("labels":{"dtype":"I64","shape":[3],"data_offsets":[12,36]}})";
  std::vector<uint8_t> bytes(8);
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(header.size() >> (8 * i));
  bytes.insert(bytes.end(), header.begin(), header.end());
  for (int i = 0; i < 12; ++i) bytes.push_back(static_cast<uint8_t>(10 * i));
  for (int64_t label : {1, 0, 1})
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(label >> (8 * i)));
  through_fifo(dir, bytes, [&](const std::string& fifo) {
    DatasetReader r(fifo);
    EXPECT_TRUE(torch::equal(r.head().labels, torch::tensor({1, 0, 1}, torch::kLong)));
    EXPECT_EQ(r.head().class_names, (std::vector<std::string>{"0", "1"}));
    EXPECT_EQ(r.images(1, 2).flatten()[0].item<int>(), 40);
    r.finish();
  });
}
