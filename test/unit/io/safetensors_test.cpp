#include "invkit/io/safetensors.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>

#include "invkit/error.h"
#include "invkit/io/file.h"
#include "invkit/io/manifest.h"
#include "testing.h"

using invkit::Error;
using invkit::io::Safetensors;

namespace {

std::vector<uint8_t> fixture(const std::string& name) {
  return invkit::io::read_all(std::string(INVKIT_FIXTURES) + "/" + name);
}

// A file from a header string and a data section.
std::vector<uint8_t> make_file(const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> out(8 + header.size() + data_bytes, 0);
  uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  return out;
}

std::string parse_error(std::vector<uint8_t> bytes) {
  try {
    Safetensors::parse(std::move(bytes), "x.st");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Safetensors, ReadsPythonFixture) {
  auto st = Safetensors::parse(fixture("python-f32-u8-meta.safetensors"), "f");
  ASSERT_EQ(st.tensors().size(), 2u);
  EXPECT_EQ(st.metadata().at("k"), "v");
  auto a = st.tensor("a");
  EXPECT_EQ(a.scalar_type(), torch::kFloat);
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_TRUE(torch::equal(a, torch::tensor({1.f, 2.f, 3.f, 4.f}).view({2, 2})));
  EXPECT_TRUE(torch::equal(st.tensor("b"), torch::tensor({1, 2, 3}, torch::kByte)));
}

TEST(Safetensors, ReadsEveryDType) {
  auto st = Safetensors::parse(fixture("python-all-dtypes.safetensors"), "f");
  ASSERT_EQ(st.tensors().size(), 10u);
  EXPECT_EQ(st.tensor("i64")[1].item<int64_t>(), int64_t(1) << 40);
  EXPECT_EQ(st.tensor("f64")[1].item<double>(), -2.25);
  EXPECT_EQ(st.tensor("f32")[0].item<float>(), 1.5f);
  EXPECT_EQ(st.tensor("i32")[0].item<int32_t>(), -7);
  EXPECT_EQ(st.tensor("bf16").to(torch::kFloat)[0].item<float>(), 1.0f);
  EXPECT_EQ(st.tensor("bf16").to(torch::kFloat)[1].item<float>(), -2.0f);
  EXPECT_EQ(st.tensor("f16").to(torch::kFloat)[0].item<float>(), 1.0f);
  EXPECT_EQ(st.tensor("f16").to(torch::kFloat)[1].item<float>(), -2.0f);
  EXPECT_EQ(st.tensor("i16")[0].item<int16_t>(), -300);
  EXPECT_EQ(st.tensor("i8")[0].item<int8_t>(), -5);
  EXPECT_EQ(st.tensor("u8")[1].item<uint8_t>(), 255);
  EXPECT_EQ(st.tensor("bool")[0].item<bool>(), true);
  EXPECT_EQ(st.tensor("bool").scalar_type(), torch::kBool);
}

// Written by safetensors.numpy.save_file (test/fixtures/make-safetensors-fixtures.py).
TEST(Safetensors, ReadsWhatTheNumpyApiWrites) {
  auto st = Safetensors::parse(fixture("numpy-all-dtypes.safetensors"), "f");
  ASSERT_EQ(st.tensors().size(), 9u);
  EXPECT_TRUE(torch::equal(st.tensor("i64"), torch::tensor({int64_t(-1), int64_t(1) << 40})));
  EXPECT_TRUE(torch::equal(st.tensor("f64"), torch::tensor({0.5, -2.25}, torch::kDouble)));
  EXPECT_TRUE(torch::equal(st.tensor("f16").to(torch::kFloat), torch::tensor({1.f, -2.f})));
  EXPECT_TRUE(torch::equal(st.tensor("i16"), torch::tensor({-300, 300}, torch::kShort)));
  EXPECT_TRUE(torch::equal(st.tensor("bool"), torch::tensor({true, false})));
  // The same tensors through the torch API give the same bytes, bf16 aside.
  auto torch_file = Safetensors::parse(fixture("python-all-dtypes.safetensors"), "f");
  invkit::io::NamedTensors t;
  for (const auto& info : torch_file.tensors())
    if (info.name != "bf16") t.emplace_back(info.name, torch_file.tensor(info.name));
  EXPECT_EQ(invkit::io::serialize_safetensors(t, {}), fixture("numpy-all-dtypes.safetensors"));
}

TEST(Safetensors, WriterMatchesPythonBytes) {
  invkit::io::NamedTensors t{{"b", torch::tensor({1, 2, 3}, torch::kByte)},
                             {"a", torch::tensor({1.f, 2.f, 3.f, 4.f}).view({2, 2})}};
  EXPECT_EQ(invkit::io::serialize_safetensors(t, {{"k", "v"}}), fixture("python-f32-u8-meta.safetensors"));
}

TEST(Safetensors, WriterMatchesPythonBytesForEveryDType) {
  auto original = Safetensors::parse(fixture("python-all-dtypes.safetensors"), "f");
  invkit::io::NamedTensors t;
  for (const auto& info : original.tensors()) t.emplace_back(info.name, original.tensor(info.name));
  std::reverse(t.begin(), t.end());  // the writer sorts, whatever the input order
  EXPECT_EQ(invkit::io::serialize_safetensors(t, {}), fixture("python-all-dtypes.safetensors"));
}

TEST(Safetensors, WriterLayout) {
  invkit::io::NamedTensors t{{"x", torch::arange(5, torch::kLong)}, {"y", torch::ones({3}, torch::kByte)}};
  auto bytes = invkit::io::serialize_safetensors(t, {{"invkit", "{\"a\":1}"}});
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + n + 5 * 8 + 3);
  EXPECT_EQ(bytes[8], '{');
  // x (I64) comes first in the data section, little endian.
  EXPECT_EQ(bytes[8 + n + 8], 1);
  EXPECT_EQ(bytes[8 + n + 15], 0);
  auto back = Safetensors::parse(bytes, "mem");
  EXPECT_EQ(back.metadata().at("invkit"), "{\"a\":1}");
  EXPECT_TRUE(torch::equal(back.tensor("x"), torch::arange(5, torch::kLong)));
}

TEST(Safetensors, EmptyTensorRoundTrips) {
  invkit::io::NamedTensors t{{"e", torch::empty({0, 3}, torch::kFloat)}};
  auto back = Safetensors::parse(invkit::io::serialize_safetensors(t, {}), "mem");
  EXPECT_EQ(back.tensor("e").sizes(), (std::vector<int64_t>{0, 3}));
}

TEST(Safetensors, RejectsBadFiles) {
  EXPECT_NE(parse_error({}).find("empty input"), std::string::npos);
  EXPECT_NE(parse_error({1, 2, 3}).find("truncated"), std::string::npos);
  auto good = fixture("python-f32-u8-meta.safetensors");
  auto truncated = good;
  truncated.resize(good.size() - 1);
  EXPECT_NE(parse_error(truncated).find("data_offsets end 19 is past the data (18 bytes): truncated file?"), std::string::npos);
  auto past = good;
  past[0] = 0xff;
  past[1] = 0xff;
  EXPECT_NE(parse_error(past).find("runs past the end"), std::string::npos);
  EXPECT_NE(parse_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4))
                .find("past the data"),
            std::string::npos);
  EXPECT_NE(parse_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                                  "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}",
                                  6))
                .find("overlaps"),
            std::string::npos);
  EXPECT_NE(parse_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)).find("gap"),
            std::string::npos);
  EXPECT_NE(parse_error(make_file("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4))
                .find("unknown dtype \"Q4\""),
            std::string::npos);
  EXPECT_NE(parse_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4))
                .find("shape x dtype is 8 bytes but data_offsets span 4"),
            std::string::npos);
  EXPECT_NE(parse_error(make_file("{\"a\":", 0)).find("not JSON"), std::string::npos);
  EXPECT_NE(parse_error(make_file("{\"__metadata__\":{\"k\":1}}", 0)).find("is not a string"), std::string::npos);
  EXPECT_NE(parse_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0))
                .find("non-negative"),
            std::string::npos);
}

// ---------------------------------------------------------------------------
// The validation rules of the format's reference implementation
// (huggingface/safetensors, safetensors/src/tensor.rs: read_metadata,
// Metadata::validate), one test each, named by the outcome. Where the
// reference has a test of its own, the bytes are the same.

namespace {

std::vector<uint8_t> bytes_of(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

// A tensor entry of the header.
std::string entry(const std::string& name, const std::string& dtype, const std::string& shape, const std::string& offsets) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
}

const std::string kPrefix = "x.st: not a valid safetensors file: ";

}  // namespace

TEST(SafetensorsRules, EmptyInputIsRefused) {  // HeaderTooSmall
  EXPECT_EQ(parse_error({}), kPrefix + "empty input");
}

TEST(SafetensorsRules, FewerThanEightBytesAreRefused) {  // HeaderTooSmall
  EXPECT_EQ(parse_error({8, 0, 0, 0, 0, 0, 0}), kPrefix + "truncated: 7 bytes, need at least 8");
}

TEST(SafetensorsRules, HeaderLengthAbove100MillionIsRefused) {  // HeaderTooLarge
  // The reference's test_header_too_large: "<\0\0\0\0\xff\xff\xff" + a valid header.
  auto bytes = make_file(R"({"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}})", 16);
  bytes[5] = bytes[6] = bytes[7] = 0xff;
  EXPECT_NE(parse_error(bytes).find("is too large (at most 100000000)"), std::string::npos);
  std::vector<uint8_t> just_above(8, 0);
  uint64_t n = 100'000'001;
  std::memcpy(just_above.data(), &n, 8);
  EXPECT_EQ(parse_error(just_above), kPrefix + "header length 100000001 is too large (at most 100000000)");
}

TEST(SafetensorsRules, HeaderLengthPastTheEndIsRefused) {  // InvalidHeaderLength
  // The reference's test_invalid_header_length: N = 60 and nothing after it.
  EXPECT_EQ(parse_error({'<', 0, 0, 0, 0, 0, 0, 0}), kPrefix + "header length 60 runs past the end of the file (8 bytes)");
}

TEST(SafetensorsRules, HeaderThatIsNotUtf8IsRefused) {  // InvalidHeader
  // The reference's test_invalid_header_non_utf8.
  EXPECT_EQ(parse_error({1, 0, 0, 0, 0, 0, 0, 0, 0xff}), kPrefix + "header is not valid UTF-8 (byte 0xff at header offset 0)");
  // A Latin-1 byte inside a tensor name.
  EXPECT_EQ(parse_error(make_file("{" + entry("caf\xe9", "U8", "[1]", "[0,1]") + "}", 1)),
            kPrefix + "header is not valid UTF-8 (byte 0xe9 at header offset 5)");
  // An overlong encoding of '{' and an encoded surrogate are not UTF-8 either.
  EXPECT_NE(parse_error(make_file("\xc1\xbb}", 0)).find("not valid UTF-8 (byte 0xc1"), std::string::npos);
  EXPECT_NE(parse_error(make_file("{\"\xed\xa0\x80\":1}", 0)).find("not valid UTF-8 (byte 0xed"), std::string::npos);
}

TEST(SafetensorsRules, HeaderThatIsNotJsonIsRefused) {  // InvalidHeaderDeserialization
  // The reference's test_invalid_header_not_json: "{".
  EXPECT_EQ(parse_error({1, 0, 0, 0, 0, 0, 0, 0, '{'}).rfind(kPrefix + "header is not JSON: ", 0), 0u);
  // Anything after the object but whitespace (NUL padding included).
  EXPECT_EQ(parse_error(make_file(std::string("{}\0\0", 4), 0)), kPrefix + "header is not JSON: a NUL byte at offset 2");
  EXPECT_NE(parse_error(make_file("{}{}", 0)).find("header is not JSON"), std::string::npos);
  // Comments are no JSON.
  EXPECT_NE(parse_error(make_file("{/* c */}", 0)).find("header is not JSON"), std::string::npos);
}

TEST(SafetensorsRules, HeaderNestedDeeperThanSerdeJsonReadsIsRefused) {  // InvalidHeaderDeserialization
  // serde_json (the reference's parser) stops at 128 levels of arrays and
  // objects; so does invkit, before a value deep enough to overflow the stack
  // when copied or printed is built.
  const std::string deep = "{\"a\":{\"dtype\":\"U8\",\"shape\":" + std::string(200000, '[') + std::string(200000, ']') +
                           ",\"data_offsets\":[0,0]}}";
  EXPECT_EQ(parse_error(make_file(deep, 0)), kPrefix + "header nests arrays and objects more than 127 levels deep");
}

TEST(SafetensorsRules, HeaderPaddedWithWhitespaceIsRead) {
  // The reference's test_whitespace_padded_header and
  // test_whitespace_leading_padded_header: JSON whitespace on either side.
  auto trailing = Safetensors::parse({6, 0, 0, 0, 0, 0, 0, 0, '{', '}', 0x0d, 0x20, 0x09, 0x0a}, "f");
  EXPECT_TRUE(trailing.tensors().empty());
  auto leading = Safetensors::parse({6, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x0a, '{', '}', 0x0d, 0x20}, "f");
  EXPECT_TRUE(leading.tensors().empty());
}

TEST(SafetensorsRules, HeaderThatIsNotAnObjectIsRefused) {
  EXPECT_EQ(parse_error(make_file("[]", 0)), kPrefix + "header does not start with '{'");
  EXPECT_EQ(parse_error(make_file("   ", 0)), kPrefix + "header does not start with '{'");
  // A byte-order mark is no JSON whitespace (serde_json refuses it; nlohmann alone would skip it).
  EXPECT_EQ(parse_error(make_file("\xef\xbb\xbf{}", 0)), kPrefix + "header does not start with '{'");
}

TEST(SafetensorsRules, DuplicateKeysAreRefused) {
  // The format disallows them; a JSON parser that keeps the last one would read another tensor.
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "U8", "[1]", "[0,1]") + "," + entry("a", "U8", "[1]", "[0,1]") + "}", 1)),
            kPrefix + "header has the key \"a\" twice in one object");
  EXPECT_EQ(parse_error(make_file(R"({"__metadata__":{"k":"1","k":"2"}})", 0)),
            kPrefix + "header has the key \"k\" twice in one object");
  EXPECT_EQ(parse_error(make_file(R"({"a":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}})", 1)),
            kPrefix + "header has the key \"dtype\" twice in one object");
  EXPECT_EQ(parse_error(make_file(R"({"__metadata__":{},"__metadata__":{}})", 0)),
            kPrefix + "header has the key \"__metadata__\" twice in one object");
  // The same key in two different objects is fine.
  const std::string same_key_twice = R"({"__metadata__":{"dtype":"x"},)" + entry("dtype", "U8", "[1]", "[0,1]") + "}";
  EXPECT_NO_THROW(Safetensors::parse(make_file(same_key_twice, 1), "f"));
}

TEST(SafetensorsRules, MetadataMustMapStringsToStrings) {
  EXPECT_EQ(parse_error(make_file(R"({"__metadata__":{"k":1}})", 0)), kPrefix + "__metadata__[\"k\"] is not a string");
  EXPECT_EQ(parse_error(make_file(R"({"__metadata__":{"k":{"a":"b"}}})", 0)), kPrefix + "__metadata__[\"k\"] is not a string");
  EXPECT_EQ(parse_error(make_file(R"({"__metadata__":["k","v"]})", 0)), kPrefix + "__metadata__ is not an object");
  EXPECT_EQ(parse_error(make_file(R"({"__metadata__":"k"})", 0)), kPrefix + "__metadata__ is not an object");
  // null is no metadata (serde reads Option<HashMap> so).
  EXPECT_TRUE(Safetensors::parse(make_file(R"({"__metadata__":null})", 0), "f").metadata().empty());
}

TEST(SafetensorsRules, TensorEntryWithoutAllFieldsIsRefused) {
  EXPECT_EQ(parse_error(make_file(R"({"a":{"shape":[1],"data_offsets":[0,1]}})", 1)),
            kPrefix + "tensor \"a\": needs dtype, shape and data_offsets");
  EXPECT_EQ(parse_error(make_file(R"({"a":{"dtype":"U8","data_offsets":[0,1]}})", 1)),
            kPrefix + "tensor \"a\": needs dtype, shape and data_offsets");
  EXPECT_EQ(parse_error(make_file(R"({"a":{"dtype":"U8","shape":[1]}})", 1)),
            kPrefix + "tensor \"a\": needs dtype, shape and data_offsets");
  EXPECT_EQ(parse_error(make_file(R"({"a":3})", 0)), kPrefix + "tensor \"a\": needs dtype, shape and data_offsets");
}

TEST(SafetensorsRules, UnknownFieldsOfATensorEntryAreIgnored) {
  // serde's TensorInfo does not deny unknown fields.
  auto st = Safetensors::parse(make_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":[1]}})", 1), "f");
  EXPECT_EQ(st.tensors().size(), 1u);
}

TEST(SafetensorsRules, UnknownDTypeIsRefused) {
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "Q4", "[1]", "[0,1]") + "}", 1)),
            kPrefix + "tensor \"a\": unknown dtype \"Q4\"");
  EXPECT_EQ(parse_error(make_file(R"({"a":{"dtype":8,"shape":[1],"data_offsets":[0,1]}})", 1)),
            kPrefix + "tensor \"a\": dtype is not a string");
  // Lower case is another name (serde's enum is case-sensitive).
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "u8", "[1]", "[0,1]") + "}", 1)),
            kPrefix + "tensor \"a\": unknown dtype \"u8\"");
}

TEST(SafetensorsRules, ReferenceDTypesInvkitDoesNotReadAreRefusedByName) {
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "U16", "[1]", "[0,2]") + "}", 2)),
            kPrefix + "tensor \"a\": dtype U16 is not supported by invkit (it reads BOOL, U8, I8, I16, F16, BF16, I32, "
                      "F32, F64, I64)");
  for (const char* d : {"F8_E4M3", "F8_E5M2", "U32", "U64", "C64", "F4"})
    EXPECT_NE(parse_error(make_file("{" + entry("a", d, "[2]", "[0,2]") + "}", 2)).find("is not supported by invkit"),
              std::string::npos)
        << d;
}

TEST(SafetensorsRules, ShapeMustBeNonNegativeIntegers) {
  const std::string bad = kPrefix + "tensor \"a\": shape has an entry that is not a non-negative integer";
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "U8", "[-1]", "[0,0]") + "}", 0)), bad);
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "U8", "[1.0]", "[0,1]") + "}", 1)), bad);
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "U8", "[\"1\"]", "[0,1]") + "}", 1)), bad);
  // 2^64 does not fit usize (nlohmann reads it as a float).
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "U8", "[18446744073709551616]", "[0,0]") + "}", 0)), bad);
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "U8", "3", "[0,3]") + "}", 3)), kPrefix + "tensor \"a\": shape is not an array");
}

TEST(SafetensorsRules, DataOffsetsMustBeTwoNonNegativeIntegers) {
  const std::string bad = kPrefix + "tensor \"a\": data_offsets must be two non-negative integers";
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "U8", "[1]", "[1]") + "}", 1)), bad);
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "U8", "[1]", "[0,1,2]") + "}", 1)), bad);
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "U8", "[1]", "[-1,0]") + "}", 1)), bad);
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "U8", "[1]", "[0,1.0]") + "}", 1)), bad);
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "U8", "[1]", "{\"b\":0}") + "}", 1)), bad);
}

TEST(SafetensorsRules, ReversedOffsetsAreRefused) {  // InvalidOffset (e < s)
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "U8", "[0]", "[4,0]") + "}", 4)),
            kPrefix + "tensor \"a\": data_offsets [4, 0] are reversed");
}

TEST(SafetensorsRules, OverlappingTensorsAreRefused) {  // InvalidOffset
  // The reference's test_json_attack: ten tensors all at [0, 16].
  std::string h = "{";
  for (int i = 0; i < 10; ++i) h += (i ? "," : "") + entry("weight_" + std::to_string(i), "F32", "[2,2]", "[0,16]");
  EXPECT_NE(parse_error(make_file(h + "}", 16)).find("overlaps the tensor before it"), std::string::npos);
}

TEST(SafetensorsRules, GapBetweenTensorsIsRefused) {  // InvalidOffset
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "U8", "[1]", "[0,1]") + "," + entry("b", "U8", "[1]", "[2,3]") + "}", 3)),
            kPrefix + "gap in the data before tensor \"b\"");
  EXPECT_EQ(parse_error(make_file("{" + entry("a", "U8", "[1]", "[1,2]") + "}", 2)),
            kPrefix + "gap in the data before tensor \"a\"");
}

TEST(SafetensorsRules, ShapeTimesDTypeThatOverflowsIsRefused) {  // ValidationOverflow
  // The reference's test_validation_overflow, both files.
  EXPECT_EQ(parse_error(make_file("{" + entry("test", "I32", "[2,18446744073709551614]", "[0,16]") + "}", 16)),
            kPrefix + "tensor \"test\": shape [2, 18446744073709551614] has a dimension above 9223372036854775807");
  EXPECT_EQ(parse_error(make_file("{" + entry("test", "I32", "[2,9223372036854775807]", "[0,16]") + "}", 16)),
            kPrefix + "tensor \"test\": shape [2, 9223372036854775807] of I32 overflows: its size in bytes does not fit "
                      "in 9223372036854775807");
  // The issue's file: 2^61 labels of 8 bytes wrap to 0 bytes in 64 bits.
  EXPECT_EQ(parse_error(make_file("{" + entry("labels", "I64", "[2305843009213693952]", "[0,0]") + "}", 0)),
            kPrefix + "tensor \"labels\": shape [2305843009213693952] of I64 overflows: its size in bytes does not fit "
                      "in 9223372036854775807");
  // Three dimensions whose product wraps to exactly the data's 8 bytes.
  EXPECT_NE(parse_error(make_file("{" + entry("a", "U8", "[4294967296,4294967296,8]", "[0,8]") + "}", 8)).find("overflows"),
            std::string::npos);
  // A partial product that overflows is an overflow even before a zero (as the reference multiplies).
  EXPECT_NE(parse_error(make_file("{" + entry("a", "U8", "[4294967296,4294967296,0]", "[0,0]") + "}", 0)).find("overflows"),
            std::string::npos);
}

TEST(SafetensorsRules, DimensionLibTorchCannotHoldIsRefusedEvenWithAZero) {
  // [0, 2^64 - 1] has 0 bytes; the reference takes it, LibTorch's sizes are int64.
  EXPECT_NE(parse_error(make_file("{" + entry("a", "U8", "[0,18446744073709551615]", "[0,0]") + "}", 0))
                .find("has a dimension above 9223372036854775807"),
            std::string::npos);
  // A zero first keeps every partial product 0: what LibTorch can hold is read.
  auto st = Safetensors::parse(make_file("{" + entry("a", "U8", "[0,4611686018427387904]", "[0,0]") + "}", 0), "f");
  EXPECT_EQ(st.tensor("a").numel(), 0);
}

TEST(SafetensorsRules, SizeThatDisagreesWithOffsetsIsRefused) {  // TensorInvalidInfo
  // The reference's test_invalid_info.
  EXPECT_EQ(parse_error(make_file("{" + entry("test", "I32", "[2,2]", "[0, 4]") + "}", 4)),
            kPrefix + "tensor \"test\": shape x dtype is 16 bytes but data_offsets span 4");
}

TEST(SafetensorsRules, BytesAfterTheLastTensorAreRefused) {  // MetadataIncompleteBuffer
  // The reference's test_metadata_incomplete_buffer: a polyglot file.
  auto bytes = make_file("{" + entry("test", "I32", "[2,2]", "[0,16]") + "}", 16);
  const std::string extra = "extra_bogus_data_for_polyglot_file";
  bytes.insert(bytes.end(), extra.begin(), extra.end());
  EXPECT_EQ(parse_error(bytes), kPrefix + "data section is 50 bytes but the tensors cover 16");
  // And the same file two bytes short.
  EXPECT_EQ(parse_error(make_file("{" + entry("test", "I32", "[2,2]", "[0,16]") + "}", 14)),
            kPrefix + "tensor \"test\": data_offsets end 16 is past the data (14 bytes): truncated file?");
}

TEST(SafetensorsRules, ZeroSizedAndScalarTensorsAreRead) {
  // The reference's test_zero_sized_tensor and test_empty_shapes_allowed.
  auto zero = Safetensors::parse(make_file("{" + entry("test", "I32", "[2,0]", "[0, 0]") + "}", 0), "f");
  EXPECT_EQ(zero.tensor("test").sizes(), (std::vector<int64_t>{2, 0}));
  auto scalar = Safetensors::parse(make_file("{" + entry("test", "I32", "[]", "[0,4]") + "}", 4), "f");
  EXPECT_EQ(scalar.tensor("test").dim(), 0);
  EXPECT_EQ(scalar.tensor("test").item<int32_t>(), 0);
}

TEST(SafetensorsRules, ReferenceDeserializationExampleIsRead) {
  // The reference's test_deserialization bytes, as they are.
  auto bytes = bytes_of(std::string("<\0\0\0\0\0\0\0", 8) +
                        "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}");
  bytes.resize(bytes.size() + 16, 0);
  auto st = Safetensors::parse(bytes, "f");
  EXPECT_EQ(st.tensor("test").sizes(), (std::vector<int64_t>{2, 2}));
}

TEST(SafetensorsRules, ManifestReaderAppliesTheSameRules) {
  // read_manifest reads only the header, but checks it and the file's length all the same.
  invkit::testing::TempDir dir;
  const std::string meta = R"("__metadata__":{"invkit":"{\"format\":\"x\"}"})";
  invkit::testing::write_bytes(dir / "good.st", make_file("{" + meta + "," + entry("a", "U8", "[2]", "[0,2]") + "}", 2));
  EXPECT_EQ(invkit::io::read_manifest(dir / "good.st")["format"], "x");
  invkit::testing::write_bytes(dir / "long.st", make_file("{" + meta + "," + entry("a", "U8", "[2]", "[0,2]") + "}", 3));
  EXPECT_EQ(invkit::testing::error_of([&] { invkit::io::read_manifest(dir / "long.st"); }),
            dir / "long.st" + ": not a valid safetensors file: data section is 3 bytes but the tensors cover 2");
  const std::string wrap = entry("labels", "I64", "[2305843009213693952]", "[0,0]");
  invkit::testing::write_bytes(dir / "wrap.st", make_file("{" + meta + "," + wrap + "}", 0));
  EXPECT_NE(invkit::testing::error_of([&] { invkit::io::read_manifest(dir / "wrap.st"); }).find("overflows"), std::string::npos);
  invkit::testing::write_bytes(dir / "short.st", {3, 0, 0});
  EXPECT_EQ(invkit::testing::error_of([&] { invkit::io::read_manifest(dir / "short.st"); }),
            dir / "short.st" + ": not a valid safetensors file: truncated: 3 bytes, need at least 8");
}

TEST(SafetensorsRules, ManifestWithDuplicateKeysIsRefused) {
  const std::string meta = R"({"__metadata__":{"invkit":"{\"class_names\":[\"a\"],\"class_names\":[\"b\"]}"}})";
  auto st = Safetensors::parse(make_file(meta, 0), "x.st");
  EXPECT_EQ(invkit::testing::error_of([&] { invkit::io::manifest_of(st); }),
            "x.st: manifest (__metadata__[\"invkit\"]) has the key \"class_names\" twice in one object");
}

TEST(Safetensors, AFileIsMappedAndViewsShareItWithoutWritingToIt) {
  invkit::testing::TempDir dir;
  const std::string path = dir / "m.st";
  auto pixels = torch::arange(24, torch::kUInt8).reshape({2, 3, 4});
  invkit::io::write_safetensors(path, {{"images", pixels}, {"labels", torch::tensor({5, 6}, torch::kInt64)}}, {});
  auto st = invkit::io::Safetensors::read(path);
  auto v = st.view("images");
  // No copy: the view is the file's bytes as mapped.
  EXPECT_EQ(static_cast<const void*>(v.data_ptr()), static_cast<const void*>(st.data(*st.find("images"))));
  EXPECT_TRUE(torch::equal(v, pixels));
  EXPECT_TRUE(torch::equal(st.view("labels"), torch::tensor({5, 6}, torch::kInt64)));
  // A copy is its own memory.
  EXPECT_NE(st.tensor("images").data_ptr(), v.data_ptr());
  // Writing through the view changes this process's copy, never the file.
  v.fill_(9);
  EXPECT_TRUE(torch::equal(invkit::io::Safetensors::read(path).tensor("images"), pixels));
  // The view keeps the mapping alive after the reader is gone.
  auto kept = invkit::io::Safetensors::read(path).view("images");
  EXPECT_TRUE(torch::equal(kept, pixels));
}
