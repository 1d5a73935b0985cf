// io/file.h: gzip input (every member of a multi-member file: cat a.gz b.gz,
// pigz, bgzip, and the errors for what is not one), remove_tree, and the
// random-access hint on a mapped file.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "testing.h"
#include "invkit/error.h"
#include "invkit/io/cifar.h"
#include "invkit/io/file.h"
#include "invkit/io/idx.h"

namespace fs = std::filesystem;
using invkit::testing::error_of;
using invkit::testing::fixture;
using invkit::testing::TempDir;
using invkit::testing::write_bytes;

namespace {

// One gzip member of `data`; with `bgzf`, the header carries bgzip's extra
// subfield (BC, the member's size), as bgzip writes it.
std::vector<uint8_t> gzip_member(const std::vector<uint8_t>& data, bool bgzf = false) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  gz_header header{};
  unsigned char extra[6] = {'B', 'C', 2, 0, 0, 0};  // the size is not checked by readers other than bgzip's
  if (bgzf) {
    header.extra = extra;
    header.extra_len = sizeof extra;
    EXPECT_EQ(deflateSetHeader(&zs, &header), Z_OK);
  }
  std::vector<uint8_t> out(deflateBound(&zs, data.size()) + 64);
  zs.next_in = const_cast<Bytef*>(data.data());
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::vector<uint8_t> slice(const std::vector<uint8_t>& v, size_t begin, size_t end) {
  return std::vector<uint8_t>(v.begin() + static_cast<long>(begin), v.begin() + static_cast<long>(end));
}

std::vector<uint8_t> text(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

}  // namespace

TEST(Gzip, ConcatenatedMembersAreAllRead) {
  auto gz = concat({gzip_member(text("first half, ")), gzip_member(text("second half"))});
  EXPECT_EQ(invkit::io::gunzip(gz, "two.gz"), text("first half, second half"));
}

TEST(Gzip, ManyMembersAndEmptyOnesAreRead) {
  auto gz = concat({gzip_member(text("a")), gzip_member({}), gzip_member(text("bc")), gzip_member(text("d"))});
  EXPECT_EQ(invkit::io::gunzip(gz, "many.gz"), text("abcd"));
}

TEST(Gzip, BgzipStyleMembersWithExtraFieldAndEmptyEndBlockAreRead) {
  // bgzip: members with a BC extra subfield, then an empty member as its end-of-file marker.
  auto gz = concat({gzip_member(text("block one "), true), gzip_member(text("block two"), true), gzip_member({}, true)});
  EXPECT_EQ(invkit::io::gunzip(gz, "b.gz"), text("block one block two"));
}

TEST(Gzip, TrailingGarbageAfterAMemberIsAnError) {
  auto member = gzip_member(text("data"));
  auto gz = concat({member, text("junk")});
  EXPECT_EQ(error_of([&] { invkit::io::gunzip(gz, "g.gz"); }),
            "g.gz: 4 bytes of trailing data after gzip member 1 (at byte " + std::to_string(member.size()) +
                "), expected another gzip member or the end of the file");
}

TEST(Gzip, TrailingZerosAfterAMemberAreAnError) {
  // gzip -d warns and ignores them; invkit would rather not guess.
  auto gz = concat({gzip_member(text("data")), gzip_member(text("more")), std::vector<uint8_t>(512, 0)});
  EXPECT_NE(error_of([&] { invkit::io::gunzip(gz, "z.gz"); }).find("512 bytes of trailing data after gzip member 2"),
            std::string::npos);
}

TEST(Gzip, TruncatedSecondMemberIsAnError) {
  auto second = gzip_member(text("second member"));
  auto gz = concat({gzip_member(text("first")), slice(second, 0, second.size() - 6)});
  EXPECT_EQ(error_of([&] { invkit::io::gunzip(gz, "t.gz"); }), "t.gz: truncated gzip data (member 2 ends early)");
  // Only the magic bytes of a second member.
  auto magic = concat({gzip_member(text("first")), std::vector<uint8_t>{0x1f, 0x8b}});
  EXPECT_EQ(error_of([&] { invkit::io::gunzip(magic, "t.gz"); }), "t.gz: truncated gzip data (member 2 ends early)");
}

TEST(Gzip, CorruptSecondMemberIsAnError) {
  auto second = gzip_member(text("second member, long enough to corrupt"));
  second[second.size() - 5] ^= 0xff;  // the length in the trailer
  auto gz = concat({gzip_member(text("first")), second});
  std::string msg = error_of([&] { invkit::io::gunzip(gz, "c.gz"); });
  EXPECT_EQ(msg.rfind("c.gz: corrupt gzip data: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("(member 2)"), std::string::npos) << msg;
}

TEST(Gzip, TwoMemberIdxFileIsReadWhole) {
  // Split inside the header and inside the pixels: the IDX reader sees one stream.
  auto raw = invkit::io::read_all(fixture("tiny-images.idx"));
  TempDir dir;
  write_bytes(dir / "two.idx.gz", concat({gzip_member(slice(raw, 0, 10)), gzip_member(slice(raw, 10, raw.size()))}));
  auto two = invkit::io::read_idx_images(dir / "two.idx.gz");
  EXPECT_TRUE(torch::equal(two, invkit::io::read_idx_images(fixture("tiny-images.idx"))));
}

TEST(Gzip, TwoMemberCifarFileGivesEveryRecord) {
  // The file: 4 CIFAR-10 records, 2 per member. Only 2 rows came out.
  std::vector<uint8_t> records;
  for (int i = 0; i < 4; ++i) {
    records.push_back(static_cast<uint8_t>(i));
    records.insert(records.end(), 3072, static_cast<uint8_t>(10 * i));
  }
  TempDir dir;
  write_bytes(dir / "c.bin.gz",
              concat({gzip_member(slice(records, 0, 2 * 3073)), gzip_member(slice(records, 2 * 3073, 4 * 3073))}));
  auto set = invkit::io::read_cifar({dir / "c.bin.gz"}, invkit::io::CifarKind::cifar10);
  ASSERT_EQ(set.labels.size(0), 4);
  EXPECT_TRUE(torch::equal(set.labels, torch::tensor({0, 1, 2, 3}, torch::kLong)));
  EXPECT_EQ(set.images[3].max().item<int>(), 30);
}

TEST(Gzip, OutputLargerThanTheFirstGuessGrows) {
  // A member that inflates far past 4x its size (the first buffer) still comes out whole.
  std::vector<uint8_t> zeros(1 << 20, 0);
  auto gz = concat({gzip_member(zeros), gzip_member(zeros)});
  ASSERT_LT(gz.size() * 4 + 1024, zeros.size());
  auto out = invkit::io::gunzip(gz, "zeros.gz");
  EXPECT_EQ(out.size(), 2 * zeros.size());
}

TEST(RemoveTree, RemovesANestedFolderButNotWhatItsLinksPointTo) {
  TempDir dir;
  write_bytes(dir / "outside.txt", {1, 2, 3});
  write_bytes(dir / "tree/a/b/deep.bin", {4});
  write_bytes(dir / "tree/top.bin", {5});
  fs::create_directories(dir / "tree/empty");
  fs::create_symlink(dir / "outside.txt", dir / "tree/a/link-to-file");
  fs::create_directory_symlink(dir.path, dir / "tree/a/link-to-parent");
  EXPECT_TRUE(invkit::io::remove_tree(dir / "tree"));
  EXPECT_FALSE(fs::exists(dir / "tree"));
  EXPECT_TRUE(fs::exists(dir / "outside.txt"));
}

TEST(RemoveTree, APlainFileAndAMissingPath) {
  TempDir dir;
  write_bytes(dir / "f", {1});
  EXPECT_TRUE(invkit::io::remove_tree(dir / "f"));
  EXPECT_FALSE(fs::exists(dir / "f"));
  EXPECT_TRUE(invkit::io::remove_tree(dir / "never-there"));
}

namespace {

// The VmFlags of the mapping of this process that holds `p` (/proc/self/smaps),
// as a set of words: "rr" marks madvise(MADV_RANDOM).
std::set<std::string> vm_flags_of(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto at = reinterpret_cast<uintptr_t>(p);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    unsigned long long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx ", &lo, &hi) == 2 && line.find('-') < line.find(' '))
      inside = lo <= at && at < hi;
    else if (inside && line.rfind("VmFlags:", 0) == 0) {
      std::istringstream words(line.substr(8));
      return {std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
    }
  }
  return {};
}

}  // namespace

TEST(MapFile, AdviseRandomAccessMarksTheMappingFromAnUnalignedStart) {
  if (!fs::exists("/proc/self/smaps")) GTEST_SKIP() << "no /proc/self/smaps";
  TempDir dir;
  write_bytes(dir / "f", std::vector<uint8_t>(3 * 4096 + 100, 7));
  auto m = invkit::io::map_file(dir / "f");
  ASSERT_TRUE(m);
  ASSERT_FALSE(vm_flags_of(m->data).empty());
  EXPECT_EQ(vm_flags_of(m->data).count("rr"), 0u);
  invkit::io::advise_random_access(m->data + 10, m->size - 10);
  EXPECT_EQ(vm_flags_of(m->data).count("rr"), 1u);
  EXPECT_EQ(m->data[m->size - 1], 7);  // still readable
}
