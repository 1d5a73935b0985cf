#include "invkit/data/export.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <set>

#include "invkit/error.h"
#include "invkit/io/checked.h"
#include "invkit/io/file.h"
#include "invkit/io/image.h"
#include "invkit/io/image_folder.h"

namespace fs = std::filesystem;

namespace invkit {

namespace {

// Plain (non-atomic) PNG file: the whole folder is made atomic at once.
void write_png_plain(const fs::path& path, const torch::Tensor& chw) {
  auto png = io::encode_png(chw, path.string());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  out.close();
  if (!out) throw Error(path.string() + ": write failed");
}

// Removes a half-written DIR.tmp unless disarmed.
struct RemoveOnFailure {
  fs::path path;
  bool armed = true;
  ~RemoveOnFailure() {
    if (!armed) return;
    io::remove_tree(path.string());
  }
};

}  // namespace

std::vector<std::string> safe_folder_names(const std::vector<std::string>& class_names) {
  std::vector<std::string> out;
  std::set<std::string> used;
  for (size_t i = 0; i < class_names.size(); ++i) {
    std::string s = class_names[i];
    for (char& ch : s) {
      const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                      ch == '.' || ch == '_' || ch == '-';
      if (!ok) ch = '_';
    }
    if (s.find_first_not_of('.') == std::string::npos) s = "class_" + std::to_string(i);
    while (used.count(s)) s += "_" + std::to_string(i);
    used.insert(s);
    out.push_back(s);
  }
  return out;
}

void export_image_folder(const Dataset& set, const std::string& dir, bool force) {
  export_image_folder(set, [&](int64_t b, int64_t e) { return set.images.slice(0, b, e); }, dir, force);
}

void export_image_folder(const Dataset& set, const ImageRows& pixels, const std::string& dir, bool force) {
  if (dir.empty() || dir == "-") throw UsageError(param("to_dir") + " needs a folder name");
  std::error_code ec;
  // "out/" names the folder out, whose temporary sibling is out.tmp.
  fs::path target = fs::path(dir).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();
  if (fs::exists(target, ec)) {
    if (!fs::is_directory(target, ec)) throw Error(dir + ": exists and is not a folder");
    if (!fs::is_empty(target, ec) && !force)
      throw Error(dir + ": folder exists and is not empty (use " + param("force") + " to replace it)");
  }
  fs::path tmp = target;
  tmp += ".tmp";
  io::remove_tree(tmp.string());  // a leftover of an earlier failed export
  RemoveOnFailure cleanup{tmp};
  if (!fs::create_directories(tmp, ec) || ec) throw Error(tmp.string() + ": cannot create folder: " + ec.message());

  const std::vector<std::string> folders = safe_folder_names(set.class_names);
  for (const auto& f : folders) {
    fs::create_directory(tmp / f, ec);
    if (ec) throw Error((tmp / f).string() + ": cannot create folder: " + ec.message());
  }
  {
    // The class order (and the names the folder names had to change), so
    // that convert folder reads the classes back as they were.
    std::ofstream order(tmp / io::kClassOrderFile, std::ios::binary);
    for (size_t c = 0; c < folders.size(); ++c) {
      const std::string& name = set.class_names[c];
      if (name.find_first_of("\t\r\n") != std::string::npos)
        throw Error("class " + std::to_string(c) + ": its name has a tab or line break and cannot be written to " +
                    io::kClassOrderFile);
      order << folders[c] << (name != folders[c] ? "\t" + name : "") << "\n";
    }
    order.close();
    if (!order) throw Error((tmp / io::kClassOrderFile).string() + ": write failed");
  }
  const int64_t n = set.size();
  const int digits = static_cast<int>(std::to_string(std::max<int64_t>(n - 1, 0)).size());
  torch::Tensor labels = set.labels.to(torch::kCPU).contiguous();
  const int64_t* label = labels.data_ptr<int64_t>();
  for (int64_t row = 0; row < n; ++row)
    if (label[row] < 0 || label[row] >= static_cast<int64_t>(folders.size()))
      throw Error("row " + std::to_string(row) + ": label " + std::to_string(label[row]) + " has no class name");
  char name[32];
  const int64_t chunk = 1024;  // rows of pixels held at a time
  for (int64_t begin = 0; begin < n; begin += chunk) {
    const int64_t end = std::min(n, begin + chunk);
    const torch::Tensor images = pixels(begin, end).to(torch::kCPU).contiguous();
    for (int64_t row = begin; row < end; ++row) {
      std::snprintf(name, sizeof name, "%0*lld.png", digits, static_cast<long long>(row));
      write_png_plain(tmp / folders[label[row]] / name, images[row - begin]);
    }
  }

  // Replace an old folder (--force) by moving it aside first and deleting it
  // only once the new one is in place: a failure never loses it.
  fs::path old = target;
  old += ".old";
  const bool replacing = fs::exists(target, ec);
  if (replacing) {
    io::remove_tree(old.string());
    fs::rename(target, old, ec);
    if (ec) throw Error(dir + ": cannot move the old folder aside: " + ec.message());
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;
    if (replacing) fs::rename(old, target, ignored);
    throw Error(dir + ": cannot rename " + tmp.string() + " to it: " + ec.message());
  }
  cleanup.armed = false;
  if (replacing) io::remove_tree(old.string());
}

torch::Tensor contact_sheet_rows(const Dataset& set, int64_t per_class) {
  torch::Tensor labels = set.labels.to(torch::kCPU).contiguous();
  const int64_t* label = labels.data_ptr<int64_t>();
  std::vector<int64_t> filled(set.num_classes(), 0), rows;
  for (int64_t row = 0; row < set.size(); ++row)
    if (filled[label[row]]++ < per_class) rows.push_back(row);
  return torch::tensor(rows, torch::kLong);
}

void check_contact_sheet(int64_t classes, const ImageShape& shape, int64_t per_class, int64_t pad) {
  if (per_class < 1) throw UsageError(param("per_class") + " " + std::to_string(per_class) + ": expected at least 1");
  // The sheet's sides, checked before anything is allocated: a large
  // --per-class must not wrap into a small (or negative) size.
  const auto side = [&](int64_t cells, int64_t cell) { return io::checked_mul(cells, cell + pad); };
  const auto sheet_w = side(per_class, shape.width), sheet_h = side(classes, shape.height);
  std::optional<uint64_t> sheet_bytes;
  if (sheet_w && sheet_h) sheet_bytes = io::checked_product({*sheet_w + pad, *sheet_h + pad}, shape.channels);
  if (!sheet_bytes || *sheet_bytes > static_cast<uint64_t>(std::numeric_limits<int>::max()))
    throw UsageError(param("per_class") + " " + std::to_string(per_class) + ": a contact sheet of " +
                     std::to_string(classes) + " classes x " + std::to_string(per_class) + " images of " +
                     std::to_string(shape.height) + "x" + std::to_string(shape.width) + " is too large for a PNG");
}

torch::Tensor contact_sheet(const Dataset& set, int64_t per_class, int64_t pad) {
  const int64_t classes = set.num_classes();
  check_contact_sheet(classes, set.image_shape(), per_class, pad);
  torch::Tensor images = set.images.to(torch::kCPU);
  torch::Tensor labels = set.labels.to(torch::kCPU).contiguous();
  torch::Tensor cells =
      torch::full({classes * per_class, set.channels(), set.height(), set.width()}, 255, torch::kByte);
  std::vector<int64_t> filled(classes, 0);
  const int64_t* label = labels.data_ptr<int64_t>();
  const torch::Tensor rows = contact_sheet_rows(set, per_class);
  const int64_t* row = rows.data_ptr<int64_t>();
  for (int64_t i = 0; i < rows.numel(); ++i) {
    const int64_t c = label[row[i]];
    cells[c * per_class + filled[c]++].copy_(images[row[i]]);
  }
  return io::image_grid(cells, per_class, pad, 255);
}

}  // namespace invkit
