#include "invkit/data/dataset.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "invkit/error.h"
#include "invkit/io/file.h"
#include "invkit/io/manifest.h"
#include "invkit/io/safetensors.h"
#include "testing.h"

using invkit::Dataset;
using invkit::Error;

namespace {

Dataset tiny() {
  Dataset d;
  d.images = torch::arange(5 * 2 * 3 * 4, torch::kLong).remainder(256).to(torch::kByte).view({5, 2, 3, 4});
  d.labels = torch::tensor({0, 1, 1, 2, 1}, torch::kLong);
  d.class_names = {"a", "b", "c"};
  return d;
}

std::string temp_path(const std::string& name) {
  return testing::TempDir() + "invkit_" + std::to_string(::getpid()) + "_" + name;
}

std::string load_error(const std::string& path) {
  try {
    Dataset::load(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Dataset, CountsAndManifest) {
  Dataset d = tiny();
  EXPECT_EQ(d.class_counts(), (std::vector<int64_t>{1, 3, 1}));
  auto m = d.manifest();
  EXPECT_EQ(m["format"], "invkit.dataset/1");
  EXPECT_EQ(m["num_classes"], 3);
  EXPECT_EQ(m["class_counts"], nlohmann::json({1, 3, 1}));
  EXPECT_EQ(m["channels"], 2);
  EXPECT_EQ(m["height"], 3);
  EXPECT_EQ(m["width"], 4);
  EXPECT_TRUE(m["history"].is_array());
}

TEST(Dataset, SaveLoadRoundTrip) {
  Dataset d = tiny();
  d.add_history({{"tool", "test"}, {"arguments", {"x"}}});
  d.extra["class_order"] = {2, 0, 1};
  d.params = torch::rand({5, 3});
  std::string path = temp_path("round.st");
  d.save(path);
  Dataset e = Dataset::load(path);
  EXPECT_TRUE(torch::equal(d.images, e.images));
  EXPECT_TRUE(torch::equal(d.labels, e.labels));
  EXPECT_TRUE(torch::equal(d.params, e.params));
  EXPECT_FALSE(e.index.defined());
  EXPECT_EQ(e.class_names, d.class_names);
  EXPECT_EQ(e.extra["history"][0]["tool"], "test");
  EXPECT_EQ(e.extra["class_order"], nlohmann::json({2, 0, 1}));
  EXPECT_FALSE(e.extra.contains("class_counts"));  // derived keys are not kept as extras
  std::remove(path.c_str());
}

TEST(Dataset, SelectRecordsRowsInTheInput) {
  Dataset d = tiny();
  Dataset s = d.select(torch::tensor({4, 1}, torch::kLong));
  EXPECT_TRUE(torch::equal(s.labels, torch::tensor({1, 1}, torch::kLong)));
  EXPECT_TRUE(torch::equal(s.index, torch::tensor({4, 1}, torch::kLong)));
  EXPECT_TRUE(torch::equal(s.images[0], d.images[4]));
  Dataset t = s.select(torch::tensor({1}, torch::kLong));
  EXPECT_EQ(t.index[0].item<int64_t>(), 1);
}

TEST(Dataset, RejectsLabelsOutOfRange) {
  Dataset d = tiny();
  d.labels[3] = 7;
  try {
    d.validate("x.st");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "x.st: label 7 at row 3 is out of range [0, 3)");
  }
  d.labels[3] = -1;
  EXPECT_THROW(d.validate("x.st"), Error);
}

TEST(Dataset, RejectsInconsistentShapes) {
  Dataset d = tiny();
  d.labels = torch::tensor({0, 1}, torch::kLong);
  EXPECT_THROW(d.validate("x"), Error);
  d = tiny();
  d.images = d.images.to(torch::kFloat);
  EXPECT_THROW(d.validate("x"), Error);
}

TEST(Dataset, LoadChecksTheManifestAgainstTheTensors) {
  Dataset d = tiny();
  auto m = d.manifest();
  m["class_counts"] = {1, 2, 2};
  std::string path = temp_path("counts.st");
  invkit::io::write_safetensors(path, {{"images", d.images}, {"labels", d.labels}},
                                invkit::io::metadata_with_manifest(m));
  EXPECT_NE(load_error(path).find("class_counts [1,2,2] disagree with the labels [1,3,1]"), std::string::npos);
  m = d.manifest();
  m["height"] = 9;
  invkit::io::write_safetensors(path, {{"images", d.images}, {"labels", d.labels}},
                                invkit::io::metadata_with_manifest(m));
  EXPECT_NE(load_error(path).find("height 9 disagrees"), std::string::npos);
  std::remove(path.c_str());
}

TEST(Dataset, PlainSafetensorsLoadsWithNumberedClasses) {
  Dataset d = tiny();
  std::string path = temp_path("plain.st");
  invkit::io::write_safetensors(path, {{"images", d.images}, {"labels", d.labels}}, {});
  Dataset e = Dataset::load(path);
  EXPECT_EQ(e.class_names, (std::vector<std::string>{"0", "1", "2"}));
  invkit::io::write_safetensors(path, {{"images", d.images}}, {});
  EXPECT_NE(load_error(path).find("needs tensors \"images\" and \"labels\""), std::string::npos);
  std::remove(path.c_str());
}

TEST(Dataset, FailedSaveLeavesNothing) {
  Dataset d = tiny();
  d.labels[0] = 9;
  std::string path = temp_path("bad.st");
  EXPECT_THROW(d.save(path), Error);
  EXPECT_NE(access(path.c_str(), F_OK), 0);
  EXPECT_NE(access((path + ".tmp").c_str(), F_OK), 0);
}

TEST(Dataset, ManifestClassCountIsCheckedBeforeNumbering) {
  // num_classes without class_names: 2^61 names would never be made.
  Dataset d = tiny();
  auto m = d.manifest();
  m.erase("class_names");
  m["num_classes"] = int64_t(1) << 61;
  std::string path = temp_path("numbered.st");
  invkit::io::write_safetensors(path, {{"images", d.images}, {"labels", d.labels}}, invkit::io::metadata_with_manifest(m));
  EXPECT_EQ(load_error(path), path + ": manifest num_classes 2305843009213693952 is not a class count (expected 1..16777216)");
  m["num_classes"] = -3;
  invkit::io::write_safetensors(path, {{"images", d.images}, {"labels", d.labels}}, invkit::io::metadata_with_manifest(m));
  EXPECT_EQ(load_error(path), path + ": manifest num_classes -3 is not a class count (expected 1..16777216)");
  m["num_classes"] = 4;
  m.erase("class_counts");
  invkit::io::write_safetensors(path, {{"images", d.images}, {"labels", d.labels}}, invkit::io::metadata_with_manifest(m));
  EXPECT_EQ(Dataset::load(path).num_classes(), 4);
  std::remove(path.c_str());
}

TEST(Dataset, LargestLabelOfAPlainFileIsCheckedBeforeNumbering) {
  Dataset d = tiny();
  d.labels[2] = int64_t(1) << 61;
  std::string path = temp_path("plain-big.st");
  invkit::io::write_safetensors(path, {{"images", d.images}, {"labels", d.labels}}, {});
  EXPECT_EQ(load_error(path), path + ": label 2305843009213693952 is too large to number the classes by (no manifest "
                                     "names them; at most 16777216 classes)");
  std::remove(path.c_str());
}

TEST(Dataset, EmptySetRoundTripsAndRequireRowsNamesTheFile) {
  Dataset d = tiny().select(torch::empty({0}, torch::kLong));
  std::string path = temp_path("empty.st");
  d.save(path);
  Dataset e = Dataset::load(path);
  EXPECT_EQ(e.size(), 0);
  EXPECT_EQ(e.class_counts(), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(e.images.sizes(), (std::vector<int64_t>{0, 2, 3, 4}));
  EXPECT_EQ(invkit::testing::error_of([&] { e.require_rows("empty.st", "nothing to do"); }),
            "empty.st: the data set is empty (0 rows); nothing to do");
  EXPECT_NO_THROW(tiny().require_rows("x", "y"));
  std::remove(path.c_str());
}

TEST(Dataset, NonUtf8TextInTheManifestIsStoredEscaped) {
  // A path with a Latin-1 byte in a tool's extras: the save does not throw
  // nlohmann's type_error.316, the manifest holds the escaped form.
  Dataset d = tiny();
  d.extra["augment"] = {{"generator", "caf\xe9.st"}};
  d.add_history({{"tool", "t"}, {"arguments", {"-o", "out\xff.st"}}});
  std::string path = temp_path("latin1.st");
  d.save(path);
  Dataset e = Dataset::load(path);
  EXPECT_EQ(e.extra["augment"]["generator"], "caf\\xe9.st");
  EXPECT_EQ(e.extra["history"][0]["arguments"][1], "out\\xff.st");
  std::remove(path.c_str());
}

TEST(Dataset, DeeplyNestedManifestIsAnErrorNotAStackOverflow) {
  // Found while fuzzing the manifest reader (by hand: the fuzzer's inputs stay
  // under 4 KB): a manifest of 300000 nested arrays parsed, then overflowed
  // the stack when it was copied, since nlohmann copies recursively.
  Dataset d = tiny();
  std::string path = temp_path("deep.st");
  const std::string deep = "{\"x\":" + std::string(300000, '[') + std::string(300000, ']') + "}";
  invkit::io::write_safetensors(path, {{"images", d.images}, {"labels", d.labels}}, {{invkit::io::kManifestKey, deep}});
  const std::string what = path + ": manifest (__metadata__[\"invkit\"]) nests arrays and objects more than 127 levels deep";
  EXPECT_EQ(load_error(path), what);
  try {
    invkit::io::read_manifest(path);
    ADD_FAILURE() << "read_manifest took it";
  } catch (const Error& e) {
    EXPECT_EQ(e.what(), what);
  }
  std::remove(path.c_str());
}
