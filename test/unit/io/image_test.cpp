// Image decoding (io/image): what stb may be handed, found by fuzzing (test/fuzz).
#include "invkit/io/image.h"

#include <gtest/gtest.h>
#include <stb_image_write.h>  // its implementation is in io/stb.cpp
#include <zlib.h>

#include <cstdlib>
#include <cstring>

#include "testing.h"

using invkit::testing::error_of;
using invkit::testing::fixture;
using invkit::testing::TempDir;
using invkit::testing::write_bytes;

TEST(Image, JpegHuffmanTableOfMoreThan256CodesIsAnErrorNotAnOverflow) {
  // Found by fuzzing: Debian 12's stb_image (2.27) wrote past its Huffman
  // table arrays for this file (UndefinedBehaviorSanitizer: index 257 out of
  // bounds in stbi__build_huffman).
  const std::string f = fixture("huffman-table-over-256-codes.jpg");
  EXPECT_EQ(error_of([&] { invkit::io::read_image(f); }),
            f + ": cannot read image: corrupt JPEG: a Huffman table of 651 codes (at most 256)");
  // stb also takes FF fill bytes before the start-of-image marker: still a JPEG.
  const std::string g = fixture("huffman-table-after-fill-bytes.jpg");
  EXPECT_EQ(error_of([&] { invkit::io::read_image(g); }),
            g + ": cannot read image: corrupt JPEG: a Huffman table of 887 codes (at most 256)");
  // The smallest such file: a DHT segment whose 16 counts add up to 257.
  TempDir tmp;
  std::vector<uint8_t> jpeg = {0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x13, 0x00, 0xFF, 0x02};
  jpeg.resize(jpeg.size() + 14, 0);
  write_bytes(tmp / "tiny.jpg", jpeg);
  EXPECT_EQ(error_of([&] { invkit::io::read_image(tmp / "tiny.jpg"); }),
            tmp / "tiny.jpg" + ": cannot read image: corrupt JPEG: a Huffman table of 257 codes (at most 256)");
}

TEST(Image, FormatsOtherThanPngJpegAndBmpAreRefused) {
  // Only the decoders of the formats invkit reads are compiled in: a GIF or
  // a PGM named .png reaches no other stb decoder.
  TempDir tmp;
  const std::vector<uint8_t> gif = {0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xFF, 0xFF,
                                    0xFF, 0x00, 0x00, 0x00, 0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00,
                                    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B};
  const std::string pgm = "P5\n1 1\n255\n\x7F";
  write_bytes(tmp / "gif.png", gif);
  write_bytes(tmp / "pgm.png", std::vector<uint8_t>(pgm.begin(), pgm.end()));
  for (const char* name : {"gif.png", "pgm.png"})
    EXPECT_EQ(error_of([&] { invkit::io::read_image(tmp / name); }),
              tmp / name + ": cannot read image: Image not of any known type, or corrupt");
  EXPECT_EQ(invkit::io::read_image(fixture("tiny-folder/dog/c.bmp")).sizes(), (std::vector<int64_t>{3, 3, 4}));
}

TEST(Image, HeaderClaimingMorePixelsThanTheFileCanHoldIsRefusedBeforeDecoding) {
  // Found by fuzzing (libFuzzer: timeout): a 676-byte JPEG whose frame header
  // says 64272x248; stb reads zeros past the end of a JPEG or BMP, so it
  // allocated and decoded 16 million pixels of nothing.
  const std::string f = fixture("jpeg-claims-64272x248.jpg");
  EXPECT_EQ(error_of([&] { invkit::io::read_image(f); }),
            f + ": cannot read image: its header says 64272x248 pixels, more than 676 bytes of JPEG can hold "
                "(truncated or corrupt)");
  // A BMP header (24 bits, 4000x3000) with no pixels after it.
  TempDir tmp;
  std::vector<uint8_t> bmp(54, 0);
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) bmp[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  bmp[0] = 'B', bmp[1] = 'M';
  put32(2, 54), put32(10, 54), put32(14, 40), put32(18, 4000), put32(22, 3000);
  bmp[26] = 1, bmp[28] = 24;
  write_bytes(tmp / "short.bmp", bmp);
  EXPECT_EQ(error_of([&] { invkit::io::read_image(tmp / "short.bmp"); }),
            tmp / "short.bmp" + ": cannot read image: its header says 4000x3000 pixels, more than 54 bytes of BMP can "
                                "hold (truncated or corrupt)");
  // A top-down BMP (negative height, as stbi_info gives it) claiming 772x524288 (found by fuzzing: it passed as
  // negative, then stb allocated 1.2 GB and decoded zeros past the end).
  const std::string g = fixture("bmp-top-down-claims-772x524288.bmp");
  EXPECT_EQ(error_of([&] { invkit::io::read_image(g); }),
            g + ": cannot read image: its header says 772x524288 pixels, more than 54 bytes of BMP can hold (truncated or "
                "corrupt)");
  // What the encoders write for the most compressible image, one colour, still reads.
  const auto black = torch::zeros({1, 1024, 1024}, torch::kByte);
  invkit::io::write_png(tmp / "black.png", black);
  EXPECT_TRUE(torch::equal(invkit::io::read_image(tmp / "black.png"), black));
  ASSERT_TRUE(stbi_write_jpg((tmp / "black.jpg").c_str(), 1024, 1024, 1, black.data_ptr<uint8_t>(), 50));
  EXPECT_EQ(invkit::io::read_image(tmp / "black.jpg", 1).sizes(), black.sizes());  // stb writes YCbCr
}

TEST(Image, PngWithAnEmptyIdatChunkDecodes) {
  // Found by fuzzing: stb copies an empty IDAT chunk with memcpy(NULL, p, 0),
  // which UndefinedBehaviorSanitizer flags. Harmless, and such a PNG is legal,
  // so it is read, not refused; the fuzz build runs stb without UBSan.
  auto chunk = [](const std::string& type, const std::vector<uint8_t>& body) {
    std::vector<uint8_t> out;
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<uint8_t>(body.size() >> (8 * i)));
    std::vector<uint8_t> typed(type.begin(), type.end());
    typed.insert(typed.end(), body.begin(), body.end());
    const uLong crc = crc32(0, typed.data(), static_cast<uInt>(typed.size()));
    out.insert(out.end(), typed.begin(), typed.end());
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<uint8_t>(crc >> (8 * i)));
    return out;
  };
  const std::vector<uint8_t> raw = {0, 10, 20, 0, 30, 40};  // 2x2 gray, filter 0 on each row
  std::vector<uint8_t> packed(compressBound(raw.size()));
  uLongf packed_size = packed.size();
  ASSERT_EQ(compress(packed.data(), &packed_size, raw.data(), raw.size()), Z_OK);
  packed.resize(packed_size);
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  for (const auto& c : {chunk("IHDR", {0, 0, 0, 2, 0, 0, 0, 2, 8, 0, 0, 0, 0}), chunk("IDAT", {}), chunk("IDAT", packed),
                        chunk("IEND", {})})
    png.insert(png.end(), c.begin(), c.end());
  TempDir tmp;
  write_bytes(tmp / "empty-idat.png", png);
  EXPECT_TRUE(torch::equal(invkit::io::read_image(tmp / "empty-idat.png"),
                           torch::tensor({10, 20, 30, 40}, torch::kByte).view({1, 2, 2})));
}

TEST(Image, CorruptJpegGetsTheSameAnswerWhateverTheHeapHeld) {
  // Found by fuzzing: this file's scan uses an AC Huffman table it never
  // defines, and stb 2.27 leaves its decoder state uninitialized (2.28 zeroes
  // it), so the table was whatever the heap held: once, under the fuzzer, an
  // assertion in stbi__jpeg_huff_decode; with random heap contents stb's own
  // reason changes from run to run ("bad huffman code", "expected marker").
  // stb's allocations are zeroed now. (The message a user sees, "Corrupt
  // JPEG", hid the difference before too: this pins the answer.)
  const std::string f = fixture("jpeg-uninitialized-decoder-state.jpg");
  for (int fill : {0x00, 0x55, 0xFF}) {
    for (size_t size : {16384u, 20000u, 24576u, 32768u}) {  // about stb's decoder state
      void* dirty = std::malloc(size);
      std::memset(dirty, fill, size);
      std::free(dirty);
    }
    EXPECT_EQ(error_of([&] { invkit::io::read_image(f); }), f + ": cannot read image: Corrupt JPEG") << "heap filled with " << fill;
  }
}

TEST(Image, PngChunkRunningPastTheEndIsRefusedBeforeStbAllocatesIt) {
  // Found by fuzzing (libFuzzer: out-of-memory, malloc(2147483648)): stb grows
  // its buffer by an IDAT chunk's stated length before reading the chunk, so
  // this 98-byte file asked for 2 GiB.
  const std::string f = fixture("png-idat-claims-2gib.png");
  EXPECT_EQ(error_of([&] { invkit::io::read_image(f); }),
            f + ": cannot read image: corrupt PNG: its IDAT chunk of 2046820370 bytes runs past the end of the file "
                "(truncated?)");
}

TEST(Image, JpegWhoseScanRunsOutOfBitsIsAnError) {
  // Found by fuzzing: stb 2.27 consumed more bits than it held and then
  // shifted by 34 (undefined behaviour, UBSan; 2.28 refuses it). Nothing
  // outside stb can see it coming: the fuzz build runs stb under AddressSanitizer
  // only, and this pins what invkit answers.
  const std::string f = fixture("jpeg-scan-out-of-bits.jpg");
  EXPECT_EQ(error_of([&] { invkit::io::read_image(f); }), f + ": cannot read image: Corrupt JPEG");
}
