#include "invkit/io/cifar.h"

#include <cstring>

#include "invkit/error.h"
#include "invkit/io/file.h"

namespace invkit::io {

int64_t cifar_record_size(CifarKind kind) { return kCifarPixels + (kind == CifarKind::cifar10 ? 1 : 2); }

CifarSet read_cifar(const std::vector<std::string>& paths, CifarKind kind, bool coarse) {
  if (paths.empty()) throw UsageError("no CIFAR batch files given");
  const int64_t record = cifar_record_size(kind);
  // Which byte of a record is the label, and how many classes it has.
  const int64_t label_byte = kind == CifarKind::cifar100 && !coarse ? 1 : 0;
  const int64_t num_classes = kind == CifarKind::cifar10 ? 10 : (coarse ? 20 : 100);
  const char* what = kind == CifarKind::cifar10 ? "CIFAR-10" : "CIFAR-100";

  std::vector<std::vector<uint8_t>> files;
  int64_t total = 0;
  for (const auto& path : paths) {
    std::vector<uint8_t> bytes = read_maybe_gzip(path);
    const std::string source = input_name(path);
    if (bytes.empty()) throw Error(source + ": empty file, expected " + what + " records");
    if (bytes.size() % record != 0)
      throw Error(source + ": " + std::to_string(bytes.size()) + " bytes is not a whole number of " + what +
                  " records of " + std::to_string(record) + " bytes");
    total += static_cast<int64_t>(bytes.size()) / record;
    files.push_back(std::move(bytes));
  }

  CifarSet set{torch::empty({total, 3, kCifarSide, kCifarSide}, torch::kByte), torch::empty({total}, torch::kLong)};
  uint8_t* pixels = set.images.data_ptr<uint8_t>();
  int64_t* labels = set.labels.data_ptr<int64_t>();
  int64_t row = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    const auto& bytes = files[f];
    const int64_t n = static_cast<int64_t>(bytes.size()) / record;
    for (int64_t i = 0; i < n; ++i, ++row) {
      const uint8_t* r = bytes.data() + i * record;
      const int64_t label = r[label_byte];
      if (label >= num_classes)
        throw Error(input_name(paths[f]) + ": record " + std::to_string(i) + " has " +
                    (kind == CifarKind::cifar100 ? (coarse ? "coarse " : "fine ") : "") + "label " +
                    std::to_string(label) + ", expected 0.." + std::to_string(num_classes - 1));
      labels[row] = label;
      // The record's pixel layout (R, G, B planes) is already C×H×W.
      std::memcpy(pixels + row * kCifarPixels, r + record - kCifarPixels, kCifarPixels);
    }
  }
  return set;
}

}  // namespace invkit::io
