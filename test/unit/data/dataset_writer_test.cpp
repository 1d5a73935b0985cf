#include "invkit/data/dataset_writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "invkit/data/dataset.h"
#include "testing.h"

using invkit::Dataset;
using invkit::DatasetWriter;
using invkit::testing::error_of;

namespace {

Dataset sample_set(bool with_params) {
  Dataset d;
  d.images = torch::randint(0, 256, {7, 2, 3, 4}, torch::kLong).to(torch::kUInt8);
  d.labels = torch::tensor({0, 1, 1, 2, 1, 0, 2}, torch::kLong);
  d.index = torch::tensor({6, 5, 4, 3, 2, 1, 0}, torch::kLong);
  d.class_names = {"a", "b", "c"};
  d.extra["params_columns"] = {"angle", "level"};
  d.add_history({{"tool", "test"}, {"arguments", {"x"}}});
  if (with_params) d.params = torch::randn({7, 2});
  return d;
}

std::vector<char> bytes_of(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

// Writes `d` through a DatasetWriter in chunks of 3, 0 and 4 rows.
void write_in_chunks(const std::string& path, const Dataset& d) {
  const int64_t p = d.params.defined() ? d.params.size(1) : -1;
  DatasetWriter w(path, d, {2, 3, 4}, p);
  for (auto [b, e] : {std::pair<int64_t, int64_t>{0, 3}, {3, 3}, {3, 7}})
    w.append(d.images.slice(0, b, e), p >= 0 ? d.params.slice(0, b, e) : torch::Tensor());
  EXPECT_EQ(w.rows_written(), 7);
  w.commit();
}

}  // namespace

// The streamed file is Dataset::save's file, byte for byte, with and without
// params (which a regular file gets at their place at commit()).
TEST(DatasetWriter, WritesSavesBytesToAFile) {
  invkit::testing::TempDir dir;
  for (bool with_params : {false, true}) {
    Dataset d = sample_set(with_params);
    d.save(dir / "saved.st");
    write_in_chunks(dir / "streamed.st", d);
    EXPECT_EQ(bytes_of(dir / "streamed.st"), bytes_of(dir / "saved.st")) << "params: " << with_params;
    EXPECT_FALSE(std::filesystem::exists(dir / "streamed.st.tmp"));
  }
}

// A FIFO cannot seek: a set with params holds its images until commit(); the
// bytes are the same either way.
TEST(DatasetWriter, WritesSavesBytesToAFifo) {
  invkit::testing::TempDir dir;
  const std::string fifo = dir / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (bool with_params : {false, true}) {
    Dataset d = sample_set(with_params);
    d.save(dir / "saved.st");
    std::vector<char> got;
    std::thread reader([&] { got = bytes_of(fifo); });
    write_in_chunks(fifo, d);
    reader.join();
    EXPECT_EQ(got, bytes_of(dir / "saved.st")) << "params: " << with_params;
  }
}

// Rows beyond the set's, or too few at commit(), are errors, and a writer
// that did not commit leaves no file.
TEST(DatasetWriter, CountsRowsAndLeavesNothingOnFailure) {
  invkit::testing::TempDir dir;
  Dataset d = sample_set(false);
  const std::string path = dir / "out.st";
  {
    DatasetWriter w(path, d, {2, 3, 4});
    w.append(d.images.slice(0, 0, 5));
    EXPECT_EQ(error_of([&] { w.append(d.images.slice(0, 0, 3)); }),
              path + ": internal: 8 rows written to a set of 7");
    EXPECT_EQ(error_of([&] { w.commit(); }), path + ": internal: 5 of 7 rows written");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  // The set is validated as save() validates it, before anything is written.
  d.labels[2] = 3;
  EXPECT_EQ(error_of([&] { DatasetWriter(path, d, {2, 3, 4}); }), path + ": label 3 at row 2 is out of range [0, 3)");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}
