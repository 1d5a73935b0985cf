#include "invkit/data/dataset_writer.h"

#include <algorithm>

#include "invkit/error.h"
#include "invkit/io/manifest.h"

namespace invkit {

namespace {

void write_tensor(io::AtomicWriter& out, const torch::Tensor& t) {
  auto c = t.to(torch::kCPU).contiguous();
  out.write(c.data_ptr(), static_cast<size_t>(c.numel()) * c.element_size());
}

}  // namespace

DatasetWriter::DatasetWriter(const std::string& path, const Dataset& head, std::array<int64_t, 3> chw,
                             int64_t param_columns)
    : name_(io::output_name(path)), out_(path), param_columns_(param_columns), chw_(chw) {
  // The set as Dataset::save would see it, its images and params standing in
  // as zero-stride views: validated, and its manifest made, the same way.
  Dataset d = head;
  rows_ = d.size();
  d.images = torch::zeros({1, chw[0], chw[1], chw[2]}, torch::kUInt8).expand({rows_, chw[0], chw[1], chw[2]});
  d.params = param_columns >= 0 ? torch::zeros({1, param_columns}, torch::kFloat).expand({rows_, param_columns})
                               : torch::Tensor();
  d.validate(name_);

  std::vector<io::TensorInfo> infos{{"images", io::DType::U8, d.images.sizes().vec()},
                                    {"labels", io::DType::I64, {rows_}}};
  if (d.index.defined()) infos.push_back({"index", io::DType::I64, {rows_}});
  if (param_columns >= 0) infos.push_back({"params", io::DType::F32, {rows_, param_columns}});
  const auto layout = io::layout_safetensors(std::move(infos), io::metadata_with_manifest(d.manifest()));
  if (layout.tensors.back().name != "images")
    throw Error(name_ + ": internal: the images are not last in the data section");

  out_.write(layout.header.data(), layout.header.size());
  for (const auto& t : layout.tensors) {
    if (t.name == "labels") write_tensor(out_, d.labels);
    if (t.name == "index") write_tensor(out_, d.index);
    if (t.name == "params") {
      if (out_.seekable()) {
        params_at_ = layout.header.size() + t.begin;
        out_.skip(t.end - t.begin);
      } else {
        hold_images_ = true;
      }
    }
  }
}

DatasetWriter::~DatasetWriter() = default;

void DatasetWriter::append(const torch::Tensor& images, const torch::Tensor& params) {
  const int64_t m = images.size(0);
  if (images.dim() != 4 || images.scalar_type() != torch::kUInt8 || images.size(1) != chw_[0] ||
      images.size(2) != chw_[1] || images.size(3) != chw_[2])
    throw Error(name_ + ": internal: appended images are not uint8 [M, " + std::to_string(chw_[0]) + ", " +
                std::to_string(chw_[1]) + ", " + std::to_string(chw_[2]) + "]");
  if (written_ + m > rows_)
    throw Error(name_ + ": internal: " + std::to_string(written_ + m) + " rows written to a set of " +
                std::to_string(rows_));
  if (param_columns_ >= 0) {
    if (!params.defined() || params.dim() != 2 || params.size(0) != m || params.size(1) != param_columns_)
      throw Error(name_ + ": internal: appended params are not float32 [M, " + std::to_string(param_columns_) + "]");
    params_.push_back(params.to(torch::kCPU, torch::kFloat).contiguous());
  }
  written_ += m;
  if (hold_images_)
    held_.push_back(images.to(torch::kCPU).contiguous());
  else
    write_tensor(out_, images);
}

void DatasetWriter::commit() {
  if (written_ != rows_)
    throw Error(name_ + ": internal: " + std::to_string(written_) + " of " + std::to_string(rows_) + " rows written");
  if (param_columns_ >= 0) {
    auto params = params_.empty() ? torch::empty({0, param_columns_}, torch::kFloat) : torch::cat(params_);
    if (hold_images_) {
      write_tensor(out_, params);
    } else {
      out_.write_at(params_at_, params.data_ptr(), static_cast<size_t>(params.numel()) * sizeof(float));
    }
  }
  for (const auto& images : held_) write_tensor(out_, images);
  held_.clear();
  out_.commit();
}

int64_t rows_per_chunk(int64_t row_bytes) {
  return std::clamp<int64_t>((int64_t(32) << 20) / std::max<int64_t>(row_bytes, 1), 1, 8192);
}

}  // namespace invkit
