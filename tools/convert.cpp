// convert: import IDX files, NumPy arrays, CIFAR binary batches, image
// folders and image lists into an invkit data set; export a data set as an
// image folder or a contact sheet.
#include <algorithm>
#include <iostream>
#include <optional>

#include "invkit/cli/tool.h"
#include "invkit/data/class_names.h"
#include "invkit/data/dataset.h"
#include "invkit/data/dataset_reader.h"
#include "invkit/data/dataset_writer.h"
#include "invkit/data/export.h"
#include "invkit/error.h"
#include "invkit/io/cifar.h"
#include "invkit/io/file.h"
#include "invkit/io/idx.h"
#include "invkit/io/image.h"
#include "invkit/io/image_folder.h"
#include "invkit/io/image_list.h"
#include "invkit/io/npy.h"
#include "invkit/io/text.h"

namespace {

struct Options {
  std::string output;                // -o: the data set to write; "-" = stdout
  std::string class_names;           // idx, cifar*: a built-in list name or a FILE, one name per line
  std::string images, labels;        // idx: the two IDX files (gzipped or raw); npz: .npz/.npy files
  std::string images_key, labels_key;  // npz: the arrays' names in a .npz archive ("" = its only array)
  std::string layout;                // npz: nhw|nhwc|nchw; "" = from the shape
  bool transpose = false;            // idx: swap height and width (EMNIST stores images transposed)
  std::vector<std::string> batches;  // cifar10, cifar100: binary batch files, concatenated in order
  bool coarse = false;               // cifar100: the 20 coarse labels instead of the 100 fine ones
  std::string root;                  // folder: ROOT/<class>/<images>; list: the folder the paths are under
  int channels = 0;                  // folder, list: 1 (gray) or 3 (RGB); 0 = folder: 3 when any image has colour; list: 3
  std::string resize;                // folder, list: HxW, resample every image to this size
  std::string list;                  // list: the file of `path label` lines (under root)
  int64_t batch = 0;                 // folder, list, npz: images read and written at a time; 0 = about 32 MB
  std::string input;                 // export: the data set to export ("-" = stdin)
  std::string to_dir;                // export: write DIR/<class>/<row>.png
  std::string sheet;                 // export: write a contact sheet PNG, one row per class
  int64_t per_class = 10;            // export: images per class on the contact sheet
  bool force = false;                // export: replace an existing non-empty --to-dir folder
  std::string names_encoding = "utf8";  // imports: how class names (folders, --class-names files) are read
};

const char* kNamesEncodingHelp =
    "utf8 | latin1: how class folder names and --class-names files are read; names that are not UTF-8 are an "
    "error unless latin1 (every byte one character) is given";

invkit::io::NameEncoding names_encoding(const Options& opt) {
  return invkit::io::parse_name_encoding(opt.names_encoding, "--names-encoding");
}

const char* kClassNamesHelp =
    "class names: a built-in list (fashion-mnist, mnist, cifar10, cifar100, cifar100-coarse) or a FILE with one "
    "name per line";

// "HxW" -> {H, W}.
std::pair<int64_t, int64_t> parse_size(const std::string& text) {
  auto bad = [&] { return invkit::UsageError("--resize " + text + ": expected HxW with positive numbers, e.g. 32x32"); };
  auto x = text.find('x');
  if (x == std::string::npos) throw bad();
  try {
    size_t used_h = 0, used_w = 0;
    long long h = std::stoll(text.substr(0, x), &used_h), w = std::stoll(text.substr(x + 1), &used_w);
    if (used_h != x || used_w != text.size() - x - 1 || h < 1 || w < 1) throw bad();
    return {h, w};
  } catch (const std::logic_error&) {
    throw bad();
  }
}

// Labels must index into `names`; `source` is the file the labels came from.
void check_labels_fit(const torch::Tensor& labels, const std::vector<std::string>& names, const std::string& source) {
  const int64_t max = labels.max().item<int64_t>();
  if (max < static_cast<int64_t>(names.size())) return;
  const int64_t row = (labels == max).nonzero()[0][0].item<int64_t>();
  throw invkit::Error(source + ": label " + std::to_string(max) + " at row " + std::to_string(row) +
                      " is out of range for the " + std::to_string(names.size()) +
                      " default class names (give --class-names)");
}

invkit::Dataset from_idx(const Options& opt) {
  auto set = invkit::io::read_idx(opt.images, opt.labels, opt.transpose);
  const int64_t max_label = set.labels.max().item<int64_t>();
  invkit::Dataset d;
  if (opt.class_names.empty()) {
    d.class_names = invkit::default_idx_class_names(opt.images, max_label);
    check_labels_fit(set.labels, d.class_names, invkit::io::input_name(opt.labels));
  } else {
    d.class_names = invkit::class_names_from_arg(opt.class_names, names_encoding(opt));
    invkit::check_class_count(d.class_names, max_label + 1, "--class-names " + opt.class_names);
  }
  d.images = set.images;
  d.labels = set.labels;
  return d;
}

// Labels that are plain integers (npz, list): --class-names, which must name
// every label, or "0".."max_label".
std::vector<std::string> names_for_labels(const Options& opt, int64_t max_label) {
  if (opt.class_names.empty()) return invkit::numbered_class_names(std::max<int64_t>(max_label + 1, 1));
  auto names = invkit::class_names_from_arg(opt.class_names, names_encoding(opt));
  if (static_cast<int64_t>(names.size()) <= max_label)
    invkit::check_class_count(names, max_label + 1, "--class-names " + opt.class_names);
  return names;
}

invkit::Dataset from_cifar(const Options& opt, invkit::io::CifarKind kind) {
  const bool coarse = kind == invkit::io::CifarKind::cifar100 && opt.coarse;
  const std::string builtin = kind == invkit::io::CifarKind::cifar10 ? "cifar10" : coarse ? "cifar100-coarse" : "cifar100";
  auto set = invkit::io::read_cifar(opt.batches, kind, coarse);
  invkit::Dataset d;
  d.class_names = *invkit::builtin_class_names(builtin);
  if (!opt.class_names.empty()) {
    // The format fixes the number of classes, whatever labels a batch holds.
    const int64_t num_classes = static_cast<int64_t>(d.class_names.size());
    d.class_names = invkit::class_names_from_arg(opt.class_names, names_encoding(opt));
    invkit::check_class_count(d.class_names, num_classes, "--class-names " + opt.class_names);
  }
  d.images = set.images;
  d.labels = set.labels;
  return d;
}

// Writes `d` a chunk of rows at a time: its images may be a view of a mapped
// file (a .npy) in another layout, made contiguous a chunk at a time.
void write_in_chunks(const Options& opt, const invkit::Dataset& d) {
  invkit::Dataset head = d;
  head.images = torch::Tensor();
  const int64_t n = d.size(), channels = d.channels(), height = d.height(), width = d.width();
  invkit::DatasetWriter writer(opt.output, head, {channels, height, width});
  const int64_t chunk = invkit::rows_per_chunk(channels * height * width);
  for (int64_t b = 0; b < n; b += chunk) writer.append(d.images.slice(0, b, std::min(n, b + chunk)));
  writer.commit();
}

// NumPy arrays. The images of a .npz archive are decompressed and written a
// chunk of rows at a time when they are uint8 in C order (np.savez of an
// image array); a .npy file is mapped; anything else is read whole.
void run_npz(const Options& opt, const nlohmann::json& history) {
  const std::string labels_path = opt.labels.empty() ? opt.images : opt.labels;
  std::optional<invkit::io::NpzRowReader> rows;
  if (!invkit::io::is_npy(opt.images)) {
    rows.emplace(opt.images, opt.images_key);
    if (!rows->streamable()) rows.reset();
  }
  // Streamed images are checked by their shape alone (a meta tensor).
  const torch::Tensor images =
      rows ? torch::empty(rows->shape(), torch::TensorOptions().dtype(torch::kByte).device(torch::kMeta))
           : invkit::io::read_numpy_array(opt.images, opt.images_key);
  const auto set = invkit::io::numpy_image_set(images, opt.images,
                                               invkit::io::read_numpy_array(labels_path, opt.labels_key),
                                               labels_path, opt.layout);
  invkit::Dataset head;
  head.class_names = names_for_labels(opt, set.labels.numel() ? set.labels.max().item<int64_t>() : -1);
  head.labels = set.labels;
  head.add_history(history);
  if (!rows) {
    head.images = set.images;
    return write_in_chunks(opt, head);
  }
  const int64_t n = set.images.size(0), c = set.images.size(1), h = set.images.size(2), w = set.images.size(3);
  invkit::DatasetWriter writer(opt.output, head, {c, h, w});
  const int64_t chunk = opt.batch > 0 ? opt.batch : invkit::rows_per_chunk(c * h * w);
  for (int64_t b = 0; b < n; b += chunk) writer.append(invkit::io::images_to_nchw(rows->read(chunk), set.layout));
  writer.commit();
}

// Writes `head` (labels, class names, history) with the images of `entries`
// under `root`, decoded in parallel and written chunk by chunk, so that the
// set never has to fit in memory.
void write_decoded(const Options& opt, const invkit::Dataset& head, const std::vector<invkit::io::ImageListEntry>& entries,
                   const std::string& root, int channels, int64_t height, int64_t width) {
  const auto n = static_cast<int64_t>(entries.size());
  invkit::DatasetWriter writer(opt.output, head, {channels, height, width});
  const int64_t chunk = opt.batch > 0 ? opt.batch : invkit::rows_per_chunk(channels * height * width);
  for (int64_t b = 0; b < n; b += chunk)
    writer.append(invkit::io::read_list_images(entries, b, std::min(n, b + chunk), root, channels, height, width));
  writer.commit();
}

// An image folder: the files' headers first (classes, shape), then the pixels.
void run_folder(const Options& opt, const nlohmann::json& history) {
  invkit::io::ImageFolderOptions fo;
  fo.channels = opt.channels;
  fo.names_encoding = names_encoding(opt);
  if (!opt.resize.empty()) std::tie(fo.height, fo.width) = parse_size(opt.resize);
  const auto index = invkit::io::index_image_folder(opt.root, fo);
  std::vector<int64_t> labels;
  for (const auto& e : index.entries) labels.push_back(e.label);
  invkit::Dataset head;
  head.labels = torch::tensor(labels, torch::kLong);
  head.class_names = index.class_names;
  head.add_history(history);
  write_decoded(opt, head, index.entries, "", index.channels, index.height, index.width);
}

// A list of `path label` lines.
void run_list(const Options& opt, const nlohmann::json& history) {
  if (opt.resize.empty()) throw invkit::UsageError("list needs --resize HxW: the images of a list differ in size");
  const auto [height, width] = parse_size(opt.resize);
  const int channels = opt.channels == 0 ? 3 : opt.channels;
  const auto entries = invkit::io::read_image_list(opt.list);
  std::vector<int64_t> labels;
  for (const auto& e : entries) labels.push_back(e.label);
  invkit::Dataset head;
  head.labels = torch::tensor(labels, torch::kLong);
  head.class_names = names_for_labels(opt, *std::max_element(labels.begin(), labels.end()));
  head.add_history(history);
  write_decoded(opt, head, entries, opt.root, channels, height, width);
}

void run_export(const Options& opt) {
  if (opt.to_dir.empty() && opt.sheet.empty()) throw invkit::UsageError("export needs --to-dir DIR and/or --sheet FILE.png");
  if (!opt.sheet.empty()) invkit::io::refuse_binary_to_terminal(opt.sheet);
  // The pixels stream: a chunk of rows for the folder, the sheet's rows for the sheet.
  invkit::DatasetReader in(opt.input);
  const invkit::Dataset& head = in.head();
  torch::Tensor sheet;
  if (!opt.sheet.empty()) {
    invkit::check_contact_sheet(head.num_classes(), in.image_shape(), opt.per_class);
    const torch::Tensor rows = invkit::contact_sheet_rows(head, opt.per_class);
    invkit::Dataset shown = head.select(rows);
    shown.images = in.gather(rows);
    sheet = invkit::contact_sheet(shown, opt.per_class);
  }
  if (!opt.to_dir.empty())
    invkit::export_image_folder(head, [&](int64_t b, int64_t e) { return in.images(b, e); }, opt.to_dir, opt.force);
  in.finish();
  if (!opt.sheet.empty()) invkit::io::write_png(opt.sheet, sheet);
}

CLI::App* add_import(CLI::App& app, const char* name, const char* description, const char* examples, Options& opt) {
  CLI::App* sub = app.add_subcommand(name, description);
  sub->add_option("-o,--output", opt.output, "data set to write (- for stdout)")->required();
  sub->add_option("--names-encoding", opt.names_encoding, kNamesEncodingHelp);
  sub->footer(std::string("Examples:\n") + examples);
  return sub;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  invkit::cli::Tool tool(
      "convert", "Import IDX files, NumPy arrays, CIFAR batches, image folders and image lists into an invkit data set; export one as PNGs.",
      "  convert idx train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz -o fmnist.st\n"
      "  convert cifar10 data_batch_{1,2,3,4,5}.bin -o cifar10.st\n"
      "  convert folder photos/ --resize 32x32 --channels 3 -o photos.st\n"
      "  convert list ImageNet_LT_train.txt --root imagenet/ --resize 64x64 -o imagenet-lt.st\n"
      "  convert export fmnist.st --sheet sheet.png --per-class 10");
  CLI::App& app = tool.app();
  app.require_subcommand(1);

  CLI::App* idx = add_import(app, "idx", "IDX image and label files (MNIST, Fashion-MNIST, EMNIST, KMNIST), gzipped or raw",
                             "  convert idx train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz -o fmnist.st\n"
                             "  convert idx emnist-letters-train-images-idx3-ubyte.gz "
                             "emnist-letters-train-labels-idx1-ubyte.gz --transpose -o letters.st",
                             opt);
  idx->add_option("images", opt.images, "IDX images (magic 0x00000803, uint8 N×H×W)")->required();
  idx->add_option("labels", opt.labels, "IDX labels (magic 0x00000801, uint8 N)")->required();
  idx->add_option("--class-names", opt.class_names, kClassNamesHelp);
  idx->add_flag("--transpose", opt.transpose, "swap height and width (EMNIST stores its images transposed)");

  CLI::App* npz = add_import(
      app, "npz", "NumPy arrays: .npz archives (np.savez, np.savez_compressed) or .npy files; uint8 images, integer labels",
      "  convert npz k49-train-imgs.npz k49-train-labels.npz -o k49.st\n"
      "  convert npz data.npz --images-key x_train --labels-key y_train --layout nhwc -o train.st",
      opt);
  npz->add_option("images", opt.images, "images: uint8 [N,H,W], [N,H,W,C] or [N,C,H,W] (.npz or .npy)")->required();
  npz->add_option("labels", opt.labels, "labels: integers [N] (.npz or .npy); default: the IMAGES file");
  npz->add_option("--images-key", opt.images_key, "the images' array in a .npz archive (default: its only array)");
  npz->add_option("--labels-key", opt.labels_key, "the labels' array in a .npz archive (default: its only array)");
  npz->add_option("--layout", opt.layout, "nhw, nhwc or nchw (default: from the shape; needed when it is ambiguous)")
      ->check(CLI::IsMember({"nhw", "nhwc", "nchw"}));
  npz->add_option("--class-names", opt.class_names, kClassNamesHelp + std::string(" (default: 0..max label)"));
  npz->add_option("--batch", opt.batch, "rows of a .npz archive's images decompressed and written at a time "
                                        "(default: about 32 MB of them)")
      ->check(invkit::cli::kPositive);

  CLI::App* c10 = add_import(app, "cifar10", "CIFAR-10 binary batches (1 label byte + 3072 pixel bytes per record)",
                             "  convert cifar10 data_batch_1.bin data_batch_2.bin -o part.st", opt);
  c10->add_option("files", opt.batches, "batch files, concatenated in order")->required();
  c10->add_option("--class-names", opt.class_names, kClassNamesHelp);

  CLI::App* c100 = add_import(app, "cifar100",
                              "CIFAR-100 binary batches (coarse byte, fine byte, 3072 pixel bytes per record)",
                              "  convert cifar100 train.bin -o cifar100.st\n  convert cifar100 train.bin --coarse -o coarse.st", opt);
  c100->add_option("files", opt.batches, "batch files, concatenated in order")->required();
  c100->add_flag("--coarse", opt.coarse, "use the 20 coarse (superclass) labels instead of the 100 fine ones");
  c100->add_option("--class-names", opt.class_names, kClassNamesHelp);

  CLI::App* folder = add_import(app, "folder", "an image folder ROOT/<class>/*.{png,jpg,jpeg,bmp}; classes = sorted subfolders",
                                "  convert folder photos/ -o photos.st\n  convert folder photos/ --resize 32x32 --channels 1 -o gray.st",
                                opt);
  folder->add_option("root", opt.root, "folder with one subfolder per class")->required();
  folder->add_option("--channels", opt.channels, "1 (gray) or 3 (RGB); default: 3 when any image has colour, else 1")
      ->check(CLI::IsMember({1, 3}));
  folder->add_option("--resize", opt.resize, "HxW: resample every image (bilinear) to this size");
  folder->add_option("--batch", opt.batch, "images decoded and written at a time (default: about 32 MB of them)")
      ->check(invkit::cli::kPositive);

  CLI::App* list = add_import(
      app, "list", "an image list: lines `relative/path label` under a root folder (ImageNet-LT's, iNaturalist's lists)",
      "  convert list ImageNet_LT_train.txt --root imagenet/ --resize 64x64 -o imagenet-lt.st\n"
      "  convert list train.txt --root data/ --resize 32x32 --class-names names.txt -o train.st",
      opt);
  list->add_option("file", opt.list, "the list: one image a line, PATH LABEL (LABEL an integer from 0)")->required();
  list->add_option("--root", opt.root, "the folder the paths are under")->required();
  list->add_option("--resize", opt.resize, "HxW: resample every image (bilinear) to this size (required)");
  list->add_option("--channels", opt.channels, "1 (gray) or 3 (RGB, the default)")->check(CLI::IsMember({1, 3}));
  list->add_option("--class-names", opt.class_names,
                   kClassNamesHelp + std::string(" (default: 0..max label)"));
  list->add_option("--batch", opt.batch, "images decoded and written at a time (default: about 32 MB of them)")
      ->check(invkit::cli::kPositive);

  CLI::App* exp = app.add_subcommand("export", "write a data set as an image folder and/or a contact sheet PNG");
  exp->add_option("input", opt.input, "data set (- for stdin)")->required();
  exp->add_option("--to-dir", opt.to_dir, "write DIR/<class>/<row>.png (DIR must not exist or be empty)");
  exp->add_option("--sheet", opt.sheet, "write a contact sheet PNG: one row per class, its first --per-class images");
  exp->add_option("--per-class", opt.per_class, "images per class on the contact sheet")->check(invkit::cli::kPositive);
  exp->add_flag("--force", opt.force, "replace an existing non-empty --to-dir folder");
  exp->footer("Examples:\n  convert export fmnist.st --to-dir fmnist-png\n  convert export fmnist.st --sheet sheet.png --per-class 8");

  return tool.run(argc, argv, [&] {
    if (*exp) return run_export(opt);
    invkit::io::refuse_binary_to_terminal(opt.output);  // before the work, not after it
    if (*list) return run_list(opt, tool.history_entry());
    if (*folder) return run_folder(opt, tool.history_entry());
    if (*npz) return run_npz(opt, tool.history_entry());
    invkit::Dataset d = *idx   ? from_idx(opt)
                        : *c10 ? from_cifar(opt, invkit::io::CifarKind::cifar10)
                               : from_cifar(opt, invkit::io::CifarKind::cifar100);
    d.add_history(tool.history_entry());
    write_in_chunks(opt, d);
  });
}
