// Export of a data set: image folder layout and atomicity, contact sheet.
#include <gtest/gtest.h>
#include <fstream>

#include "testing.h"
#include "invkit/data/export.h"
#include "invkit/error.h"
#include "invkit/io/image.h"

namespace fs = std::filesystem;
using invkit::testing::error_of;
using invkit::testing::TempDir;

namespace {

// n gray 5×6 images, image i filled with value 10 * i, labels as given.
invkit::Dataset make_set(const std::vector<int64_t>& labels, std::vector<std::string> names) {
  invkit::Dataset d;
  const int64_t n = static_cast<int64_t>(labels.size());
  d.images = (torch::arange(n, torch::kLong) * 10).to(torch::kByte).view({n, 1, 1, 1}).expand({n, 1, 5, 6}).contiguous();
  d.labels = torch::tensor(labels, torch::kLong);
  d.class_names = std::move(names);
  return d;
}

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) names.push_back(fs::relative(e.path(), dir).string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST(Export, SafeFolderNames) {
  EXPECT_EQ(invkit::safe_folder_names({"T-shirt/top", "a b", "..", "", "x", "x", "Ankle boot"}),
            (std::vector<std::string>{"T-shirt_top", "a_b", "class_2", "class_3", "x", "x_5", "Ankle_boot"}));
}

TEST(Export, FolderLayout) {
  TempDir tmp;
  // 11 rows: names are zero-padded to two digits; class "empty" has no rows.
  auto d = make_set({1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1}, {"T-shirt/top", "b", "empty"});
  invkit::export_image_folder(d, tmp / "out");
  EXPECT_EQ(listing(tmp / "out"),
            (std::vector<std::string>{"T-shirt_top", "T-shirt_top/01.png", "T-shirt_top/02.png", "T-shirt_top/04.png",
                                      "T-shirt_top/05.png", "T-shirt_top/06.png", "T-shirt_top/07.png",
                                      "T-shirt_top/08.png", "T-shirt_top/09.png", "b", "b/00.png", "b/03.png",
                                      "b/10.png", "classes.txt", "empty"}));
  // The class order, with the name where the folder name had to differ.
  std::ifstream order(tmp / "out/classes.txt");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(order), {}), "T-shirt_top\tT-shirt/top\nb\nempty\n");
  EXPECT_FALSE(fs::exists(tmp / "out.tmp"));
  torch::Tensor back = invkit::io::read_image(tmp / "out/b/03.png");
  EXPECT_TRUE(torch::equal(back, d.images[3]));
  EXPECT_EQ(back.max().item<int>(), 30);
}

TEST(Export, RefusesANonEmptyFolderUnlessForced) {
  TempDir tmp;
  auto d = make_set({0, 1}, {"a", "b"});
  fs::create_directories(tmp / "out");
  invkit::export_image_folder(d, tmp / "out");  // an empty folder is fine
  EXPECT_EQ(error_of([&] { invkit::export_image_folder(d, tmp / "out"); }),
            tmp / "out" + ": folder exists and is not empty (use force to replace it)");
  auto e = make_set({0, 0, 0}, {"c"});
  invkit::export_image_folder(e, tmp / "out", true);
  EXPECT_EQ(listing(tmp / "out"), (std::vector<std::string>{"c", "c/0.png", "c/1.png", "c/2.png", "classes.txt"}));
  EXPECT_FALSE(fs::exists(tmp / "out.old"));
  // A trailing slash names the same folder.
  invkit::export_image_folder(d, tmp / "slash/");
  EXPECT_EQ(listing(tmp / "slash"), (std::vector<std::string>{"a", "a/0.png", "b", "b/1.png", "classes.txt"}));
  EXPECT_FALSE(fs::exists(tmp / "slash.tmp"));
}

TEST(Export, FailureLeavesNoFolder) {
  TempDir tmp;
  auto d = make_set({0, 1, 0, 1, 0, 7, 0}, {"a", "b"});  // row 5 has no class name
  EXPECT_EQ(error_of([&] { invkit::export_image_folder(d, tmp / "out"); }), "row 5: label 7 has no class name");
  EXPECT_FALSE(fs::exists(tmp / "out"));
  EXPECT_FALSE(fs::exists(tmp / "out.tmp"));
  // A failed --force export keeps the old folder as it was.
  auto good = make_set({0}, {"a"});
  invkit::export_image_folder(good, tmp / "out");
  EXPECT_THROW(invkit::export_image_folder(d, tmp / "out", true), invkit::Error);
  EXPECT_EQ(listing(tmp / "out"), (std::vector<std::string>{"a", "a/0.png", "classes.txt"}));
}

TEST(Export, ContactSheetSizeAndCells) {
  // Class 0 has 3 rows, class 1 one row, class 2 none; 2 per class.
  auto d = make_set({0, 1, 0, 0}, {"a", "b", "c"});
  torch::Tensor sheet = invkit::contact_sheet(d, 2, 2);
  // 3 rows of 5 px and 2 columns of 6 px, 2 px padding around and between.
  ASSERT_EQ(sheet.sizes(), (std::vector<int64_t>{1, 2 + 3 * (5 + 2), 2 + 2 * (6 + 2)}));
  auto cell = [&](int r, int c) { return sheet[0].narrow(0, 2 + r * 7, 5).narrow(1, 2 + c * 8, 6); };
  EXPECT_EQ(cell(0, 0).max().item<int>(), 0);   // row 0 (value 0)
  EXPECT_EQ(cell(0, 1).min().item<int>(), 20);  // row 2: the second image of class 0
  EXPECT_EQ(cell(1, 0).min().item<int>(), 10);  // row 1
  EXPECT_EQ(cell(1, 1).min().item<int>(), 255); // class 1 has one image: blank
  EXPECT_EQ(cell(2, 0).min().item<int>(), 255); // class 2 has none
  EXPECT_EQ(sheet[0][0].min().item<int>(), 255);  // padding
}

TEST(Export, ContactSheetKeepsColour) {
  invkit::Dataset d;
  d.images = torch::zeros({2, 3, 4, 4}, torch::kByte);
  d.labels = torch::tensor({0, 1}, torch::kLong);
  d.class_names = {"x", "y"};
  EXPECT_EQ(invkit::contact_sheet(d, 10).sizes(), (std::vector<int64_t>{3, 2 + 2 * 6, 2 + 10 * 6}));
  EXPECT_THROW(invkit::contact_sheet(d, 0), invkit::UsageError);
}

TEST(Export, ContactSheetTooLargeForAPngIsRefusedBeforeAllocating) {
  // 10^12 cells per row would wrap PNG's int sizes (and ask for terabytes).
  auto d = make_set({0, 1}, {"a", "b"});
  EXPECT_EQ(error_of([&] { invkit::contact_sheet(d, 1'000'000'000'000); }),
            "per_class 1000000000000: a contact sheet of 2 classes x 1000000000000 images of 5x6 is too large for a PNG");
  EXPECT_THROW(invkit::contact_sheet(d, int64_t(1) << 62), invkit::UsageError);
}

TEST(Export, PngSizeCheckNamesTheFile) {
  EXPECT_NO_THROW(invkit::io::check_png_size("p.png", 28, 28, 3));
  EXPECT_EQ(error_of([] { invkit::io::check_png_size("p.png", 65536, 65536, 1); }),
            "p.png: cannot write a 65536x65536x1 image as PNG: at most 2147483647 bytes of pixels");
  EXPECT_THROW(invkit::io::check_png_size("p.png", 0, 5, 1), invkit::Error);
}

TEST(Export, EmptySetExportsOneEmptyFolderPerClassAndABlankSheet) {
  auto d = make_set({}, {"a", "b"});
  d.images = torch::empty({0, 1, 5, 6}, torch::kByte);
  TempDir dir;
  invkit::export_image_folder(d, dir / "out", false);
  EXPECT_EQ(listing(dir.path / "out"), (std::vector<std::string>{"a", "b", "classes.txt"}));
  auto sheet = invkit::contact_sheet(d, 3);
  EXPECT_EQ(sheet.sizes(), (std::vector<int64_t>{1, 2 + 2 * 7, 2 + 3 * 8}));
  EXPECT_EQ(sheet.min().item<int>(), 255);
}
