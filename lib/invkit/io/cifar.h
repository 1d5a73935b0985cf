// CIFAR-10 and CIFAR-100 binary batches ("binary version" of the data sets):
// fixed-size records of label byte(s) then 3072 pixel bytes, 32×32, the red
// plane, then green, then blue, each row-major.
//   CIFAR-10:  <label 0..9> <3072 pixels>                    (3073 bytes)
//   CIFAR-100: <coarse 0..19> <fine 0..99> <3072 pixels>     (3074 bytes)
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace invkit::io {

enum class CifarKind { cifar10, cifar100 };

constexpr int64_t kCifarSide = 32;
constexpr int64_t kCifarPixels = 3 * kCifarSide * kCifarSide;

// Bytes per record of a kind: 3073 or 3074.
int64_t cifar_record_size(CifarKind kind);

struct CifarSet {
  torch::Tensor images;  // uint8 [N, 3, 32, 32]
  torch::Tensor labels;  // int64 [N]
};

// Reads the records of every file, in order (files may be gzipped). For
// CIFAR-100, `coarse` takes the 20 superclass labels instead of the 100 fine
// ones. A file whose length is not a multiple of the record size, an empty
// file, or a label out of range is an Error naming the file (and record).
CifarSet read_cifar(const std::vector<std::string>& paths, CifarKind kind, bool coarse = false);

}  // namespace invkit::io
