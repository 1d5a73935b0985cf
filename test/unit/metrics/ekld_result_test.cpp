// measure-ekld's output type: what is written reads back the same, nulls
// stand for non-finite statistics, and malformed files are named errors.
#include <gtest/gtest.h>

#include <cmath>

#include "invkit/error.h"
#include "invkit/metrics/ekld_result.h"

namespace {

using invkit::metrics::EkldResult;
using invkit::metrics::ekld_result_from_json;
using nlohmann::json;

std::string error_of(const json& j) {
  try {
    ekld_result_from_json(j, "e.json");
  } catch (const invkit::Error& e) {
    return e.what();
  }
  return "";
}

TEST(EkldResult, RoundTripsWithNullForNonFinite) {
  EkldResult r;
  r.settings = {{"per_class", 40}, {"samples", 100}};
  invkit::metrics::ClassInvariance big{0, "big", 500, 40, 0.25, 0.05, 0.9, 0.75};
  invkit::metrics::ClassInvariance empty{1, "empty", 5, 0, NAN, NAN, NAN, NAN};
  r.checkpoints.push_back({"erm.st", {big, empty}, {0.25, NAN, {{"many", 0.25}, {"medium", nullptr}, {"few", nullptr}}}});
  const json j = to_json(r);
  EXPECT_TRUE(j["checkpoints"][0]["classes"][1]["ekld"].is_null());
  EXPECT_TRUE(j["checkpoints"][0]["summary"]["spearman"].is_null());
  const EkldResult back = ekld_result_from_json(j, "e.json");
  EXPECT_EQ(back.settings, r.settings);
  ASSERT_EQ(back.checkpoints.size(), 1u);
  const auto& c = back.checkpoints[0];
  EXPECT_EQ(c.checkpoint, "erm.st");
  ASSERT_EQ(c.classes.size(), 2u);
  EXPECT_EQ(c.classes[0].name, "big");
  EXPECT_EQ(c.classes[0].n_train, 500);
  EXPECT_EQ(c.classes[0].images, 40);
  EXPECT_DOUBLE_EQ(c.classes[0].ekld, 0.25);
  EXPECT_DOUBLE_EQ(c.classes[0].accuracy, 0.75);
  EXPECT_TRUE(std::isnan(c.classes[1].ekld));
  EXPECT_DOUBLE_EQ(c.summary.mean_ekld, 0.25);
  EXPECT_TRUE(std::isnan(c.summary.spearman));
  EXPECT_EQ(to_json(back), j);  // and it writes back the same
}

TEST(EkldResult, MalformedFilesAreNamedErrors) {
  EXPECT_EQ(error_of({{"foo", 1}}), "e.json: not measure-ekld's output: no \"checkpoints\" array");
  EXPECT_EQ(error_of({{"checkpoints", json::array()}}), "e.json: \"checkpoints\" is empty");
  EXPECT_EQ(error_of({{"checkpoints", {{{"summary", json::object()}}}}}),
            "e.json: a \"checkpoints\" entry has no \"checkpoint\" path");
  EXPECT_EQ(error_of({{"checkpoints", {{{"checkpoint", "a.st"}}}}}),
            "e.json: checkpoint a.st: no \"summary\" object (is this measure-ekld's output?)");
  EXPECT_EQ(error_of({{"checkpoints", {{{"checkpoint", "a.st"}, {"summary", {{"ekld_by_group", 3}}}}}}}),
            "e.json: checkpoint a.st: summary.ekld_by_group is not an object");
  EXPECT_EQ(error_of({{"checkpoints",
                       {{{"checkpoint", "a.st"}, {"summary", json::object()}, {"classes", {{{"n_train", "x"}}}}}}}}),
            "e.json: checkpoint a.st: classes[].n_train is not a number");
  EXPECT_EQ(error_of({{"checkpoints", {{{"checkpoint", "a.st"}, {"summary", json::object()}, {"classes", 1}}}}}),
            "e.json: checkpoint a.st: \"classes\" is not an array");
}

}  // namespace
