#include <gtest/gtest.h>

#include <filesystem>

#include "invkit/io/file.h"
#include "testing.h"

namespace fs = std::filesystem;
using invkit::testing::TempDir;
using invkit::testing::write_bytes;

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
