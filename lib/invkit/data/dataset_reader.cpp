#include "invkit/data/dataset_reader.h"

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

void DatasetReader::finish() { stream_->finish(); }

}  // namespace invkit
