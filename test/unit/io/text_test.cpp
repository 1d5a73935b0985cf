// Text that is not UTF-8 (paths, arguments, folder and class names) and text
// files from other editors and systems (byte-order marks, CRLF and CR).
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "testing.h"
#include "invkit/cli/tool.h"
#include "invkit/data/class_names.h"
#include "invkit/error.h"
#include "invkit/io/image_folder.h"
#include "invkit/io/text.h"

using invkit::io::NameEncoding;
using invkit::testing::error_of;
using invkit::testing::fixture;
using invkit::testing::TempDir;
using invkit::testing::write_bytes;

namespace {

std::vector<uint8_t> bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

std::vector<std::string> lines(const std::string& s, NameEncoding e = NameEncoding::utf8) {
  return invkit::io::read_text_lines(s, e, "f.txt");
}

}  // namespace

TEST(Utf8, ValidTextHasNoInvalidOffset) {
  EXPECT_TRUE(invkit::io::is_utf8(""));
  EXPECT_TRUE(invkit::io::is_utf8("plain ascii"));
  EXPECT_TRUE(invkit::io::is_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_TRUE(invkit::io::is_utf8(std::string("nul\0inside", 10)));
}

TEST(Utf8, InvalidBytesAreFoundAtTheirOffset) {
  EXPECT_EQ(invkit::io::invalid_utf8_offset("caf\xe9"), 3u);          // Latin-1 é
  EXPECT_EQ(invkit::io::invalid_utf8_offset("ab\xc3"), 2u);           // cut sequence
  EXPECT_EQ(invkit::io::invalid_utf8_offset("\xc0\xaf"), 0u);         // overlong '/'
  EXPECT_EQ(invkit::io::invalid_utf8_offset("x\xe0\x80\xaf"), 1u);    // overlong, 3 bytes
  EXPECT_EQ(invkit::io::invalid_utf8_offset("\xed\xa0\x80"), 0u);     // surrogate U+D800
  EXPECT_EQ(invkit::io::invalid_utf8_offset("\xf4\x90\x80\x80"), 0u); // above U+10FFFF
  EXPECT_EQ(invkit::io::invalid_utf8_offset("a\x80"), 1u);            // lone continuation
  EXPECT_EQ(invkit::io::invalid_utf8_offset("\xff"), 0u);
}

TEST(Utf8, ValidStringsAreStoredUnchanged) {
  EXPECT_EQ(invkit::io::escape_text("caf\xc3\xa9/a\\b"), "caf\xc3\xa9/a\\b");
}

TEST(Utf8, InvalidBytesAreEscapedAndBackslashesDoubled) {
  EXPECT_EQ(invkit::io::escape_text("dir/caf\xe9.st"), "dir/caf\\xe9.st");
  EXPECT_EQ(invkit::io::escape_text("a\\b\xff"), "a\\\\b\\xff");
  // Valid sequences in an invalid string stay as they are.
  EXPECT_EQ(invkit::io::escape_text("\xc3\xa9\xe9"), "\xc3\xa9\\xe9");
}

TEST(Utf8, EscapedFormGivesTheBytesBack) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string s(rng() % 12, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 4 == 0 ? '\\' : rng() % 256);
    const std::string e = invkit::io::escape_text(s);
    ASSERT_TRUE(invkit::io::is_utf8(e));
    if (!invkit::io::is_utf8(s)) {
      ASSERT_EQ(invkit::io::unescape_text(e), s) << trial;
    }
  }
}

TEST(Utf8, JsonWithInvalidStringsDumpsInEscapedForm) {
  nlohmann::json j = {{"path", "caf\xe9.st"}, {"list", {"ok", "x\xff"}}, {"k\xe9y", 1}};
  // nlohmann alone throws type_error.316 here.
  EXPECT_THROW(j.dump(), nlohmann::json::type_error);
  EXPECT_EQ(invkit::io::dump_json(j), R"({"k\\xe9y":1,"list":["ok","x\\xff"],"path":"caf\\xe9.st"})");
  auto back = nlohmann::json::parse(invkit::io::dump_json(j));
  EXPECT_EQ(invkit::io::unescape_text(back["path"].get<std::string>()), "caf\xe9.st");
}

TEST(Utf8, StrictJsonRefusesDuplicateKeysAtAnyDepth) {
  EXPECT_EQ(invkit::io::parse_json_strict(R"({"a":{"b":1},"c":{"b":2}})", "t")["c"]["b"], 2);
  EXPECT_EQ(error_of([] { invkit::io::parse_json_strict(R"({"a":1,"a":2})", "t"); }), "t has the key \"a\" twice in one object");
  EXPECT_EQ(error_of([] { invkit::io::parse_json_strict(R"([{"x":[{"y":1,"y":1}]}])", "t"); }),
            "t has the key \"y\" twice in one object");
  EXPECT_EQ(error_of([] { invkit::io::parse_json_strict("{", "t"); }).rfind("t is not JSON: ", 0), 0u);
  // nlohmann alone stops at a NUL byte and takes what came before.
  EXPECT_EQ(error_of([] { invkit::io::parse_json_strict(std::string("{}\0{", 4), "t"); }),
            "t is not JSON: a NUL byte at offset 2");
}

TEST(Utf8, StrictJsonRefusesNestingDeeperThanTheSafetensorsReference) {
  // 127 levels as serde_json reads them; one more is refused before a deep
  // value is built (copies, dumps and escapes recurse once per level).
  auto nested = [](int levels) { return std::string(levels, '[') + std::string(levels, ']'); };
  EXPECT_TRUE(invkit::io::parse_json_strict(nested(127), "t").is_array());
  EXPECT_EQ(error_of([&] { invkit::io::parse_json_strict(nested(128), "t"); }),
            "t nests arrays and objects more than 127 levels deep");
  EXPECT_EQ(error_of([&] { invkit::io::parse_json_strict("{\"a\":" + nested(1000000) + "}", "t"); }),
            "t nests arrays and objects more than 127 levels deep");
}

TEST(Latin1, EveryByteBecomesItsCodePoint) {
  EXPECT_EQ(invkit::io::latin1_to_utf8("caf\xe9"), "caf\xc3\xa9");
  EXPECT_EQ(invkit::io::latin1_to_utf8("\xff\x80 a"), "\xc3\xbf\xc2\x80 a");
  EXPECT_EQ(invkit::io::parse_name_encoding("latin1", "--x"), NameEncoding::latin1);
  EXPECT_THROW(invkit::io::parse_name_encoding("cp1252", "--x"), invkit::UsageError);
}

TEST(Names, NotUtf8IsAnErrorNamingThePlaceAndTheByte) {
  EXPECT_EQ(error_of([] { invkit::io::decode_name("caf\xe9", NameEncoding::utf8, "root/caf\\xe9", "class folder name"); }),
            "root/caf\\xe9: class folder name is not valid UTF-8: byte 0xe9 at offset 3 (\"caf\\xe9\"); convert it to "
            "UTF-8, or give names_encoding latin1 if the names are Latin-1");
  EXPECT_EQ(invkit::io::decode_name("caf\xe9", NameEncoding::latin1, "w", "n"), "caf\xc3\xa9");
}

TEST(Names, NulByteIsAnError) {
  EXPECT_EQ(error_of([] { invkit::io::decode_name(std::string("a\0b", 3), NameEncoding::latin1, "f", "line 2"); }),
            "f: line 2 contains a NUL byte at offset 1");
}

TEST(TextLines, LfCrlfAndCrAllEndALine) {
  EXPECT_EQ(lines("a\nb\n"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(lines("a\r\nb\r\n"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(lines("a\rb\rc"), (std::vector<std::string>{"a", "b", "c"}));  // classic Mac
  EXPECT_EQ(lines("a\r\n\r\nb"), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(lines("a\n\rb"), (std::vector<std::string>{"a", "", "b"}));  // LF then CR: two ends
  EXPECT_EQ(lines(""), (std::vector<std::string>{}));
}

TEST(TextLines, Utf8ByteOrderMarkIsDropped) {
  EXPECT_EQ(lines("\xef\xbb\xbf" "cat\r\ndog\r\n"), (std::vector<std::string>{"cat", "dog"}));
  // It decides the encoding: latin1 does not apply to a file marked UTF-8.
  EXPECT_EQ(lines("\xef\xbb\xbf" "caf\xc3\xa9", NameEncoding::latin1), (std::vector<std::string>{"caf\xc3\xa9"}));
}

TEST(TextLines, Utf16WithByteOrderMarkIsConverted) {
  // "cat\r\ncafé\r\n😀" as Windows Notepad's "Unicode" (UTF-16LE) and as UTF-16BE.
  const std::string le("\xff\xfe" "c\0a\0t\0\r\0\n\0c\0a\0f\0\xe9\0\r\0\n\0\x3d\xd8\x00\xde", 28);
  EXPECT_EQ(lines(le), (std::vector<std::string>{"cat", "caf\xc3\xa9", "\xf0\x9f\x98\x80"}));
  const std::string be("\xfe\xff" "\0c\0a\0t\0\n\0\xe9", 12);
  EXPECT_EQ(lines(be), (std::vector<std::string>{"cat", "\xc3\xa9"}));
  EXPECT_EQ(error_of([] { lines(std::string("\xff\xfe" "c\0a", 5)); }),
            "f.txt: UTF-16LE text (byte-order mark) of an odd number of bytes: truncated?");
  EXPECT_EQ(error_of([] { lines(std::string("\xff\xfe" "c\0\x00\xdc", 6)); }),
            "f.txt: not valid UTF-16LE: unpaired surrogate at byte offset 4");
}

TEST(TextLines, Latin1LinesErrorUnlessAsked) {
  EXPECT_EQ(error_of([] { lines("ok\ncaf\xe9\n"); }),
            "f.txt: line 2 is not valid UTF-8: byte 0xe9 at offset 3 (\"caf\\xe9\"); convert it to UTF-8, or give "
            "names_encoding latin1 if the names are Latin-1");
  EXPECT_EQ(lines("ok\ncaf\xe9\n", NameEncoding::latin1), (std::vector<std::string>{"ok", "caf\xc3\xa9"}));
}

TEST(ClassNamesFile, WindowsFileWithByteOrderMarkAndCrlfReadsAsMeant) {
  TempDir dir;
  write_bytes(dir / "names.txt", bytes("\xef\xbb\xbf" "zero\r\none \r\ntwo\r\n\r\n"));
  EXPECT_EQ(invkit::class_names_from_arg(dir / "names.txt"), (std::vector<std::string>{"zero", "one", "two"}));
}

TEST(ClassNamesFile, OldMacFileWithCrLineEndsReadsAsMeant) {
  TempDir dir;
  write_bytes(dir / "names.txt", bytes("zero\rone\rtwo\r"));
  EXPECT_EQ(invkit::class_names_from_arg(dir / "names.txt"), (std::vector<std::string>{"zero", "one", "two"}));
}

TEST(ClassNamesFile, Latin1FileIsAnErrorNamingTheLineUnlessLatin1IsGiven) {
  TempDir dir;
  write_bytes(dir / "names.txt", bytes("tea\ncaf\xe9\n"));
  EXPECT_EQ(error_of([&] { invkit::class_names_from_arg(dir / "names.txt"); }),
            dir / "names.txt" + ": line 2 is not valid UTF-8: byte 0xe9 at offset 3 (\"caf\\xe9\"); convert it to "
                                "UTF-8, or give names_encoding latin1 if the names are Latin-1");
  EXPECT_EQ(invkit::class_names_from_arg(dir / "names.txt", NameEncoding::latin1),
            (std::vector<std::string>{"tea", "caf\xc3\xa9"}));
}

TEST(ClassNamesFile, DuplicateAfterLineEndsAreNormalisedIsStillADuplicate) {
  TempDir dir;
  write_bytes(dir / "names.txt", bytes("a\r\nb\ra\n"));
  EXPECT_EQ(error_of([&] { invkit::class_names_from_arg(dir / "names.txt"); }),
            dir / "names.txt" + ": line 3: class name \"a\" appears twice");
}

TEST(ImageFolderNames, Latin1FolderNameIsAnErrorNamingTheFolder) {
  TempDir dir;
  std::filesystem::create_directories(dir / "root");
  std::filesystem::copy(fixture("tiny-folder/cat"), dir / "root/caf\xe9", std::filesystem::copy_options::recursive);
  std::filesystem::copy(fixture("tiny-folder/dog"), dir / "root/dog", std::filesystem::copy_options::recursive);
  EXPECT_EQ(error_of([&] { invkit::io::read_image_folder(dir / "root"); }),
            dir / "root/caf\\xe9: class folder name is not valid UTF-8: byte 0xe9 at offset 3 (\"caf\\xe9\"); "
                  "convert it to UTF-8, or give names_encoding latin1 if the names are Latin-1");
  invkit::io::ImageFolderOptions o;
  o.names_encoding = NameEncoding::latin1;
  auto f = invkit::io::read_image_folder(dir / "root", o);
  EXPECT_EQ(f.class_names, (std::vector<std::string>{"caf\xc3\xa9", "dog"}));
  EXPECT_EQ(f.images.size(0), 3);
}

TEST(History, ArgumentsThatAreNotUtf8AreEscapedAndListed) {
  invkit::cli::Tool tool("t", "a test tool", "t -o out.st");
  std::string out;
  tool.app().add_option("-o", out);
  std::vector<std::string> args = {"t", "-o", "caf\xe9\\x.st"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  nlohmann::json h;
  ASSERT_EQ(tool.run(static_cast<int>(argv.size()), argv.data(), [&] { h = tool.history_entry(); }), 0);
  EXPECT_EQ(h["arguments"], nlohmann::json({"-o", "caf\\xe9\\\\x.st"}));
  EXPECT_EQ(h["escaped_arguments"], nlohmann::json({1}));
  EXPECT_EQ(invkit::io::unescape_text(h["arguments"][1].get<std::string>()), "caf\xe9\\x.st");
  EXPECT_NO_THROW(h.dump());
}
