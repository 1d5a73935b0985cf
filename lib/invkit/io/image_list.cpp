#include "invkit/io/image_list.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <filesystem>

#include "invkit/error.h"
#include "invkit/io/file.h"
#include "invkit/io/image.h"
#include "invkit/io/image_folder.h"
#include "invkit/io/text.h"

namespace invkit::io {

std::vector<ImageListEntry> read_image_list(const std::string& path) {
  const auto bytes = read_all(path);
  const auto lines = read_text_lines(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                                     NameEncoding::utf8, path);
  std::vector<ImageListEntry> entries;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const auto end = line.find_last_not_of(" \t");
    if (end == std::string::npos) continue;
    const std::string where = path + " line " + std::to_string(i + 1) + ": ";
    const auto space = line.find_last_of(" \t", end);
    const auto path_end = space == std::string::npos ? std::string::npos : line.find_last_not_of(" \t", space);
    if (space == std::string::npos || path_end == std::string::npos)
      throw Error(where + "expected `PATH LABEL`, got \"" + escape_text(line) + "\"");
    const std::string label = line.substr(space + 1, end - space);
    const bool digits = label.size() <= 18 && std::all_of(label.begin(), label.end(), [](unsigned char c) {
      return std::isdigit(c);
    });
    if (!digits) throw Error(where + "the label \"" + escape_text(label) + "\" is not a non-negative integer");
    const auto start = line.find_first_not_of(" \t");
    entries.push_back({line.substr(start, path_end + 1 - start), std::stoll(label)});
  }
  if (entries.empty()) throw Error(path + ": lists no images (expected lines `PATH LABEL`)");
  return entries;
}

torch::Tensor read_list_images(const std::vector<ImageListEntry>& entries, int64_t begin, int64_t end,
                               const std::string& root, int channels, int64_t height, int64_t width) {
  auto out = torch::empty({end - begin, channels, height, width}, torch::kByte);
  // Each row keeps its own failure, so the error reported is the first in
  // list order whatever the threads did.
  std::vector<std::exception_ptr> failed(static_cast<size_t>(end - begin));
  at::parallel_for(begin, end, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      try {
        const std::string file = (std::filesystem::path(root) / entries[static_cast<size_t>(i)].path).string();
        out[i - begin].copy_(resize_image(read_image(file, channels), height, width));
      } catch (...) {
        failed[static_cast<size_t>(i - begin)] = std::current_exception();
      }
    }
  });
  for (const auto& f : failed)
    if (f) std::rethrow_exception(f);
  return out;
}

}  // namespace invkit::io
