// Image folders: ROOT/<class>/<image>, one subfolder per class. Classes are
// the subfolder names in sorted (byte) order, unless ROOT/classes.txt gives
// the order: one class a line, `FOLDER` or `FOLDER<TAB>NAME` (the class name
// when it differs from the folder's; what convert --to-dir writes), blank
// lines, a UTF-8 byte-order mark and CR line ends ignored; then every
// subfolder must be listed and every listed folder must exist (it may be
// empty: the class has no images). Images are taken in sorted file-name
// order within a class. A class name must be UTF-8 (else an Error naming the
// folder or line and the byte), unless names_encoding is latin1: then every
// name is read as Latin-1 and stored as UTF-8. Image files end in .png, .jpg,
// .jpeg or .bmp (any case); other files and hidden entries are ignored.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "invkit/io/image_list.h"
#include "invkit/io/text.h"

namespace invkit::io {

// The class order file of an image folder: ROOT/classes.txt.
constexpr const char* kClassOrderFile = "classes.txt";

struct ImageFolderOptions {
  int channels = 0;    // 1 or 3; 0 = 3 when any image has colour, else 1
  int64_t height = 0;  // with width: resize every image to height×width; 0 = keep
  int64_t width = 0;
  NameEncoding names_encoding = NameEncoding::utf8;  // how class folder names are read
};

struct ImageFolder {
  torch::Tensor images;                  // uint8 [N, C, H, W]
  torch::Tensor labels;                  // int64 [N]
  std::vector<std::string> class_names;  // the subfolder names
  std::vector<std::string> files;        // the image of each row
};

// True for a file name with an image extension this reader takes.
bool is_image_file(const std::string& name);

// The classes and image files under root: the rows of the set in order,
// each file's full path and label, and the images' shape: `channels` as
// ImageFolderOptions says, height and width the resize's or, without one,
// the images' own. Only the files' headers are read (none when the resize
// and the channels are given), and the first image is decoded when its size
// sets the shape. The errors are read_image_folder's but for a file whose
// pixels cannot be decoded, which read_list_images finds.
struct ImageFolderIndex {
  std::vector<std::string> class_names;
  std::vector<ImageListEntry> entries;  // path (under root, root included) and label of each row
  int channels = 0;
  int64_t height = 0, width = 0;
};
ImageFolderIndex index_image_folder(const std::string& root, const ImageFolderOptions& options = {});

// Reads every image under root (index_image_folder, then every file decoded). Without a resize, images of differing sizes
// are an Error naming the odd file and both sizes. A root that is not a
// folder, has no class subfolders, or a class without images (unless
// classes.txt lists it) is an Error; so is a classes.txt that lists a missing
// folder, a folder twice, or leaves a subfolder out.
ImageFolder read_image_folder(const std::string& root, const ImageFolderOptions& options = {});

// Bilinear resampling of uint8 [C, H, W] to [C, height, width], antialiased
// when shrinking.
torch::Tensor resize_image(const torch::Tensor& image, int64_t height, int64_t width);

}  // namespace invkit::io
