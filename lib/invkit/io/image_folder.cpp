#include "invkit/io/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <utility>

#include "invkit/error.h"
#include "invkit/io/image.h"
#include "invkit/io/image_list.h"

namespace fs = std::filesystem;

namespace invkit::io {

namespace {

std::vector<std::string> sorted_entries(const fs::path& dir, bool want_dirs) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code type_ec;
    bool is_dir = it->is_directory(type_ec);
    if (want_dirs ? is_dir : (!is_dir && is_image_file(name))) names.push_back(name);
  }
  if (ec) throw Error(dir.string() + ": cannot list folder: " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

// The classes of ROOT/classes.txt: (folder, name) in the file's order.
std::vector<std::pair<std::string, std::string>> read_class_order(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(file.string() + ": cannot open");
  std::vector<std::pair<std::string, std::string>> classes;
  std::set<std::string> folders, names;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (number == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const auto tab = line.find('\t');
    std::string folder = line.substr(0, tab), name = tab == std::string::npos ? folder : line.substr(tab + 1);
    const std::string where = file.string() + " line " + std::to_string(number) + ": ";
    if (folder.empty() || name.empty() || folder.find('/') != std::string::npos || folder == "." || folder == "..")
      throw Error(where + "expected FOLDER or FOLDER<TAB>NAME, FOLDER a subfolder's name");
    if (!fs::is_directory(file.parent_path() / folder))
      throw Error(where + "class folder \"" + folder + "\" does not exist (" + kClassOrderFile +
                  " gives the class order; remove it to take the folders in sorted order)");
    if (!folders.insert(folder).second) throw Error(where + "folder \"" + folder + "\" is listed twice");
    if (!names.insert(name).second) throw Error(where + "class name \"" + name + "\" is listed twice");
    classes.emplace_back(folder, name);
  }
  if (classes.empty()) throw Error(file.string() + ": lists no classes");
  return classes;
}

}  // namespace

bool is_image_file(const std::string& name) {
  auto dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == "png" || ext == "jpg" || ext == "jpeg" || ext == "bmp";
}

torch::Tensor resize_image(const torch::Tensor& image, int64_t height, int64_t width) {
  if (image.size(1) == height && image.size(2) == width) return image;
  namespace F = torch::nn::functional;
  const bool shrinking = height < image.size(1) || width < image.size(2);
  torch::Tensor x = image.unsqueeze(0).to(torch::kFloat);
  x = F::interpolate(x, F::InterpolateFuncOptions()
                            .size(std::vector<int64_t>{height, width})
                            .mode(torch::kBilinear)
                            .align_corners(false)
                            .antialias(shrinking));
  return x.squeeze(0).round().clamp(0, 255).to(torch::kByte);
}

ImageFolderIndex index_image_folder(const std::string& root, const ImageFolderOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw Error(root + ": not a folder (expected ROOT/<class>/<images>)");
  if (options.channels != 0 && options.channels != 1 && options.channels != 3)
    throw UsageError(param("channels") + " " + std::to_string(options.channels) + ": expected 1 or 3");
  const bool resize = options.height > 0 && options.width > 0;

  ImageFolderIndex out;
  std::vector<std::string> folders = sorted_entries(root, true);
  const fs::path order_file = fs::path(root) / kClassOrderFile;
  const bool ordered = fs::is_regular_file(order_file, ec);
  if (ordered) {
    auto order = read_class_order(order_file);
    std::set<std::string> listed;
    for (const auto& [folder, name] : order) listed.insert(folder);
    for (const auto& f : folders)
      if (!listed.count(f))
        throw Error(escape_text((fs::path(root) / f).string()) + ": class folder not listed in " +
                    escape_text(order_file.string()));
    folders.clear();
    for (const auto& [folder, name] : order) {
      folders.push_back(folder);
      out.class_names.push_back(decode_name(name, options.names_encoding, escape_text(order_file.string()), "class name"));
    }
  } else {
    for (const auto& f : folders)
      out.class_names.push_back(decode_name(f, options.names_encoding, escape_text((fs::path(root) / f).string()),
                                            "class folder name"));
  }
  if (folders.empty()) throw Error(root + ": no class subfolders (expected ROOT/<class>/<images>)");

  // Headers only, where the shape is not given: the size every image must
  // have (the first image's, which is decoded to be sure of it: a header's
  // size alone would size the output), and the channels.
  const bool need_info = !resize || options.channels == 0;
  int channels = options.channels;
  ImageInfo first;
  for (size_t c = 0; c < out.class_names.size(); ++c) {
    const fs::path dir = fs::path(root) / folders[c];
    std::vector<std::string> files = sorted_entries(dir, false);
    if (files.empty() && !ordered)
      throw Error(dir.string() + ": no images (.png, .jpg, .jpeg, .bmp) in class folder");
    for (const auto& name : files) {
      const std::string path = (dir / name).string();
      ImageInfo info;
      if (need_info && out.entries.empty() && !resize) {
        const torch::Tensor image = read_image(path);
        info = {image.size(1), image.size(2), static_cast<int>(image.size(0))};
      } else if (need_info) {
        info = read_image_info(path);
      }
      if (out.entries.empty()) {
        first = info;
      } else if (!resize && (info.height != first.height || info.width != first.width)) {
        auto size = [](const ImageInfo& i) { return std::to_string(i.height) + "x" + std::to_string(i.width); };
        throw Error(path + ": image is " + size(info) + " (HxW) but " + out.entries[0].path + " is " + size(first) +
                    "; use " + param("resize") + " HxW");
      }
      // As stored, a folder mixing gray and colour images becomes colour.
      if (options.channels == 0) channels = std::max(channels, info.channels);
      out.entries.push_back({path, static_cast<int64_t>(c)});
    }
  }
  if (out.entries.empty()) throw Error(root + ": no images (.png, .jpg, .jpeg, .bmp) in any class folder");
  out.channels = channels;
  out.height = resize ? options.height : first.height;
  out.width = resize ? options.width : first.width;
  return out;
}

ImageFolder read_image_folder(const std::string& root, const ImageFolderOptions& options) {
  ImageFolderIndex index = index_image_folder(root, options);
  ImageFolder out;
  const auto n = static_cast<int64_t>(index.entries.size());
  out.images = read_list_images(index.entries, 0, n, "", index.channels, index.height, index.width);
  std::vector<int64_t> labels;
  for (const auto& e : index.entries) {
    labels.push_back(e.label);
    out.files.push_back(e.path);
  }
  out.labels = torch::tensor(labels, torch::kLong);
  out.class_names = std::move(index.class_names);
  return out;
}

}  // namespace invkit::io
