#include "invkit/io/safetensors.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>

#include "invkit/error.h"
#include "invkit/io/file.h"

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
  EXPECT_NE(parse_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", 4))
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
