// Image lists: the layout of the long-tail benchmarks (ImageNet-LT's
// ImageNet_LT_train.txt, iNaturalist 2018's lists, Places-LT), one image a
// line as `relative/path label`, the paths under a root folder.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace invkit::io {

struct ImageListEntry {
  std::string path;  // relative to the list's root, as written
  int64_t label = 0;
};

// The entries of a list file: a line is PATH, whitespace, then a label that
// is a non-negative integer (the last field; PATH may hold spaces). Blank
// lines are skipped; a byte-order mark, UTF-16 and CRLF are handled as
// read_text_lines does. Throws Error naming the file and line for a line
// without a label, a label that is not a non-negative integer, or a list
// without entries.
std::vector<ImageListEntry> read_image_list(const std::string& path);

// Images begin..end of `entries`, each read from ROOT/PATH as `channels`
// (1 or 3) channels and resized (bilinear, antialiased when shrinking:
// resize_image) to height x width, decoded in parallel over LibTorch's
// threads: uint8 [end - begin, channels, height, width]. A file that cannot
// be read is an Error naming it (the first such file in list order).
torch::Tensor read_list_images(const std::vector<ImageListEntry>& entries, int64_t begin, int64_t end,
                               const std::string& root, int channels, int64_t height, int64_t width);

}  // namespace invkit::io
