// CIFAR-10/100 binary batches: labels, pixel order, concatenation, errors.
#include <gtest/gtest.h>

#include "testing.h"
#include "invkit/error.h"
#include "invkit/io/cifar.h"
#include "invkit/io/file.h"

using invkit::io::CifarKind;
using invkit::testing::error_of;
using invkit::testing::fixture;
using invkit::testing::TempDir;
using invkit::testing::write_bytes;

namespace {

// Pixel j of record i in the fixtures (make-convert-fixtures.py).
int pixel(int i, int j) { return (i * 7 + j) % 256; }

std::vector<uint8_t> record10(uint8_t label, uint8_t r, uint8_t g, uint8_t b) {
  std::vector<uint8_t> rec{label};
  for (uint8_t v : {r, g, b}) rec.insert(rec.end(), 1024, v);
  return rec;
}

}  // namespace

TEST(Cifar, RecordSizes) {
  EXPECT_EQ(invkit::io::cifar_record_size(CifarKind::cifar10), 3073);
  EXPECT_EQ(invkit::io::cifar_record_size(CifarKind::cifar100), 3074);
}

TEST(Cifar, Cifar10LabelsAndPixels) {
  auto set = invkit::io::read_cifar({fixture("tiny-cifar10.bin")}, CifarKind::cifar10);
  ASSERT_EQ(set.images.sizes(), (std::vector<int64_t>{3, 3, 32, 32}));
  EXPECT_TRUE(torch::equal(set.labels, torch::tensor({7, 0, 9}, torch::kLong)));
  auto a = set.images.accessor<uint8_t, 4>();
  // Pixel j of a record is plane j / 1024 (R, G, B), row (j % 1024) / 32, column j % 32.
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3072; j += 97) ASSERT_EQ(a[i][j / 1024][(j % 1024) / 32][j % 32], pixel(i, j)) << i << " " << j;
  EXPECT_EQ(a[0][0][0][1], 1);
  EXPECT_EQ(a[0][1][0][0], 1024 % 256);
  EXPECT_EQ(a[2][2][31][31], (14 + 3071) % 256);
}

TEST(Cifar, PlanesAreRedGreenBlue) {
  TempDir dir;
  std::vector<uint8_t> bytes = record10(4, 200, 100, 50);
  write_bytes(dir / "one.bin", bytes);
  auto set = invkit::io::read_cifar({dir / "one.bin"}, CifarKind::cifar10);
  EXPECT_EQ(set.labels[0].item<int64_t>(), 4);
  EXPECT_EQ(set.images[0][0].min().item<int>(), 200);
  EXPECT_EQ(set.images[0][1].max().item<int>(), 100);
  EXPECT_EQ(set.images[0][2].max().item<int>(), 50);
}

TEST(Cifar, Cifar100FineAndCoarse) {
  const std::string f = fixture("tiny-cifar100.bin");
  auto fine = invkit::io::read_cifar({f}, CifarKind::cifar100);
  auto coarse = invkit::io::read_cifar({f}, CifarKind::cifar100, true);
  EXPECT_TRUE(torch::equal(fine.labels, torch::tensor({42, 99}, torch::kLong)));
  EXPECT_TRUE(torch::equal(coarse.labels, torch::tensor({3, 19}, torch::kLong)));
  EXPECT_TRUE(torch::equal(fine.images, coarse.images));
  EXPECT_EQ(fine.images[1][0][0][0].item<int>(), pixel(1, 0));
  EXPECT_EQ(fine.images[1][2][31][31].item<int>(), pixel(1, 3071));
}

TEST(Cifar, FilesConcatenateInOrder) {
  const std::string f = fixture("tiny-cifar10.bin");
  TempDir dir;
  write_bytes(dir / "one.bin", record10(5, 1, 2, 3));
  auto set = invkit::io::read_cifar({dir / "one.bin", f}, CifarKind::cifar10);
  ASSERT_EQ(set.images.size(0), 4);
  EXPECT_TRUE(torch::equal(set.labels, torch::tensor({5, 7, 0, 9}, torch::kLong)));
  EXPECT_EQ(set.images[0][2][5][5].item<int>(), 3);
  EXPECT_EQ(set.images[1][0][0][1].item<int>(), pixel(0, 1));
}

TEST(Cifar, LengthNotAMultipleNamesTheFile) {
  const std::string good = fixture("tiny-cifar10.bin"), bad = fixture("bad-length-cifar10.bin");
  EXPECT_EQ(error_of([&] { invkit::io::read_cifar({good, bad}, CifarKind::cifar10); }),
            bad + ": 6153 bytes is not a whole number of CIFAR-10 records of 3073 bytes");
  // A CIFAR-10 file read as CIFAR-100 (3 × 3073 = 9219 is not a multiple of 3074).
  EXPECT_EQ(error_of([&] { invkit::io::read_cifar({good}, CifarKind::cifar100); }),
            good + ": 9219 bytes is not a whole number of CIFAR-100 records of 3074 bytes");
}

TEST(Cifar, LabelOutOfRange) {
  const std::string f = fixture("bad-label-cifar10.bin");
  EXPECT_EQ(error_of([&] { invkit::io::read_cifar({f}, CifarKind::cifar10); }),
            f + ": record 0 has label 10, expected 0..9");
  TempDir dir;
  std::vector<uint8_t> rec(3074, 0);
  rec[0] = 20;  // coarse out of range, fine fine
  rec[1] = 5;
  write_bytes(dir / "c.bin", rec);
  EXPECT_NO_THROW(invkit::io::read_cifar({dir / "c.bin"}, CifarKind::cifar100));
  EXPECT_EQ(error_of([&] { invkit::io::read_cifar({dir / "c.bin"}, CifarKind::cifar100, true); }),
            dir / "c.bin" + ": record 0 has coarse label 20, expected 0..19");
}

TEST(Cifar, EmptyFile) {
  TempDir dir;
  write_bytes(dir / "empty.bin", {});
  EXPECT_EQ(error_of([&] { invkit::io::read_cifar({dir / "empty.bin"}, CifarKind::cifar10); }),
            dir / "empty.bin" + ": empty file, expected CIFAR-10 records");
  EXPECT_THROW(invkit::io::read_cifar({}, CifarKind::cifar10), invkit::UsageError);
}
