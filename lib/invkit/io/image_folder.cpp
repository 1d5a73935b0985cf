#include "invkit/io/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "invkit/error.h"
#include "invkit/io/image.h"

namespace fs = std::filesystem;

namespace invkit::io {

namespace {

std::string size_text(const torch::Tensor& image) {
  return std::to_string(image.size(1)) + "x" + std::to_string(image.size(2));
}

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

ImageFolder read_image_folder(const std::string& root, const ImageFolderOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw Error(root + ": not a folder (expected ROOT/<class>/<images>)");
  if (options.channels != 0 && options.channels != 1 && options.channels != 3)
    throw UsageError("--channels " + std::to_string(options.channels) + ": expected 1 or 3");
  const bool resize = options.height > 0 && options.width > 0;

  ImageFolder out;
  const std::vector<std::string> folders = sorted_entries(root, true);
  if (folders.empty()) throw Error(root + ": no class subfolders (expected ROOT/<class>/<images>)");
  for (const auto& f : folders)
    out.class_names.push_back(decode_name(f, options.names_encoding, escape_text((fs::path(root) / f).string()),
                                          "class folder name"));

  std::vector<torch::Tensor> images;
  std::vector<int64_t> labels;
  int channels = options.channels;
  for (size_t c = 0; c < out.class_names.size(); ++c) {
    const fs::path dir = fs::path(root) / folders[c];
    std::vector<std::string> files = sorted_entries(dir, false);
    if (files.empty()) throw Error(dir.string() + ": no images (.png, .jpg, .jpeg, .bmp) in class folder");
    for (const auto& name : files) {
      const std::string path = (dir / name).string();
      torch::Tensor image = read_image(path, options.channels);
      if (resize) {
        image = resize_image(image, options.height, options.width);
      } else if (!images.empty() && (image.size(1) != images[0].size(1) || image.size(2) != images[0].size(2))) {
        throw Error(path + ": image is " + size_text(image) + " (HxW) but " + out.files[0] + " is " +
                    size_text(images[0]) + "; use --resize HxW");
      }
      if (options.channels == 0) channels = std::max<int>(channels, static_cast<int>(image.size(0)));
      images.push_back(image);
      labels.push_back(static_cast<int64_t>(c));
      out.files.push_back(path);
    }
  }
  // As stored, a folder mixing gray and colour images becomes colour.
  for (auto& image : images)
    if (image.size(0) != channels) image = image.expand({channels, image.size(1), image.size(2)});
  out.images = torch::stack(images);
  out.labels = torch::tensor(labels, torch::kLong);
  return out;
}

}  // namespace invkit::io
