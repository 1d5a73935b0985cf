// IDX reading (raw and gzipped), its errors, and the class-name lists.
#include <gtest/gtest.h>

#include "testing.h"
#include "invkit/data/class_names.h"
#include "invkit/error.h"
#include "invkit/io/file.h"
#include "invkit/io/idx.h"

using invkit::testing::error_of;
using invkit::testing::fixture;
using invkit::testing::TempDir;
using invkit::testing::write_bytes;

namespace {

// The fixture's pixel formula (make-convert-fixtures.py).
int pixel(int n, int y, int x) { return (n * 12 + y * 4 + x) * 3 % 256; }

}  // namespace

TEST(Idx, ReadsRawFiles) {
  auto set = invkit::io::read_idx(fixture("tiny-images.idx"), fixture("tiny-labels.idx"));
  ASSERT_EQ(set.images.sizes(), (std::vector<int64_t>{6, 1, 3, 4}));
  EXPECT_EQ(set.images.scalar_type(), torch::kByte);
  EXPECT_EQ(set.labels.scalar_type(), torch::kLong);
  auto a = set.images.accessor<uint8_t, 4>();
  for (int n = 0; n < 6; ++n)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 4; ++x) ASSERT_EQ(a[n][0][y][x], pixel(n, y, x)) << n << " " << y << " " << x;
  EXPECT_EQ(a[5][0][2][3], 213);  // (5*12 + 2*4 + 3) * 3 = 213
  EXPECT_TRUE(torch::equal(set.labels, torch::tensor({2, 0, 1, 1, 0, 2}, torch::kLong)));
}

TEST(Idx, GzipGivesTheSameAsRaw) {
  auto raw = invkit::io::read_idx(fixture("tiny-images.idx"), fixture("tiny-labels.idx"));
  auto gz = invkit::io::read_idx(fixture("tiny-images.idx.gz"), fixture("tiny-labels.idx.gz"));
  EXPECT_TRUE(torch::equal(raw.images, gz.images));
  EXPECT_TRUE(torch::equal(raw.labels, gz.labels));
}

TEST(Idx, TransposeSwapsHeightAndWidth) {
  auto t = invkit::io::read_idx_images(fixture("tiny-images.idx"), true);
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{6, 1, 4, 3}));
  auto a = t.accessor<uint8_t, 4>();
  EXPECT_EQ(a[1][0][3][2], pixel(1, 2, 3));
  EXPECT_EQ(a[4][0][0][1], pixel(4, 1, 0));
}

TEST(Idx, WrongMagicNamesTheFileAndBothNumbers) {
  const std::string f = fixture("bad-magic.idx");
  std::string msg = error_of([&] { invkit::io::read_idx_images(f); });
  EXPECT_EQ(msg, f + ": wrong magic number 0x03080000, expected 0x00000803 (IDX uint8 images)");
}

TEST(Idx, LabelFileGivenAsImagesSaysWhatItIs) {
  std::string msg = error_of([&] { invkit::io::read_idx_images(fixture("tiny-labels.idx")); });
  EXPECT_NE(msg.find("wrong magic number 0x00000801 (IDX uint8 labels), expected 0x00000803"), std::string::npos) << msg;
}

TEST(Idx, TruncatedImages) {
  const std::string f = fixture("truncated-images.idx");
  EXPECT_EQ(error_of([&] { invkit::io::read_idx_images(f); }),
            f + ": truncated: the header says 6x3x4 (72 bytes of data), the file holds 67");
}

TEST(Idx, TruncatedGzippedLabels) {
  const std::string f = fixture("truncated-labels.idx.gz");
  EXPECT_EQ(error_of([&] { invkit::io::read_idx_labels(f); }),
            f + ": truncated: the header says 6 (6 bytes of data), the file holds 5");
}

TEST(Idx, TrailingDataIsAnError) {
  TempDir dir;
  std::vector<uint8_t> bytes = invkit::io::read_all(fixture("tiny-labels.idx"));
  bytes.push_back(0);
  write_bytes(dir / "long.idx", bytes);
  std::string msg = error_of([&] { invkit::io::read_idx_labels(dir / "long.idx"); });
  EXPECT_NE(msg.find("trailing data"), std::string::npos) << msg;
}

TEST(Idx, TruncatedHeaderAndEmptyFile) {
  TempDir dir;
  write_bytes(dir / "short.idx", {0, 0, 8, 3, 0, 0, 0, 6});
  EXPECT_EQ(error_of([&] { invkit::io::read_idx_images(dir / "short.idx"); }),
            dir / "short.idx" + ": truncated IDX header: 8 bytes, expected 16");
  write_bytes(dir / "empty.idx", {});
  EXPECT_EQ(error_of([&] { invkit::io::read_idx_images(dir / "empty.idx"); }),
            dir / "empty.idx" + ": empty file, expected an IDX file");
}

TEST(Idx, HeaderDimensionsThatWrapToTheFileSizeAreAnError) {
  // 2^22 x 2^21 x 2^21 = 2^64 bytes, 0 in 64 bits: a header with no pixels
  // after it once passed the size check and viewed 2^64 bytes of a 16-byte buffer.
  TempDir dir;
  write_bytes(dir / "wrap.idx", {0, 0, 8, 3, 0, 0x40, 0, 0, 0, 0x20, 0, 0, 0, 0x20, 0, 0});
  EXPECT_EQ(error_of([&] { invkit::io::read_idx_images(dir / "wrap.idx"); }),
            dir / "wrap.idx" + ": the header's dimensions 4194304x2097152x2097152 multiply past 9223372036854775807 "
                               "bytes, the most a tensor can hold: not a valid IDX file");
  // The largest u32 dimensions, and a product of exactly 2^63 bytes.
  write_bytes(dir / "max.idx", {0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  EXPECT_NE(error_of([&] { invkit::io::read_idx_images(dir / "max.idx"); }).find("multiply past"), std::string::npos);
  write_bytes(dir / "half.idx", {0, 0, 8, 3, 0, 0x80, 0, 0, 0x80, 0, 0, 0, 0, 0, 2, 0});  // 2^23 x 2^31 x 2^9
  EXPECT_NE(error_of([&] { invkit::io::read_idx_images(dir / "half.idx"); }).find("multiply past"), std::string::npos);
}

TEST(Idx, CountMismatchNamesBothFiles) {
  const std::string im = fixture("tiny-images.idx"), lb = fixture("count-mismatch-labels.idx");
  EXPECT_EQ(error_of([&] { invkit::io::read_idx(im, lb); }), im + " has 6 images but " + lb + " has 5 labels");
}

TEST(Idx, CorruptGzipFixture) {
  const std::string f = fixture("corrupt-gzip-images.idx.gz");
  std::string msg = error_of([&] { invkit::io::read_idx_images(f); });
  EXPECT_EQ(msg.rfind(f + ": corrupt gzip data", 0), 0u) << msg;
}

TEST(Idx, EveryFlippedByteOfTheDeflateStreamIsCaught) {
  // Flip each byte after the 10-byte gzip header in turn: zlib must report
  // bad data, a bad checksum, or a bad length; never give wrong pixels.
  std::vector<uint8_t> good = invkit::io::read_all(fixture("tiny-images.idx.gz"));
  TempDir dir;
  for (size_t i = 10; i < good.size(); ++i) {
    std::vector<uint8_t> bad = good;
    bad[i] ^= 0xFF;
    write_bytes(dir / "bad.gz", bad);
    std::string msg = error_of([&] { invkit::io::read_maybe_gzip(dir / "bad.gz"); });
    EXPECT_NE(msg.find(dir / "bad.gz" + ": "), std::string::npos) << "byte " << i;
    EXPECT_NE(msg.find("gzip"), std::string::npos) << "byte " << i << ": " << msg;
  }
}

TEST(Idx, TruncatedGzip) {
  const std::string f = fixture("truncated-gzip-images.idx.gz");
  EXPECT_EQ(error_of([&] { invkit::io::read_idx_images(f); }), f + ": truncated gzip data (member 1 ends early)");
}

TEST(Idx, ErrorsAreInvkitErrors) {
  EXPECT_THROW(invkit::io::read_idx_images(fixture("bad-magic.idx")), invkit::Error);
  EXPECT_THROW(invkit::io::read_idx_images(fixture("no-such-file.idx")), invkit::Error);
}

TEST(IdxClassNames, BuiltInLists) {
  EXPECT_EQ(invkit::builtin_class_names("fashion-mnist")->at(0), "T-shirt/top");
  EXPECT_EQ(invkit::builtin_class_names("fashion-mnist")->at(9), "Ankle boot");
  EXPECT_EQ(invkit::builtin_class_names("mnist")->at(7), "7");
  EXPECT_EQ(invkit::builtin_class_names("cifar10")->at(1), "automobile");
  EXPECT_EQ(invkit::builtin_class_names("cifar100")->size(), 100u);
  EXPECT_EQ(invkit::builtin_class_names("cifar100")->at(99), "worm");
  EXPECT_EQ(invkit::builtin_class_names("cifar100-coarse")->size(), 20u);
  EXPECT_EQ(invkit::builtin_class_names("cifar100-coarse")->at(19), "vehicles_2");
  EXPECT_FALSE(invkit::builtin_class_names("imagenet").has_value());
}

TEST(IdxClassNames, DefaultRule) {
  EXPECT_EQ(invkit::default_idx_class_names("/x/Fashion-MNIST/train-images.gz", 9).at(3), "Dress");
  EXPECT_EQ(invkit::default_idx_class_names("kmnist-train-imgs.gz", 9),
            *invkit::builtin_class_names("mnist"));
  // Labels beyond 9 (EMNIST letters: 1..26) get numbered names up to the max.
  auto letters = invkit::default_idx_class_names("emnist-letters-train-images.gz", 26);
  EXPECT_EQ(letters.size(), 27u);
  EXPECT_EQ(letters.back(), "26");
  EXPECT_EQ(invkit::default_idx_class_names("tiny-images.idx", 2), (std::vector<std::string>{"0", "1", "2"}));
}

TEST(IdxClassNames, FileOnePerLine) {
  auto names = invkit::class_names_from_arg(fixture("three-class-names.txt"));
  EXPECT_EQ(names, (std::vector<std::string>{"zero", "one", "two"}));
  const std::string dup = fixture("duplicate-class-names.txt");
  EXPECT_EQ(error_of([&] { invkit::class_names_from_arg(dup); }), dup + ": line 3: class name \"a\" appears twice");
  EXPECT_THROW(invkit::class_names_from_arg("no-such-list"), invkit::UsageError);
}

TEST(IdxClassNames, CountMustMatchTheLabels) {
  auto names = *invkit::builtin_class_names("mnist");
  EXPECT_NO_THROW(invkit::check_class_count(names, 10, "--class-names mnist"));
  EXPECT_EQ(error_of([&] { invkit::check_class_count(names, 3, "--class-names mnist"); }),
            "--class-names mnist: 10 class names, but the labels run 0..2 (3 classes)");
}
