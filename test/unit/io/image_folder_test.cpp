// Image folders ROOT/<class>/<image>: order, channels, sizes, resizing.
#include <gtest/gtest.h>

#include "testing.h"
#include "invkit/error.h"
#include "invkit/io/image.h"
#include "invkit/io/image_folder.h"

#include <stb_image_write.h>  // implementation compiled into the library (image.cpp)

using invkit::testing::error_of;
using invkit::testing::TempDir;
using invkit::testing::write_bytes;

namespace {

// A constant image [C, H, W].
void put(const std::string& path, int64_t c, int64_t h, int64_t w, int value) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  invkit::io::write_png(path, torch::full({c, h, w}, value, torch::kByte));
}

void put_rgb(const std::string& path, int64_t h, int64_t w, int r, int g, int b) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  invkit::io::write_png(path, torch::tensor({r, g, b}, torch::kByte).view({3, 1, 1}).expand({3, h, w}).contiguous());
}

// A constant gray JPEG (lossy, but a flat image survives to within a step).
void put_jpeg(const std::string& path, int h, int w, uint8_t value) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::vector<uint8_t> pixels(static_cast<size_t>(h) * w, value), bytes;
  auto append = [](void* ctx, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(ctx);
    out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
  };
  ASSERT_TRUE(stbi_write_jpg_to_func(append, &bytes, w, h, 1, pixels.data(), 95));
  write_bytes(path, bytes);
}

}  // namespace

TEST(ImageFolder, ReadsJpegAndBmpToo) {
  TempDir root;
  put_jpeg(root / "a/1.JPG", 8, 8, 120);
  put_jpeg(root / "a/2.jpeg", 8, 8, 60);
  // stb's JPEG writer always stores three components, so ask for gray.
  invkit::io::ImageFolderOptions gray;
  gray.channels = 1;
  auto f = invkit::io::read_image_folder(root.path.string(), gray);
  ASSERT_EQ(f.images.sizes(), (std::vector<int64_t>{2, 1, 8, 8}));
  EXPECT_NEAR(f.images[0].to(torch::kFloat).mean().item<float>(), 120, 2);
  EXPECT_NEAR(f.images[1].to(torch::kFloat).mean().item<float>(), 60, 2);
  // The BMP fixture: one RGB colour (200, 100, 50).
  auto t = invkit::io::read_image_folder(std::string(INVKIT_FIXTURES) + "/tiny-folder");
  EXPECT_EQ(t.class_names, (std::vector<std::string>{"cat", "dog"}));
  ASSERT_EQ(t.images.sizes(), (std::vector<int64_t>{3, 3, 3, 4}));
  EXPECT_TRUE(torch::equal(t.images[2].select(1, 0).select(1, 0), torch::tensor({200, 100, 50}, torch::kByte)));
  EXPECT_EQ(t.images[0].max().item<int>(), 10);  // gray 10 repeated over 3 channels
  EXPECT_EQ(t.images[1].min().item<int>(), 20);
}

TEST(ImageFolder, ClassesAndFilesInSortedOrder) {
  TempDir root;
  put(root / "zebra/2.png", 1, 3, 4, 30);
  put(root / "zebra/10.PNG", 1, 3, 4, 20);  // byte order: "10.PNG" < "2.png"
  put(root / "ant/x.png", 1, 3, 4, 10);
  write_bytes(root / "ant/readme.txt", {'h', 'i'});
  put(root / ".hidden/y.png", 1, 3, 4, 99);
  put(root / "ant/.z.png", 1, 3, 4, 99);
  auto f = invkit::io::read_image_folder(root.path.string());
  EXPECT_EQ(f.class_names, (std::vector<std::string>{"ant", "zebra"}));
  ASSERT_EQ(f.images.sizes(), (std::vector<int64_t>{3, 1, 3, 4}));
  EXPECT_TRUE(torch::equal(f.labels, torch::tensor({0, 1, 1}, torch::kLong)));
  EXPECT_EQ(f.files, (std::vector<std::string>{root / "ant/x.png", root / "zebra/10.PNG", root / "zebra/2.png"}));
  EXPECT_EQ(f.images[0].max().item<int>(), 10);
  EXPECT_EQ(f.images[1].max().item<int>(), 20);
  EXPECT_EQ(f.images[2].min().item<int>(), 30);
}

TEST(ImageFolder, ImageExtensionsAnyCase) {
  EXPECT_TRUE(invkit::io::is_image_file("a.png"));
  EXPECT_TRUE(invkit::io::is_image_file("a.JPG"));
  EXPECT_TRUE(invkit::io::is_image_file("a.JpEg"));
  EXPECT_TRUE(invkit::io::is_image_file("a.bmp"));
  EXPECT_FALSE(invkit::io::is_image_file("a.gif"));
  EXPECT_FALSE(invkit::io::is_image_file("png"));
  EXPECT_FALSE(invkit::io::is_image_file("a.png.txt"));
}

TEST(ImageFolder, MixedSizesNameTheOddFileAndBothSizes) {
  TempDir root;
  put(root / "a/1.png", 1, 3, 4, 0);
  put(root / "b/1.png", 1, 3, 4, 0);
  put(root / "b/2.png", 1, 5, 4, 0);
  EXPECT_EQ(error_of([&] { invkit::io::read_image_folder(root.path.string()); }),
            root / "b/2.png" + ": image is 5x4 (HxW) but " + root / "a/1.png" + " is 3x4; use resize HxW");
}

TEST(ImageFolder, ResizeGivesTheRequestedSize) {
  TempDir root;
  put(root / "a/1.png", 1, 3, 4, 40);
  put(root / "b/1.png", 1, 9, 7, 80);
  invkit::io::ImageFolderOptions o;
  o.height = 6;
  o.width = 5;
  auto f = invkit::io::read_image_folder(root.path.string(), o);
  ASSERT_EQ(f.images.sizes(), (std::vector<int64_t>{2, 1, 6, 5}));
  // A constant image stays constant, up and down.
  EXPECT_EQ(f.images[0].min().item<int>(), 40);
  EXPECT_EQ(f.images[0].max().item<int>(), 40);
  EXPECT_EQ(f.images[1].min().item<int>(), 80);
  EXPECT_EQ(f.images[1].max().item<int>(), 80);
}

TEST(ImageFolder, ResizeIsBilinear) {
  // One row 0, 100 doubled in width: half-pixel centres give 0, 25, 75, 100.
  auto up = invkit::io::resize_image(torch::tensor({0, 100}, torch::kByte).view({1, 1, 2}), 1, 4);
  EXPECT_TRUE(torch::equal(up, torch::tensor({0, 25, 75, 100}, torch::kByte).view({1, 1, 4})));
  // Shrinking 0/200 stripes to one pixel averages them (antialiased).
  auto down = invkit::io::resize_image(torch::tensor({0, 200, 0, 200}, torch::kByte).view({1, 1, 4}), 1, 1);
  EXPECT_EQ(down.item<int>(), 100);
}

TEST(ImageFolder, ChannelsOneAndThree) {
  TempDir root;
  put_rgb(root / "colour/1.png", 2, 2, 200, 100, 50);
  put(root / "gray/1.png", 1, 2, 2, 10);
  invkit::io::ImageFolderOptions gray;
  gray.channels = 1;
  auto g = invkit::io::read_image_folder(root.path.string(), gray);
  ASSERT_EQ(g.images.sizes(), (std::vector<int64_t>{2, 1, 2, 2}));
  // stb's luma: (77 r + 150 g + 29 b) >> 8 = 124.
  EXPECT_EQ(g.images[0].max().item<int>(), 124);
  EXPECT_EQ(g.images[1].max().item<int>(), 10);

  invkit::io::ImageFolderOptions rgb;
  rgb.channels = 3;
  auto c = invkit::io::read_image_folder(root.path.string(), rgb);
  ASSERT_EQ(c.images.sizes(), (std::vector<int64_t>{2, 3, 2, 2}));
  EXPECT_EQ(c.images[0][0][1][1].item<int>(), 200);
  EXPECT_EQ(c.images[0][2][1][1].item<int>(), 50);
  EXPECT_EQ(c.images[1][1][0][0].item<int>(), 10);

  // By default a folder with any colour image is read as colour.
  auto d = invkit::io::read_image_folder(root.path.string());
  EXPECT_TRUE(torch::equal(d.images, c.images));
}

TEST(ImageFolder, AllGrayStaysOneChannel) {
  TempDir root;
  put(root / "a/1.png", 1, 2, 2, 1);
  put(root / "b/1.png", 1, 2, 2, 2);
  EXPECT_EQ(invkit::io::read_image_folder(root.path.string()).images.size(1), 1);
}

TEST(ImageFolder, EmptyInputsAreClearErrors) {
  TempDir root;
  EXPECT_EQ(error_of([&] { invkit::io::read_image_folder(root.path.string()); }),
            root.path.string() + ": no class subfolders (expected ROOT/<class>/<images>)");
  write_bytes(root / "a/notes.txt", {'x'});
  EXPECT_EQ(error_of([&] { invkit::io::read_image_folder(root.path.string()); }),
            root / "a" + ": no images (.png, .jpg, .jpeg, .bmp) in class folder");
  EXPECT_EQ(error_of([&] { invkit::io::read_image_folder(root / "missing"); }),
            root / "missing" + ": not a folder (expected ROOT/<class>/<images>)");
}

TEST(ImageFolder, UnreadableImageNamesTheFile) {
  TempDir root;
  write_bytes(root / "a/broken.png", {'n', 'o', 't', ' ', 'p', 'n', 'g'});
  std::string msg = error_of([&] { invkit::io::read_image_folder(root.path.string()); });
  EXPECT_EQ(msg.rfind(root / "a/broken.png" + ": cannot read image", 0), 0u) << msg;
}
