// A data set written while its images are made, chunk by chunk, with the
// bytes Dataset::save writes for the same set, so that a row-wise tool holds
// one chunk of images instead of its whole output.
//
// Everything but the images (and the params, which a transform draws with
// them) is fixed when the writer opens: the rows' labels and index, the class
// names and the manifest, and the image shape. The file's header and those
// tensors go out first; the images come last in a safetensors data section
// (uint8 sorts after int64 and float32, docs/formats.md), so they stream.
// The params lie before the images: to a regular file they are written into
// their place at commit(); to stdout or a FIFO, which cannot seek, a set with
// params holds its images until commit() (the memory of Dataset::save).
#pragma once
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "invkit/data/dataset.h"
#include "invkit/io/file.h"
#include "invkit/io/safetensors.h"

namespace invkit {

class DatasetWriter {
 public:
  // `head`: labels int64 [N], index int64 [N] or undefined, class names and
  // extra of the set to write (its images and params are not read). `chw`:
  // the images' channels, height, width. `param_columns`: P >= 0 when
  // append() brings params float32 [rows, P], -1 for a set without params. Validates the set
  // as Dataset::save does (Error naming the output) and writes the header to
  // PATH.tmp (or stdout for "-").
  DatasetWriter(const std::string& path, const Dataset& head, std::array<int64_t, 3> chw, int64_t param_columns = -1);
  ~DatasetWriter();
  DatasetWriter(const DatasetWriter&) = delete;
  DatasetWriter& operator=(const DatasetWriter&) = delete;

  // The next rows' images, uint8 [M, C, H, W] on any device, and their
  // params float32 [M, P] when the set has params. Throws Error past N rows.
  void append(const torch::Tensor& images, const torch::Tensor& params = {});
  int64_t rows_written() const { return written_; }
  // Throws Error unless all N rows came; writes what was held back and puts
  // the file in place. A writer destroyed before commit() leaves nothing.
  void commit();

 private:
  std::string name_;  // the output in messages
  io::AtomicWriter out_;
  int64_t rows_ = 0, written_ = 0, param_columns_ = -1;
  std::array<int64_t, 3> chw_{};
  uint64_t params_at_ = 0;             // file offset of the params, when they are filled in at commit()
  bool hold_images_ = false;           // not seekable: images wait for the params
  std::vector<torch::Tensor> held_;    // images held back, in order
  std::vector<torch::Tensor> params_;  // params so far, in order
};

// How many rows a streaming tool makes at a time: about 32 MB of output
// (row_bytes each), at least 1 and at most 8192.
int64_t rows_per_chunk(int64_t row_bytes);

}  // namespace invkit
