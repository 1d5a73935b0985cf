#include "invkit/io/npy.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testing.h"

using invkit::testing::error_of;
using invkit::testing::fixture;

namespace {

// The pixel formula of test/fixtures/make-npz-fixtures.py.
int64_t pixel(int64_t i, int64_t y, int64_t x, int64_t c = 0) { return (i * 50 + y * 10 + x * 3 + c) % 256; }

std::string npy(const std::string& dict, const std::string& data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

}  // namespace

TEST(Npy, ReadsWhatNumpySavezWrites) {
  auto images = invkit::io::read_numpy_array(fixture("npz/k49-like-imgs.npz"), "");
  ASSERT_EQ(images.sizes(), (std::vector<int64_t>{5, 3, 4}));
  EXPECT_EQ(images.scalar_type(), torch::kByte);
  EXPECT_EQ(images[4][2][3].item<int64_t>(), pixel(4, 2, 3));
  auto labels = invkit::io::read_numpy_array(fixture("npz/k49-like-labels.npz"), "arr_0");
  EXPECT_TRUE(torch::equal(labels.to(torch::kLong), torch::tensor({0, 2, 1, 2, 0}, torch::kLong)));
}

TEST(Npy, ReadsCompressedArchivesByKey) {
  auto arrays = invkit::io::read_npz(fixture("npz/rgb-compressed.npz"));
  ASSERT_EQ(arrays.size(), 2u);
  EXPECT_EQ(arrays[0].first, "x_train");
  EXPECT_EQ(arrays[1].first, "y_train");
  auto x = arrays[0].second;
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{4, 2, 3, 3}));
  EXPECT_EQ(x[3][1][2][2].item<int64_t>(), pixel(3, 1, 2, 2));
  EXPECT_TRUE(torch::equal(arrays[1].second, torch::tensor({1, 0, 1, 3}, torch::kLong)));
  EXPECT_EQ(error_of([] { invkit::io::read_numpy_array(fixture("npz/rgb-compressed.npz"), ""); }),
            fixture("npz/rgb-compressed.npz") + " holds several arrays (x_train, y_train): say which with a key");
  EXPECT_EQ(error_of([] { invkit::io::read_numpy_array(fixture("npz/rgb-compressed.npz"), "x"); }),
            fixture("npz/rgb-compressed.npz") + ": no array \"x\" (it holds x_train, y_train)");
}

TEST(Npy, BigEndianAndFortranOrderReadAsNumpyMeansThem) {
  auto labels = invkit::io::read_npy(fixture("npz/labels-be-i4.npy"));
  EXPECT_TRUE(torch::equal(labels, torch::tensor({0, 2, 1, 2, 0}, torch::kInt)));
  auto images = invkit::io::read_npy(fixture("npz/imgs-fortran.npy"));
  ASSERT_EQ(images.sizes(), (std::vector<int64_t>{5, 3, 4}));
  for (int64_t i : {0, 1, 4})
    for (int64_t y = 0; y < 3; ++y)
      for (int64_t x = 0; x < 4; ++x) EXPECT_EQ(images[i][y][x].item<int64_t>(), pixel(i, y, x));
}

TEST(Npy, ImageSetLayouts) {
  auto hwc = invkit::io::read_numpy_array(fixture("npz/rgb-compressed.npz"), "x_train");
  auto y = torch::tensor({1, 0, 1, 3}, torch::kLong);
  auto set = invkit::io::numpy_image_set(hwc, "x.npz", y, "y.npz", "");
  ASSERT_EQ(set.images.sizes(), (std::vector<int64_t>{4, 3, 2, 3}));  // guessed channels-last
  EXPECT_EQ(set.images[3][2][1][2].item<int64_t>(), pixel(3, 1, 2, 2));
  EXPECT_EQ(error_of([&] { invkit::io::numpy_image_set(torch::zeros({2, 3, 4, 3}, torch::kByte), "x.npy", y.slice(0, 0, 2), "y.npy", ""); }),
            "x.npy: images (2, 3, 4, 3) could be channels-last or channels-first: give layout nhwc or layout nchw");
  auto chw = invkit::io::numpy_image_set(torch::zeros({2, 3, 4, 3}, torch::kByte), "x.npy", y.slice(0, 0, 2), "y.npy", "nchw");
  EXPECT_EQ(chw.images.sizes(), (std::vector<int64_t>{2, 3, 4, 3}));
}

TEST(Npy, RefusesWhatItCannotReadNamingTheFile) {
  const std::string f32 = fixture("npz/imgs-float32.npy");
  auto floats = invkit::io::read_npy(f32);
  EXPECT_EQ(error_of([&] { invkit::io::numpy_image_set(floats, f32, torch::zeros({5}, torch::kLong), "y", ""); }),
            f32 + ": images are Float, expected uint8 (0..255); convert them in NumPy first, e.g. (x * 255).round().astype(np.uint8)");
  EXPECT_EQ(error_of([] { invkit::io::read_npy(fixture("npz/objects.npy")); }),
            fixture("npz/objects.npy") +
                ": array dtype '|O' is not supported (integers, bool, float32 and float64 are; not objects, strings or records)");
  auto three = invkit::io::read_npy(fixture("npz/labels-3.npy"));
  EXPECT_EQ(error_of([&] { invkit::io::numpy_image_set(torch::zeros({5, 3, 4}, torch::kByte), "x.npy", three, "y.npy", ""); }),
            "y.npy: 3 labels for 5 images in x.npy");
  EXPECT_EQ(error_of([] { invkit::io::read_npz(fixture("tiny-images.idx")); }).rfind(fixture("tiny-images.idx") + ": not a readable .npz (zip) archive", 0), 0u);
}

TEST(Npy, HeaderErrorsAndSizeOverflow) {
  EXPECT_TRUE(torch::equal(invkit::io::parse_npy(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", "\x01\x02"), "a.npy"),
                           torch::tensor({1, 2}, torch::kByte)));
  EXPECT_EQ(error_of([] { invkit::io::parse_npy("PK\x03\x04 and more", "a.npy"); }), "a.npy: not a NumPy .npy file (no \\x93NUMPY magic)");
  EXPECT_EQ(error_of([] { invkit::io::parse_npy(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", "\x01\x02"), "a.npy"); }),
            "a.npy: array (3) of '|u1' needs 3 data bytes but the file has 2");
  // 2^61 int64 elements: 2^64 bytes wraps to 0 without a check.
  EXPECT_EQ(error_of([] { invkit::io::parse_npy(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2305843009213693952,), }", ""), "a.npy"); }),
            "a.npy: array shape (2305843009213693952) of '<i8' overflows its byte size");
  EXPECT_EQ(error_of([] { invkit::io::parse_npy(npy("{'descr': '|u1', 'shape': (2,), }", "\x01\x02"), "a.npy"); }).substr(0, 40),
            "a.npy: not a NumPy .npy header (it needs");
  std::string cut = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", "\x01\x02");
  cut[8] = '\x7F';
  cut[9] = '\x7F';
  EXPECT_EQ(error_of([&] { invkit::io::parse_npy(cut, "a.npy"); }), "a.npy: .npy header length 32639 runs past the end of the file");
}

TEST(Npy, EmptyArrayWhoseOtherDimensionsOverflowIsRefusedAsNumpyRefusesIt) {
  // Found by fuzzing: 0 elements, but the other dimensions multiply past
  // int64; in Fortran order LibTorch saw them first and threw its own error.
  const std::string f = fixture("npz/empty-fortran-overflowing-shape.npy");
  EXPECT_EQ(error_of([&] { invkit::io::read_npy(f); }),
            f + ": array shape (0, 2, 3, 444444444444, 444444, 44441) of '|u4' overflows its byte size");
  EXPECT_EQ(error_of([] { invkit::io::parse_npy(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (0, 1099511627776, 1099511627776), }", ""), "a.npy"); }),
            "a.npy: array shape (0, 1099511627776, 1099511627776) of '|u1' overflows its byte size");
  // What NumPy accepts still reads: zero rows of huge-but-valid rows.
  auto t = invkit::io::parse_npy(npy("{'descr': '<i8', 'fortran_order': True, 'shape': (0, 1152921504606846975), }", ""), "a.npy");
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{0, 1152921504606846975}));
}

TEST(Npy, ZipEntryClaimingMoreThanItHoldsIsAnErrorNotA4GiBAllocation) {
  // Found by fuzzing (libFuzzer: out-of-memory): a member's uncompressed size
  // is the archive's claim, and the reader allocated it before reading. Here
  // 136 bytes deflated, both zip headers patched to say 0xFFFFFFF0 (195 bytes in all).
  const std::string f = fixture("npz/entry-claims-4gib.npz");
  EXPECT_EQ(error_of([&] { invkit::io::read_npz(f); }),
            f + ": member arr_0.npy: holds 136 bytes but its zip entry says 4294967280");
}

// A .npz member read a block of rows at a time holds what the whole read
// holds, stored (np.savez) or deflated (np.savez_compressed); arrays that are
// not uint8 are not streamable; a member whose zip entry claims more than
// its header's shape needs is refused when it is opened.
TEST(Npy, NpzRowReaderReadsBlocksOfRows) {
  for (const auto& [file, key] : {std::pair<std::string, std::string>{"npz/k49-like-imgs.npz", ""},
                                  {"npz/rgb-compressed.npz", "x_train"}}) {
    const torch::Tensor whole = invkit::io::read_numpy_array(fixture(file), key);
    invkit::io::NpzRowReader rows(fixture(file), key);
    ASSERT_TRUE(rows.streamable());
    EXPECT_EQ(rows.shape(), whole.sizes().vec());
    std::vector<torch::Tensor> blocks;
    for (int64_t got = 0; got < whole.size(0); got += blocks.back().size(0)) blocks.push_back(rows.read(3));
    EXPECT_EQ(blocks.size(), 2u) << file;
    EXPECT_EQ(blocks[0].size(0), 3) << file;
    EXPECT_TRUE(torch::equal(torch::cat(blocks), whole)) << file;
    EXPECT_EQ(rows.read(3).size(0), 0) << file;
  }
  EXPECT_FALSE(invkit::io::NpzRowReader(fixture("npz/rgb-compressed.npz"), "y_train").streamable());
  const std::string f = fixture("npz/entry-claims-4gib.npz");
  EXPECT_EQ(error_of([&] { invkit::io::NpzRowReader(f, ""); }),
            f + ": member arr_0.npy: array (2, 2, 2) of '|u1' needs 8 data bytes but its zip entry says 4294967152");
  EXPECT_TRUE(invkit::io::is_npy(fixture("npz/labels-3.npy")));
  EXPECT_FALSE(invkit::io::is_npy(fixture("npz/rgb-compressed.npz")));
}

// A .npy file is mapped: an array read as it is stored is a view of the
// mapping (its storage cannot grow, unlike one LibTorch allocated); one that
// needs converting (big-endian here) is a copy. Both hold the file's values.
TEST(Npy, FileArraysAreViewsOfTheMappingWhenNoConversionIsNeeded) {
  invkit::testing::TempDir dir;
  auto write = [&](const std::string& name, const std::string& bytes) {
    const std::string path = (dir.path / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  };
  auto u8 = invkit::io::read_npy(write("u8.npy", npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }",
                                                     std::string("\x01\x02\x03\x04", 4))));
  EXPECT_TRUE(torch::equal(u8, torch::tensor({1, 2, 3, 4}, torch::kByte).view({2, 2})));
  EXPECT_FALSE(u8.storage().resizable());
  auto be = invkit::io::read_npy(
      write("be.npy", npy("{'descr': '>i2', 'fortran_order': False, 'shape': (2,), }", std::string("\x00\x05\x01\x00", 4))));
  EXPECT_TRUE(torch::equal(be, torch::tensor({5, 256}, torch::kShort)));
  EXPECT_TRUE(be.storage().resizable());
}
