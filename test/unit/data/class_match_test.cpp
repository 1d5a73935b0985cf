#include "invkit/data/class_match.h"

#include <gtest/gtest.h>

#include "invkit/data/dataset.h"
#include "invkit/data/sampling.h"
#include "testing.h"

using invkit::Dataset;
using invkit::testing::error_of;

namespace {

Dataset set_of(std::vector<std::string> names, std::vector<int64_t> labels) {
  Dataset d;
  d.images = torch::zeros({static_cast<int64_t>(labels.size()), 1, 2, 2}, torch::kByte);
  d.labels = torch::tensor(labels, torch::kLong);
  d.class_names = std::move(names);
  return d;
}

std::vector<int64_t> labels_of(const Dataset& d) {
  return std::vector<int64_t>(d.labels.data_ptr<int64_t>(), d.labels.data_ptr<int64_t>() + d.size());
}

}  // namespace

TEST(ClassMatch, SameNamesInAnotherOrderAreRemappedByName) {
  EXPECT_EQ(invkit::match_classes({"c", "a", "b"}, "x.st", {"a", "b", "c"}, "clf.st"),
            (std::vector<int64_t>{2, 0, 1}));
  Dataset d = set_of({"c", "a", "b"}, {0, 1, 2, 0});
  invkit::align_classes(d, "x.st", {"a", "b", "c"}, "clf.st");
  EXPECT_EQ(labels_of(d), (std::vector<int64_t>{2, 0, 1, 2}));
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(ClassMatch, SplitLackingAClassMapsItsClassesByName) {
  // train/{a,b,c} and test/{a,c}: test's class 1 is "c", the model's 2.
  Dataset d = set_of({"a", "c"}, {0, 1, 1});
  invkit::align_classes(d, "test.st", {"a", "b", "c"}, "clf.st");
  EXPECT_EQ(labels_of(d), (std::vector<int64_t>{0, 2, 2}));
  EXPECT_EQ(d.num_classes(), 3);
}

TEST(ClassMatch, UnknownNameIsAnErrorNamingFileAndClass) {
  EXPECT_EQ(error_of([] { invkit::match_classes({"a", "d"}, "test.st", {"a", "b", "c"}, "clf.st"); }),
            "test.st: class \"d\" is not one of the classes of clf.st (a, b, c)");
}

TEST(ClassMatch, NumberedNamesMatchByPositionWithEqualCounts) {
  EXPECT_TRUE(invkit::numbered_names({"0", "1", "2"}));
  EXPECT_FALSE(invkit::numbered_names({"0", "2"}));
  EXPECT_EQ(invkit::match_classes({"0", "1"}, "x.st", {"cat", "dog"}, "clf.st"), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(error_of([] { invkit::match_classes({"0", "1"}, "x.st", {"a", "b", "c"}, "clf.st"); }),
            "x.st: has 2 classes but clf.st has 3; without class names on both sides, classes are matched by "
            "position and the counts must agree");
}

TEST(ClassMatch, GeneratorMustKnowTheDataClasses) {
  nlohmann::json m = {{"data", {{"class_names", {"a", "b"}}}}};
  EXPECT_NO_THROW(invkit::check_generator_classes(m, "gen.st", set_of({"b", "a"}, {0}), "x.st"));
  EXPECT_NO_THROW(invkit::check_generator_classes(nlohmann::json::object(), "gen.st", set_of({"z"}, {0}), "x.st"));
  EXPECT_EQ(error_of([&] { invkit::check_generator_classes(m, "gen.st", set_of({"a", "z"}, {0}), "x.st"); }),
            "x.st: class \"z\" is not one of the classes of gen.st (the classes the generator was trained on) (a, b)");
}

TEST(ClassMatch, ConcatRemapsLaterPartsToTheFirstPartsClasses) {
  Dataset a = set_of({"a", "b"}, {0, 1});
  Dataset b = set_of({"b", "a"}, {0, 0, 1});
  Dataset out = invkit::concat({a, b}, {a.image_shape(), b.image_shape()}, {"a.st", "b.st"});
  EXPECT_EQ(labels_of(out), (std::vector<int64_t>{0, 1, 1, 1, 0}));
  EXPECT_EQ(out.class_names, (std::vector<std::string>{"a", "b"}));
  Dataset c = set_of({"a", "z"}, {0});
  EXPECT_EQ(error_of([&] { invkit::concat({a, c}, {a.image_shape(), c.image_shape()}, {"a.st", "c.st"}); }),
            "c.st: class \"z\" is not one of the classes of a.st (a, b)");
}

TEST(ClassMatch, DuplicateClassNamesAreRefused) {
  Dataset d = set_of({"a", "a"}, {0});
  EXPECT_EQ(error_of([&] { d.validate("x.st"); }), "x.st: class name \"a\" appears twice in class_names");
}
