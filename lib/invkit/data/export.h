// A data set out as pictures: an image folder DIR/<class>/<row>.png (the
// layout `convert folder` reads back) and a contact sheet, one row per class.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "invkit/data/dataset.h"

namespace invkit {

// Class names as folder names: every byte outside [A-Za-z0-9._-] becomes
// '_', an empty name or one of dots becomes "class_<i>", and a name that
// repeats an earlier one gets "_<i>" appended (i = the class index) until
// it is unique.
std::vector<std::string> safe_folder_names(const std::vector<std::string>& class_names);

// Writes DIR/<safe class name>/<row>.png for every row; rows are numbered in
// the data set, zero-padded to the same width so that names sort in row
// order. DIR/classes.txt (image_folder.h) lists the classes in the set's
// order, with the class name after a tab where the folder name had to differ,
// so that convert folder reads the classes back in the same order and with
// the same names. Everything is written into DIR.tmp and renamed to DIR at
// the end, so a failure leaves no DIR behind. An existing non-empty DIR is an
// Error unless `force` (then it is replaced). Every class gets a folder, even
// an empty one. A class name with a tab or line break is an Error.
void export_image_folder(const Dataset& set, const std::string& dir, bool force = false);

// The pixels of rows [begin, end) of a set, uint8 [end - begin, C, H, W],
// asked for in increasing order (DatasetReader::images streams them).
using ImageRows = std::function<torch::Tensor(int64_t begin, int64_t end)>;
// The same folder from `head` (labels and class names; its images are not
// read) and its pixels from `pixels`, a chunk of rows at a time.
void export_image_folder(const Dataset& head, const ImageRows& pixels, const std::string& dir, bool force = false);

// Throws UsageError unless a sheet of `classes` rows of `per_class` images of
// `shape` fits in a PNG (2^31 - 1 bytes of pixels) and per_class >= 1; checked
// before anything is allocated (contact_sheet checks it first too).
void check_contact_sheet(int64_t classes, const ImageShape& shape, int64_t per_class, int64_t pad = 2);

// The rows a contact sheet shows, int64 [M]: the first `per_class` rows of
// each class, in row order (so that set.select(rows) makes the same sheet).
torch::Tensor contact_sheet_rows(const Dataset& set, int64_t per_class);

// The contact sheet as uint8 [C, H', W']: row k shows the first `per_class`
// images of class k (blank cells where a class has fewer), `pad` pixels of
// white between cells.
torch::Tensor contact_sheet(const Dataset& set, int64_t per_class, int64_t pad = 2);

}  // namespace invkit
