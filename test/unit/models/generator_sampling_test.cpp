#include "invkit/models/generator_sampling.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "invkit/error.h"

namespace {

using invkit::models::native_bf16;
using invkit::models::Precision;
using invkit::models::precision_note;

TEST(GeneratorPrecision, ParsesItsTwoNames) {
  EXPECT_EQ(invkit::models::parse_precision("fp32"), Precision::Float32);
  EXPECT_EQ(invkit::models::parse_precision("bf16"), Precision::BFloat16);
  EXPECT_THROW(invkit::models::parse_precision("fp16"), invkit::UsageError);
}

TEST(GeneratorPrecision, NativeBf16FollowsTheCpuFlags) {
  std::ifstream in("/proc/cpuinfo");
  if (!in) GTEST_SKIP() << "no /proc/cpuinfo";
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const bool flagged = text.find(" avx512_bf16") != std::string::npos || text.find(" amx_bf16") != std::string::npos;
  EXPECT_EQ(native_bf16(torch::kCPU), flagged);
  EXPECT_TRUE(native_bf16(torch::Device(torch::kCUDA, 0)));
}

TEST(GeneratorPrecision, NoteOnlyForEmulatedBf16) {
  EXPECT_EQ(precision_note(Precision::Float32, torch::kCPU), "");
  EXPECT_EQ(precision_note(Precision::BFloat16, torch::Device(torch::kCUDA, 0)), "");
  const std::string note = precision_note(Precision::BFloat16, torch::kCPU);
  if (native_bf16(torch::kCPU)) {
    EXPECT_EQ(note, "");
  } else {
    EXPECT_NE(note.find("the generator in bfloat16 on a CPU without AVX512-BF16 or AMX: bfloat16 is emulated"), std::string::npos) << note;
  }
}

}  // namespace
