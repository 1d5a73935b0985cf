// A data set read once, front to back, by the row-wise tools: everything but
// the pixels at open (labels, index, params, class names, manifest: 8 to
// 8+4P bytes a row), then the images of the rows asked for, batch by batch.
// Memory holds one batch of pixels whatever the size of the set, from a file
// (read with pread, not mapped) and from a pipe. A pipe is read in order:
// rows must be asked for in increasing order (skipped rows are read past).
// A set whose images are not the last tensor of its data section (invkit and
// Python's safetensors put them last) cannot stream from a pipe: its pixels
// are then read whole at open, as Dataset::load reads them.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "invkit/data/dataset.h"
#include "invkit/io/safetensors_stream.h"

namespace invkit {

class DatasetReader {
 public:
  // Opens a file, or stdin for "-", and checks it as Dataset::load does.
  explicit DatasetReader(const std::string& path);

  // The set without its pixels: head().images is undefined; the shape is
  // channels(), height(), width().
  const Dataset& head() const { return head_; }
  int64_t size() const { return head_.size(); }
  int64_t channels() const { return chw_[0]; }
  int64_t height() const { return chw_[1]; }
  int64_t width() const { return chw_[2]; }
  ImageShape image_shape() const { return {chw_[0], chw_[1], chw_[2]}; }
  const std::string& source() const { return stream_->source(); }

  // uint8 [end - begin, C, H, W]: the pixels of rows [begin, end), a fresh
  // CPU tensor. From a pipe, begin must not precede the end of the last call.
  torch::Tensor images(int64_t begin, int64_t end);
  // uint8 [M, C, H, W]: the pixels of rows `rows` (int64 [M], any order,
  // repeats allowed), a fresh CPU tensor. From a file, read row by row (runs
  // of consecutive rows at once); from a pipe, the pixels not yet read are
  // read whole at the first call and kept.
  torch::Tensor gather(const torch::Tensor& rows);
  // Reads a pipe to its end and checks that nothing follows the data.
  void finish();

 private:
  std::unique_ptr<io::SafetensorsStream> stream_;
  Dataset head_;
  std::array<int64_t, 3> chw_{};
  uint64_t images_at_ = 0;  // data offset of the pixels
  torch::Tensor whole_;      // the pixels, when they had to be read at open
};

// Writes `head`, a set of rows of `in` (head.index: each row's row in `in`,
// as Dataset::select makes it; head.images undefined), to `path` with the
// pixels from `in`, read and written a batch at a time (DatasetWriter).
void write_rows(DatasetReader& in, const Dataset& head, const std::string& path);

// Writes `head`, the rows of `parts` one after another (data/sampling.h's
// concat of their heads; head.images undefined, head.params, if any, the
// parts' params in order), to `path` with the pixels of each part in turn,
// a chunk at a time. Each part is read to its end (DatasetReader::finish).
void write_concatenated(const std::vector<std::unique_ptr<DatasetReader>>& parts, const Dataset& head,
                        const std::string& path);

}  // namespace invkit
