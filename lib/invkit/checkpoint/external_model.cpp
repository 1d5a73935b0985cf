#include "invkit/checkpoint/external_model.h"

#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/versions.h>
#include <torch/script.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <fstream>
#include <set>
#include <sstream>

#include "invkit/data/class_names.h"
#include "invkit/data/dataset_reader.h"
#include "invkit/error.h"
#include "invkit/io/file.h"
#include "invkit/io/manifest.h"
#include "invkit/io/safetensors.h"
#include "invkit/io/torch_save.h"

namespace invkit::checkpoint {

namespace {

const std::string kLibTorch = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                              std::to_string(TORCH_VERSION_PATCH);

std::string join(const std::vector<std::string>& items, size_t limit = 8) {
  std::string s;
  for (size_t i = 0; i < items.size() && i < limit; ++i) s += (i ? ", " : "") + items[i];
  if (items.size() > limit) s += ", ... (" + std::to_string(items.size()) + " in all)";
  return s;
}

// A TorchScript module as a classifier. Its weights live in the module,
// loaded on the device; train()/eval() reach it too.
class ScriptedClassifierImpl : public models::ClassifierImpl {
 public:
  ScriptedClassifierImpl(torch::jit::Module module, std::string source)
      : module_(std::move(module)), source_(std::move(source)) {}
  torch::Tensor forward(torch::Tensor x) override {
    c10::IValue out = module_.forward({x});
    if (!out.isTensor())
      throw Error(source_ + ": the model's forward returned " + out.tagKind() + ", not a tensor of logits");
    return out.toTensor();
  }
  void train(bool on) override {
    models::ClassifierImpl::train(on);
    module_.train(on);
  }

 private:
  torch::jit::Module module_;
  std::string source_;
};

// The format version a PyTorch zip archive records ("ARCHIVE/version" or
// "ARCHIVE/.data/version", stored uncompressed as decimal digits), found
// through the zip's central directory (its local headers may leave sizes to
// a data descriptor). nullopt when there is none or the zip is ZIP64.
std::optional<uint64_t> archive_format_version(const std::vector<uint8_t>& z) {
  auto u16 = [&](size_t at) { return static_cast<size_t>(z[at] | (z[at + 1] << 8)); };
  auto u32 = [&](size_t at) { return u16(at) | (u16(at + 2) << 16); };
  auto sig = [&](size_t at, uint8_t a, uint8_t b) {
    return at + 4 <= z.size() && z[at] == 'P' && z[at + 1] == 'K' && z[at + 2] == a && z[at + 3] == b;
  };
  if (z.size() < 22) return std::nullopt;
  size_t end = z.size() - 22;  // the end-of-central-directory record, before a comment of up to 64 KiB
  while (!sig(end, 5, 6)) {
    if (end == 0 || z.size() - end > 22 + 65535) return std::nullopt;
    --end;
  }
  size_t at = u32(end + 16);
  for (size_t n = u16(end + 10); n > 0 && at + 46 <= z.size() && sig(at, 1, 2); --n) {
    const size_t size = u32(at + 24), name_len = u16(at + 28), extra_len = u16(at + 30), comment_len = u16(at + 32);
    const size_t local = u32(at + 42);
    if (at + 46 + name_len > z.size()) return std::nullopt;
    const std::string name(z.begin() + at + 46, z.begin() + at + 46 + name_len);
    at += 46 + name_len + extra_len + comment_len;
    if (name != "version" && (name.size() <= 8 || name.compare(name.size() - 8, 8, "/version") != 0)) continue;
    if (!sig(local, 3, 4) || local + 30 > z.size()) return std::nullopt;
    const size_t data = local + 30 + u16(local + 26) + u16(local + 28);
    if (data > z.size() || size > z.size() - data) return std::nullopt;
    uint64_t v = 0;
    size_t digits = 0;
    for (size_t i = data; i < data + size && z[i] >= '0' && z[i] <= '9' && digits < 18; ++i, ++digits)
      v = v * 10 + (z[i] - '0');
    return digits ? std::optional<uint64_t>(v) : std::nullopt;
  }
  return std::nullopt;
}

std::vector<double> per_channel(const std::vector<double>& v, int64_t channels, const std::string& what) {
  if (v.size() == 1) return std::vector<double>(channels, v[0]);
  if (static_cast<int64_t>(v.size()) != channels)
    throw UsageError(what + " has " + std::to_string(v.size()) + " values; give 1 or one per channel (" +
                     std::to_string(channels) + ")");
  return v;
}

// --train-counts: "N,N,..." or a file of one count per line.
std::vector<int64_t> parse_counts(const std::string& arg) {
  std::vector<std::string> fields;
  std::string where = param("train_counts");
  if (std::filesystem::is_regular_file(arg)) {
    const std::vector<uint8_t> bytes = io::read_all(arg);
    fields = io::read_text_lines(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                                 io::NameEncoding::utf8, arg);
    where = arg;
  } else {
    std::stringstream ss(arg);
    for (std::string f; std::getline(ss, f, ',');) fields.push_back(f);
  }
  std::vector<int64_t> counts;
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string f = fields[i];
    f.erase(0, f.find_first_not_of(" \t"));
    f.erase(f.find_last_not_of(" \t") + 1);
    if (f.empty() && where != param("train_counts")) continue;  // blank lines in a file
    size_t used = 0;
    long long n = -1;
    try {
      n = std::stoll(f, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != f.size() || f.empty() || n < 0)
      throw UsageError(where + ": \"" + f + "\" (item " + std::to_string(i + 1) + ") is not a count (an integer >= 0)");
    counts.push_back(n);
  }
  if (counts.empty()) throw UsageError(where + ": no counts");
  return counts;
}

models::Normalization external_normalization(const ExternalOptions& opt, int64_t channels) {
  if (opt.mean.empty() || opt.std.empty())
    throw UsageError("a model trained elsewhere needs its input normalization: " + param("mean") + " and " +
                     param("std") + " (as its Normalize; " + param("mean") + " 0 " + param("std") +
                     " 1 for ToTensor alone)");
  if (!(opt.pixel_max > 0)) throw UsageError(param("pixel_max") + " must be positive");
  models::Normalization norm;
  norm.mean = per_channel(opt.mean, channels, param("mean"));
  norm.std = per_channel(opt.std, channels, param("std"));
  // The model sees x/255 * pixel_max, normalized: (x/255 - mean/pixel_max) / (std/pixel_max).
  for (int64_t c = 0; c < channels; ++c) {
    if (!(norm.std[c] > 0) || !std::isfinite(norm.std[c])) throw UsageError(param("std") + " values must be positive");
    if (!std::isfinite(norm.mean[c])) throw UsageError(param("mean") + " values must be finite");
    norm.mean[c] /= opt.pixel_max;
    norm.std[c] /= opt.pixel_max;
  }
  return norm;
}

// Class names and training counts of the model's K outputs.
void name_outputs(LoadedClassifier& c, const ExternalOptions& opt, const Dataset& data, const std::string& data_name,
                  const std::string& src) {
  const int64_t k = c.spec.num_classes;
  auto check = [&](size_t n, const std::string& what) {
    if (static_cast<int64_t>(n) != k)
      throw Error(src + ": the model has " + std::to_string(k) + " outputs but " + what + " has " +
                  std::to_string(n) + " classes");
  };
  if (!opt.train.empty() && (!opt.class_names.empty() || !opt.train_counts.empty()))
    throw UsageError(param("train") + " gives the class names and counts: leave out " + param("class_names") + " and " +
                     param("train_counts"));
  if (!opt.train.empty()) {
    DatasetReader reader(opt.train);  // names and labels only: the pixels are not read
    const Dataset& train = reader.head();
    check(train.class_names.size(), param("train") + " " + opt.train);
    c.class_names = train.class_names;
    c.class_counts = train.class_counts();
    return;
  }
  if (!opt.class_names.empty()) {
    c.class_names = class_names_from_arg(opt.class_names);
    check(c.class_names.size(), param("class_names") + " " + opt.class_names);
  } else {
    if (static_cast<int64_t>(data.num_classes()) != k)
      throw Error(src + ": the model has " + std::to_string(k) + " outputs but " + data_name + " has " +
                  std::to_string(data.num_classes()) +
                  " classes; name the model's outputs with " + param("class_names") + " or " + param("train"));
    c.class_names = data.class_names;
  }
  if (!opt.train_counts.empty()) {
    c.class_counts = parse_counts(opt.train_counts);
    check(c.class_counts.size(), param("train_counts"));
  }
}

// Runs one black image of `shape` through the model: the shape must fit and
// the output be [1, K]. Returns K.
int64_t probe_outputs(models::ClassifierImpl& model, const models::Normalization& norm, const ImageShape& shape,
                      const std::string& data_name, torch::Device device, const std::string& src) {
  c10::InferenceMode guard;
  model.eval();
  torch::Tensor out;
  try {
    const auto black = torch::zeros({1, shape.channels, shape.height, shape.width}, torch::kUInt8);
    out = model.forward(norm.apply(black.to(device)));
  } catch (const Error&) {
    throw;
  } catch (const std::exception&) {
    throw Error(src + ": the model does not run on images of " + shape.str() + " (the images of " + data_name + ")");
  }
  if (out.dim() != 2 || out.size(0) != 1)
    throw Error(src + ": the model's output has shape " + c10::str(out.sizes()) +
                " for one image; a classifier's is [1, classes]");
  return out.size(1);
}

LoadedClassifier load_torchscript(const std::string& path, torch::Device device, const ExternalOptions& opt,
                                  const ImageShape& shape, const std::string& data_name) {
  if (!opt.arch.empty() || !opt.state_dict_key.empty())
    throw UsageError(path + " is a TorchScript module: it needs no " + param("arch") + " or " +
                     param("state_dict_key"));
  LoadedClassifier c;
  c.kind = "torchscript";
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, device);
  } catch (const std::exception&) {
    throw Error(path + ": LibTorch " + kLibTorch +
                " cannot load this TorchScript module (a newer PyTorch's operators, or a module that needs Python "
                "extensions); save it with PyTorch " + std::to_string(TORCH_VERSION_MAJOR) + "." +
                std::to_string(TORCH_VERSION_MINOR) + " or build invkit against the LibTorch of the PyTorch that made it");
  }
  module.eval();
  c.model = std::make_shared<ScriptedClassifierImpl>(std::move(module), path);
  c.spec.arch = "torchscript";
  c.spec.channels = shape.channels;
  c.spec.height = shape.height;
  c.spec.width = shape.width;
  c.normalization = external_normalization(opt, shape.channels);
  c.spec.num_classes = probe_outputs(*c.model, c.normalization, shape, data_name, device, path);
  return c;
}

LoadedClassifier load_state_dict_model(const std::string& path, const std::string& kind, torch::Device device,
                                       const ExternalOptions& opt, const ImageShape& shape,
                                       const std::string& data_name) {
  if (opt.arch.empty())
    throw UsageError(path + " is a state dict (" + kind + "): say which architecture it is with " + param("arch") +
                     " (" + join(models::classifier_archs()) + ")");
  if (kind == "safetensors" && !opt.state_dict_key.empty())
    throw UsageError(param("state_dict_key") + " is for torch.save files; " + path + " is a safetensors file");
  std::map<std::string, torch::Tensor> tensors;
  if (kind == "safetensors") {
    auto st = io::Safetensors::read(path);
    for (const auto& t : st.tensors()) tensors[t.name] = st.tensor(t.name);
  } else {
    tensors = read_torch_save_state_dict(path, opt.state_dict_key);
  }
  // The shape of the model from its tensors: input channels from the first
  // convolution, classes and the LDAM layer from the last one.
  auto find = [&](const std::string& key) -> const torch::Tensor* {
    for (const std::string& k : {key, "module." + key}) {
      auto it = tensors.find(k);
      if (it != tensors.end()) return &it->second;
    }
    return nullptr;
  };
  const torch::Tensor* conv1 = find("conv1.weight");
  const torch::Tensor* linear = find("linear.weight");
  if (!conv1 || conv1->dim() != 4 || !linear || linear->dim() != 2)
    throw Error(path + ": not a state dict of " + opt.arch + " (no conv1.weight [out, channels, 3, 3] and " +
                "linear.weight [classes, features])");
  LoadedClassifier c;
  c.kind = kind;
  c.spec.arch = opt.arch;
  c.spec.channels = conv1->size(1);
  c.spec.height = shape.height;
  c.spec.width = shape.width;
  // nn.Linear stores weight [classes, in] and a bias; NormedLinear [in, classes] and no bias.
  c.spec.normed_linear = find("linear.bias") == nullptr;
  c.spec.num_classes = c.spec.normed_linear ? linear->size(1) : linear->size(0);
  if (shape.channels != c.spec.channels)
    throw Error(path + ": the model takes " + std::to_string(c.spec.channels) + "-channel images but " + data_name +
                " has " + std::to_string(shape.channels));
  try {
    c.model = models::make_classifier(c.spec);
  } catch (const UsageError& e) {
    throw UsageError(e.text() + " (" + param("arch") + " " + opt.arch + ")");
  }
  load_state_dict(*c.model, std::move(tensors), path + " (as " + opt.arch + ")");
  c.logit_scale = c.spec.normed_linear ? models::kLdamScale : 1.0;
  c.model->to(device);
  c.model->eval();
  c.normalization = external_normalization(opt, c.spec.channels);
  return c;
}

}  // namespace

bool ExternalOptions::any_given() const {
  return !arch.empty() || !state_dict_key.empty() || !mean.empty() || !std.empty() || pixel_max != 1.0 ||
         !class_names.empty() || !train.empty() || !train_counts.empty();
}

std::string model_file_kind(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot open");
  unsigned char head[8] = {0};
  f.read(reinterpret_cast<char*>(head), 8);
  const std::streamsize got = f.gcount();
  if (got >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
    try {
      caffe2::serialize::PyTorchStreamReader reader(path);
      return reader.hasRecord("constants.pkl") ? "torchscript" : "torch.save";
    } catch (const std::exception&) {
      // The reader refuses a newer format version before anything else.
      const auto v = archive_format_version(io::read_all(path));
      if (v && *v > caffe2::serialize::kMaxSupportedFileFormatVersion)
        throw Error(path + ": PyTorch file format version " + std::to_string(*v) + " is newer than LibTorch " +
                    kLibTorch + " (which invkit was built with) reads (up to " +
                    std::to_string(caffe2::serialize::kMaxSupportedFileFormatVersion) +
                    "); save it with an older PyTorch, or as a state dict in safetensors");
      throw Error(path + ": a zip archive, but not one PyTorch wrote (torch.save or torch.jit.save)");
    }
  }
  if (got >= 2 && head[0] == 0x80 && head[1] <= 5)
    throw Error(path + ": a legacy torch.save file (PyTorch before 1.6, or _use_new_zipfile_serialization=False), "
                       "which LibTorch cannot read; save it again with torch.save in PyTorch 1.6 or later");
  if (got == 8) {
    nlohmann::json m = io::read_manifest(path);  // the header checked, or an Error naming the file
    return m.is_object() && m.contains("format") ? "invkit" : "safetensors";
  }
  throw Error(path + ": not a model file (safetensors, TorchScript or torch.save)");
}

void load_state_dict(torch::nn::Module& model, std::map<std::string, torch::Tensor> tensors,
                     const std::string& source) {
  if (!tensors.empty() && std::all_of(tensors.begin(), tensors.end(),
                                      [](const auto& kv) { return kv.first.rfind("module.", 0) == 0; })) {
    std::map<std::string, torch::Tensor> stripped;
    for (auto& [k, v] : tensors) stripped[k.substr(7)] = std::move(v);
    tensors = std::move(stripped);
  }
  std::vector<std::pair<std::string, torch::Tensor>> targets;
  for (auto& p : model.named_parameters()) targets.emplace_back(p.key(), p.value());
  for (auto& b : model.named_buffers()) targets.emplace_back(b.key(), b.value());
  std::vector<std::string> missing, mismatched;
  std::set<std::string> known;
  for (auto& [name, target] : targets) {
    known.insert(name);
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      const std::string optional = "num_batches_tracked";
      const bool is_optional = name.size() >= optional.size() &&
                               name.compare(name.size() - optional.size(), optional.size(), optional) == 0;
      if (!is_optional) missing.push_back(name);
      continue;
    }
    if (it->second.sizes() != target.sizes())
      mismatched.push_back(name + " " + c10::str(it->second.sizes()) + " (the model's is " +
                           c10::str(target.sizes()) + ")");
  }
  std::vector<std::string> unexpected;
  for (const auto& kv : tensors)
    if (!known.count(kv.first)) unexpected.push_back(kv.first);
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string why;
    if (!missing.empty()) why += "missing " + join(missing);
    if (!unexpected.empty()) why += std::string(why.empty() ? "" : "; ") + "unexpected " + join(unexpected);
    if (!mismatched.empty()) why += std::string(why.empty() ? "" : "; ") + "wrong shape: " + join(mismatched);
    throw Error(source + ": the state dict does not fit the model: " + why);
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) {
    auto it = tensors.find(name);
    if (it == tensors.end()) continue;
    const torch::Tensor& t = it->second;
    if (target.is_floating_point() != t.is_floating_point())
      throw Error(source + ": tensor \"" + name + "\" is " + std::string(c10::toString(t.scalar_type())) +
                  ", the model's is " + c10::toString(target.scalar_type()));
    target.copy_(t);
  }
}

std::map<std::string, torch::Tensor> read_torch_save_state_dict(const std::string& path, const std::string& key) {
  const c10::IValue root = io::read_torch_save(path);
  if (!root.isGenericDict()) throw Error(path + ": holds a " + root.tagKind() + ", not a dict (a state dict)");
  auto entries = [](const c10::impl::GenericDict& d) {
    std::vector<std::string> keys;
    for (const auto& e : d) keys.push_back(e.key().isString() ? e.key().toStringRef() : e.key().tagKind());
    return keys;
  };
  auto all_tensors = [](const c10::impl::GenericDict& d) {
    if (d.empty()) return false;
    for (const auto& e : d)
      if (!e.key().isString() || !e.value().isTensor()) return false;
    return true;
  };
  c10::impl::GenericDict dict = root.toGenericDict();
  std::string where = path;
  if (!key.empty() || !all_tensors(dict)) {
    std::vector<std::string> tried = key.empty() ? std::vector<std::string>{"state_dict", "model"}
                                                 : std::vector<std::string>{key};
    bool found = false;
    for (const auto& k : tried) {
      auto it = dict.find(c10::IValue(k));
      if (it == dict.end()) continue;
      if (!it->value().isGenericDict())
        throw Error(path + ": entry \"" + k + "\" is a " + it->value().tagKind() + ", not a state dict");
      dict = it->value().toGenericDict();
      where = path + " [\"" + k + "\"]";
      found = true;
      break;
    }
    if (!found)
      throw Error(path + ": no state dict: it is a dict of " + join(entries(dict)) +
                  (key.empty() ? "; name the entry that holds the state dict with " + param("state_dict_key")
                               : "; it has no entry \"" + key + "\""));
  }
  std::map<std::string, torch::Tensor> out;
  for (const auto& e : dict) {
    if (!e.key().isString() || !e.value().isTensor())
      throw Error(where + ": entry " + (e.key().isString() ? "\"" + e.key().toStringRef() + "\"" : e.key().tagKind()) +
                  " is not a named tensor");
    out[e.key().toStringRef()] = e.value().toTensor();
  }
  return out;
}

LoadedClassifier load_any_classifier(const std::string& path, torch::Device device, const ExternalOptions& opt,
                                     const Dataset& data, const ImageShape& shape, const std::string& data_name) {
  const std::string kind = model_file_kind(path);
  LoadedClassifier c;
  if (kind == "invkit") {
    if (opt.any_given())
      throw UsageError(path +
                       " is an invkit checkpoint, which records its architecture, normalization, classes and "
                       "training counts: the options for models trained elsewhere do not apply");
    c = load_classifier(path, device);
  } else {
    c = kind == "torchscript" ? load_torchscript(path, device, opt, shape, data_name)
                              : load_state_dict_model(path, kind, device, opt, shape, data_name);
    name_outputs(c, opt, data, data_name, path);
    c.manifest = {{"format", "external"},
                  {"kind", kind},
                  {"arch", c.spec.arch},
                  {"normalization", {{"mean", c.normalization.mean}, {"std", c.normalization.std}}},
                  {"class_names", c.class_names},
                  {"class_counts", c.class_counts}};
  }
  if (opt.logit_scale != 0) {
    if (!(opt.logit_scale > 0) || !std::isfinite(opt.logit_scale))
      throw UsageError(param("logit_scale") + " must be a positive number");
    c.logit_scale = opt.logit_scale;
  }
  return c;
}

}  // namespace invkit::checkpoint
