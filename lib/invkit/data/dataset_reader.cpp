#include "invkit/data/dataset_reader.h"

#include <algorithm>

#include "invkit/data/dataset_writer.h"
#include "invkit/error.h"
#include "invkit/io/manifest.h"

namespace invkit {

DatasetReader::DatasetReader(const std::string& path) : stream_(std::make_unique<io::SafetensorsStream>(path)) {
  auto& st = *stream_;
  const io::TensorInfo* images = st.find("images");
  if (!images || !st.find("labels"))
    throw Error(st.source() + ": not a data set: needs tensors \"images\" and \"labels\"");
  images_at_ = images->begin;
  // In data order: the small tensors, and the pixels only when a small one
  // lies after them on a pipe.
  bool after_images = false;
  for (const auto& t : st.header().tensors)
    if (t.begin >= images->end && (t.name == "labels" || t.name == "index" || t.name == "params")) after_images = true;
  torch::Tensor labels, index, params;
  for (const auto& t : st.header().tensors) {
    if (t.name == "images" && after_images && !st.seekable()) whole_ = st.tensor("images");
    if (t.name == "labels") labels = st.tensor("labels");
    if (t.name == "index") index = st.tensor("index");
    if (t.name == "params") params = st.tensor("params");
  }
  // Checked as Dataset::load checks a set, the pixels standing in as a
  // zero-stride view of the right shape.
  const auto& shape = images->shape;
  io::TensorInfo none = *images;
  none.shape = {0};
  const auto dtype = io::empty_tensor(none).scalar_type();
  torch::Tensor stand_in = shape.size() == 4 ? torch::zeros({1, shape[1], shape[2], shape[3]}, dtype).expand(shape)
                                             : torch::empty({0}, dtype);
  head_ = Dataset::from_parts(io::manifest_from_metadata(st.header().metadata, st.source()), stand_in, labels, index,
                              params, st.source());
  chw_ = {head_.channels(), head_.height(), head_.width()};
  head_.images = torch::Tensor();
}

torch::Tensor DatasetReader::images(int64_t begin, int64_t end) {
  if (begin < 0 || end < begin || end > size())
    throw Error(source() + ": internal: rows [" + std::to_string(begin) + ", " + std::to_string(end) + ") of " +
                std::to_string(size()));
  if (whole_.defined()) return whole_.slice(0, begin, end).clone();
  auto out = torch::empty({end - begin, chw_[0], chw_[1], chw_[2]}, torch::kUInt8);
  const uint64_t row = static_cast<uint64_t>(chw_[0] * chw_[1] * chw_[2]);
  stream_->read(images_at_ + static_cast<uint64_t>(begin) * row, out.data_ptr(), static_cast<uint64_t>(end - begin) * row);
  return out;
}

torch::Tensor DatasetReader::gather(const torch::Tensor& rows) {
  auto r = rows.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t m = r.numel();
  const int64_t* p = r.data_ptr<int64_t>();
  for (int64_t i = 0; i < m; ++i)
    if (p[i] < 0 || p[i] >= size())
      throw Error(source() + ": internal: row " + std::to_string(p[i]) + " of " + std::to_string(size()));
  if (!whole_.defined() && !stream_->seekable()) whole_ = images(0, size());
  if (whole_.defined()) return whole_.index_select(0, r);
  auto out = torch::empty({m, chw_[0], chw_[1], chw_[2]}, torch::kUInt8);
  const uint64_t row = static_cast<uint64_t>(chw_[0] * chw_[1] * chw_[2]);
  auto* dst = static_cast<uint8_t*>(out.data_ptr());
  for (int64_t i = 0; i < m;) {
    int64_t j = i + 1;  // rows i..j-1 are consecutive in the file
    while (j < m && p[j] == p[j - 1] + 1) ++j;
    stream_->read(images_at_ + static_cast<uint64_t>(p[i]) * row, dst + static_cast<uint64_t>(i) * row,
                  static_cast<uint64_t>(j - i) * row);
    i = j;
  }
  return out;
}

void DatasetReader::finish() { stream_->finish(); }

void write_rows(DatasetReader& in, const Dataset& head, const std::string& path) {
  DatasetWriter out(path, head, {in.channels(), in.height(), in.width()},
                    head.params.defined() ? head.params.size(1) : -1);
  const int64_t row = in.channels() * in.height() * in.width();
  const int64_t batch = std::max<int64_t>(1, (int64_t(64) << 20) / std::max<int64_t>(row, 1));  // about 64 MB
  for (int64_t b = 0; b < head.size(); b += batch) {
    const int64_t e = std::min(head.size(), b + batch);
    out.append(in.gather(head.index.slice(0, b, e)),
               head.params.defined() ? head.params.slice(0, b, e) : torch::Tensor());
  }
  in.finish();
  out.commit();
}

void write_concatenated(const std::vector<std::unique_ptr<DatasetReader>>& parts, const Dataset& head,
                        const std::string& path) {
  if (parts.empty()) throw UsageError("nothing to concatenate");
  const ImageShape shape = parts[0]->image_shape();
  DatasetWriter out(path, head, {shape.channels, shape.height, shape.width},
                    head.params.defined() ? head.params.size(1) : -1);
  const int64_t chunk = rows_per_chunk(shape.channels * shape.height * shape.width);
  int64_t offset = 0;  // the part's first row in the output
  for (const auto& part : parts) {
    for (int64_t b = 0; b < part->size(); b += chunk) {
      const int64_t e = std::min(part->size(), b + chunk);
      out.append(part->images(b, e),
                 head.params.defined() ? head.params.slice(0, offset + b, offset + e) : torch::Tensor());
    }
    part->finish();
    offset += part->size();
  }
  out.commit();
}

}  // namespace invkit
