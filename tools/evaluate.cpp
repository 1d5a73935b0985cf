// evaluate: accuracy, balanced accuracy, per-class and many/medium/few-shot
// accuracy and the confusion matrix of a classifier checkpoint on a data set.
#include <algorithm>
#include <fstream>
#include <iostream>

#include "invkit/checkpoint/classifier.h"
#include "invkit/checkpoint/external_model.h"
#include "invkit/cli/model_options.h"
#include "invkit/cli/tool.h"
#include "invkit/data/dataset.h"
#include "invkit/data/dataset_reader.h"
#include "invkit/data/dataset_writer.h"
#include "invkit/error.h"
#include "invkit/io/csv.h"
#include "invkit/io/file.h"
#include "invkit/io/text.h"
#include "invkit/metrics/accuracy.h"
#include "invkit/models/classifier.h"
#include "invkit/transforms/transform.h"

namespace {

struct Options {
  std::string checkpoint, data, transform, csv;
  int64_t batch = 256;
  invkit::metrics::ShotThresholds shots;
  invkit::checkpoint::ExternalOptions external;
};

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  invkit::cli::Tool tool("evaluate",
                         "Evaluate a classifier checkpoint on a data set: accuracy, balanced accuracy, per-class and "
                         "many/medium/few-shot accuracy, confusion matrix (JSON on stdout).",
                         "  evaluate erm.st test.st\n  evaluate erm.st test.st --csv per-class.csv --many 100 --few 20\n"
                         "  evaluate erm.st test.st | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"accuracy\"])'");
  auto& app = tool.app();
  app.add_option("checkpoint", opt.checkpoint,
                 "classifier: an invkit checkpoint (train-classifier -o), a TorchScript file or a state dict")
      ->required();
  app.add_option("data", opt.data, "data set to evaluate on, or - for stdin")->required();
  app.add_option("--transform", opt.transform, "transform SPEC applied to the images first");
  app.add_option("--csv", opt.csv, "also write per-class rows (class, name, train_count, support, accuracy) to FILE");
  app.add_option("--batch", opt.batch, "images per forward pass")->check(invkit::cli::kPositive);
  invkit::cli::add_external_model_options(app, opt.external, false);
  tool.add_device().add_threads().add_seed().add_shot_groups(opt.shots.many, opt.shots.few);
  return tool.run(argc, argv, [&] {
    std::unique_ptr<invkit::transforms::Transform> transform;
    if (!opt.transform.empty()) transform = invkit::transforms::parse_transform(opt.transform);
    const auto device = tool.device();
    // The pixels stream through a chunk at a time; labels and names are read at open.
    invkit::DatasetReader in(opt.data);
    invkit::Dataset data = in.head();
    const std::string name = invkit::io::input_name(opt.data);
    data.require_rows(name, "there is nothing to evaluate (an accuracy of 0 rows is not a number)");
    const invkit::ImageShape shape = in.image_shape();
    auto clf = invkit::checkpoint::load_any_classifier(opt.checkpoint, device, opt.external, data, shape, name);
    // The labels now in the checkpoint's classes.
    invkit::checkpoint::check_data_matches(clf, shape, data, opt.checkpoint, name);
    // Whole forward batches per chunk, so that the batches are those of one pass over the set.
    const int64_t row_bytes = shape.channels * shape.height * shape.width;
    const int64_t chunk = std::max<int64_t>(1, invkit::rows_per_chunk(row_bytes) / opt.batch) * opt.batch;
    std::vector<torch::Tensor> predicted;
    for (int64_t begin = 0; begin < data.size(); begin += chunk) {
      const int64_t end = std::min(data.size(), begin + chunk);
      auto images = in.images(begin, end);
      // Row i draws from (seed, i): the same bytes for any --batch, chunk or device count.
      if (transform)
        images = transform->apply(images.to(device), tool.common().seed, torch::arange(begin, end, torch::kLong))
                     .to(torch::kCPU);
      predicted.push_back(
          invkit::models::predict_logits(*clf.model, clf.normalization, images, opt.batch, device).argmax(1));
    }
    in.finish();
    auto m = invkit::metrics::classification_metrics(torch::cat(predicted), data.labels, clf.spec.num_classes,
                                                     clf.class_counts, opt.shots);
    auto j = invkit::metrics::to_json(m, clf.class_names, clf.class_counts, opt.shots, true);
    j["checkpoint"] = opt.checkpoint;
    j["data"] = name;
    if (transform) j["transform"] = transform->spec();
    if (!opt.csv.empty()) {
      std::string text = "class,name,train_count,support,accuracy\n";
      for (const auto& c : j["per_class"])
        text += invkit::io::csv_line({c["class"], c["name"], c["train_count"], c["support"], c["accuracy"]});
      invkit::io::write_all(opt.csv, text.data(), text.size());
    }
    std::cout << invkit::io::dump_json(j) << std::endl;
  });
}
