// libFuzzer harness for invkit's input parsers: one binary, the target chosen
// with --target=NAME (libFuzzer ignores flags that start with "--"):
//
//   invkit-fuzz --target=npz -max_total_time=60 NEW_DIR test/fuzz/corpus/npz
//
// The library's contract on bad input: an invkit::Error or UsageError whose
// message names the input, nothing else. Any other exception, a crash, a
// sanitizer report, a hang or a huge allocation is a finding; so is an Error
// that does not name the file it is about. INVKIT_FUZZ_VERBOSE=1 prints the
// errors: `INVKIT_FUZZ_VERBOSE=1 invkit-fuzz --target=npz FILE` shows what
// invkit says about FILE.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <string>
#include <typeinfo>
#include <vector>

#include "invkit/data/dataset.h"
#include "invkit/error.h"
#include "invkit/io/cifar.h"
#include "invkit/io/idx.h"
#include "invkit/io/image.h"
#include "invkit/io/manifest.h"
#include "invkit/io/npy.h"
#include "invkit/io/safetensors.h"
#include "invkit/transforms/spec.h"
#include "invkit/transforms/transform.h"

namespace {

using Bytes = std::vector<uint8_t>;

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "\ninvkit-fuzz: FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// The input as a file, for readers that take a path: one per process.
std::string g_dir, g_path;

// A new file each time: ext4 flushes a file truncated and rewritten on close
// (auto_da_alloc), which made O_TRUNC two hundred times slower.
void write_input(const uint8_t* data, size_t size) {
  ::unlink(g_path.c_str());
  int fd = ::open(g_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) finding("harness: cannot create " + g_path);
  for (size_t done = 0; done < size;) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) finding("harness: cannot write " + g_path);
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

// Runs one reader call. invkit's own errors are the expected outcome of bad
// input; `source` (the path or name the reader was given) must appear in an
// Error's message, since a tool prints it as the only clue for its user.
// With INVKIT_FUZZ_VERBOSE set, every error is printed (to see what an input does).
bool g_verbose = false;

void expect_invkit_errors(const std::string& source, const std::function<void()>& call) {
  try {
    call();
  } catch (const invkit::Error& e) {
    if (g_verbose) std::fprintf(stderr, "invkit::Error: %s\n", e.what());
    if (!source.empty() && std::string(e.what()).find(source) == std::string::npos)
      finding("invkit::Error that does not name " + source + ": " + e.what());
  } catch (const invkit::UsageError& e) {
    if (g_verbose) std::fprintf(stderr, "invkit::UsageError: %s\n", e.what());
  } catch (const std::exception& e) {
    finding(std::string("uncaught ") + typeid(e).name() + ": " + e.what());
  } catch (...) {
    finding("uncaught exception that is not a std::exception");
  }
}

void fuzz_safetensors(const uint8_t* data, size_t size) {
  const std::string source = "fuzz.st";
  expect_invkit_errors(source, [&] { invkit::io::parse_safetensors_header(data, size, source); });
  expect_invkit_errors(source, [&] {
    auto st = invkit::io::Safetensors::parse(Bytes(data, data + size), source);
    for (const auto& t : st.tensors()) st.tensor(t.name);
  });
  write_input(data, size);
  expect_invkit_errors(g_path, [&] { invkit::io::read_safetensors_header(g_path); });
}

// The input is a manifest's JSON text, stored under __metadata__["invkit"] of
// a small valid data set (3 gray 2x2 images, labels 0, 1, 1): what a data
// set's reader makes of the manifest, not of the container around it.
void fuzz_manifest(const uint8_t* data, size_t size) {
  const std::string manifest(reinterpret_cast<const char*>(data), size);
  // The safetensors header is JSON, so it holds UTF-8 only (its reader
  // refuses anything else): escape the text as a JSON string, bytes that are
  // not UTF-8 replaced.
  const std::string meta = nlohmann::json(manifest).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string header = "{\"__metadata__\":{\"invkit\":" + meta +
                       "},\"labels\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[0,24]},"
                       "\"images\":{\"dtype\":\"U8\",\"shape\":[3,1,2,2],\"data_offsets\":[24,36]}}";
  Bytes file(8);
  for (int i = 0; i < 8; ++i) file[i] = static_cast<uint8_t>(uint64_t(header.size()) >> (8 * i));
  file.insert(file.end(), header.begin(), header.end());
  const int64_t labels[3] = {0, 1, 1};
  const auto* l = reinterpret_cast<const uint8_t*>(labels);
  file.insert(file.end(), l, l + sizeof labels);
  for (int i = 0; i < 12; ++i) file.push_back(static_cast<uint8_t>(i * 20));
  write_input(file.data(), file.size());
  expect_invkit_errors(g_path, [&] { invkit::io::read_manifest(g_path); });
  expect_invkit_errors(g_path, [&] { invkit::Dataset::load(g_path); });
}

void fuzz_idx(const uint8_t* data, size_t size) {
  write_input(data, size);
  expect_invkit_errors(g_path, [&] { invkit::io::read_idx_images(g_path, size % 2 == 1); });
  expect_invkit_errors(g_path, [&] { invkit::io::read_idx_labels(g_path); });
}

void fuzz_cifar(const uint8_t* data, size_t size) {
  using invkit::io::CifarKind;
  write_input(data, size);
  expect_invkit_errors(g_path, [&] { invkit::io::read_cifar({g_path}, CifarKind::cifar10); });
  expect_invkit_errors(g_path, [&] { invkit::io::read_cifar({g_path}, CifarKind::cifar100, false); });
  expect_invkit_errors(g_path, [&] { invkit::io::read_cifar({g_path}, CifarKind::cifar100, true); });
}

// A .npy file's bytes, then the array as the images and as the labels of a
// NumPy data set (convert npz).
void fuzz_npy(const uint8_t* data, size_t size) {
  const std::string source = "fuzz.npy";
  torch::Tensor t;
  expect_invkit_errors(source, [&] { t = invkit::io::parse_npy(std::string(data, data + size), source); });
  if (!t.defined()) return;
  const int64_t n = t.dim() > 0 ? t.size(0) : 0;
  expect_invkit_errors(source, [&] {
    invkit::io::numpy_image_set(t, source, torch::zeros({n}, torch::kLong), "labels", "");
  });
  expect_invkit_errors(source, [&] {
    invkit::io::numpy_image_set(torch::zeros({t.numel() > 0 ? t.numel() : 1, 2, 2}, torch::kByte), "images", t,
                                source, "");
  });
}

// A .npz archive (or a .npy file) as convert npz opens it.
void fuzz_npz(const uint8_t* data, size_t size) {
  write_input(data, size);
  expect_invkit_errors(g_path, [&] { invkit::io::read_numpy_array(g_path, ""); });
}

void fuzz_image(const uint8_t* data, size_t size) {
  write_input(data, size);
  int64_t pixels = 0;
  expect_invkit_errors(g_path, [&] {
    auto img = invkit::io::read_image(g_path, 0);
    if (img.dim() != 3 || (img.size(0) != 1 && img.size(0) != 3)) finding("read_image: not [1 or 3, H, W]");
    pixels = img.size(1) * img.size(2);
  });
  // The channel conversions again, for images small enough to decode thrice
  // well inside the time limit.
  if (pixels == 0 || pixels > 256 * 256) return;
  for (int channels : {1, 3})
    expect_invkit_errors(g_path, [&] {
      if (invkit::io::read_image(g_path, channels).size(0) != channels) finding("read_image: wrong channel count");
    });
}

// A transform spec: parsed, its canonical text parsed back to the same text,
// then applied (twice, which must agree) to two small gray images and one
// colour image, with the drawn parameters.
void fuzz_transform(const uint8_t* data, size_t size) {
  const std::string spec(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<invkit::transforms::Transform> t;
  expect_invkit_errors("", [&] { t = invkit::transforms::parse_transform(spec); });
  if (!t) return;
  const std::string canonical = t->spec();
  expect_invkit_errors("", [&] {
    if (invkit::transforms::parse_transform(canonical)->spec() != canonical)
      finding("spec \"" + canonical + "\" does not parse back to itself");
  });
  for (const auto& images : {torch::arange(2 * 9 * 7, torch::kLong).remainder(251).to(torch::kByte).reshape({2, 1, 9, 7}),
                             torch::arange(3 * 5 * 6, torch::kLong).mul(7).remainder(256).to(torch::kByte).reshape({1, 3, 5, 6})}) {
    expect_invkit_errors("", [&] {
      const auto keys = torch::arange(images.size(0), torch::kLong);
      torch::Tensor params, again;
      const auto out = t->apply(images, 7, keys, &params);
      if (out.sizes() != images.sizes() || out.scalar_type() != torch::kByte) finding("apply: wrong output shape or type");
      if (params.size(0) != images.size(0) || params.size(1) != static_cast<int64_t>(t->param_names().size()))
        finding("apply: wrong params shape");
      if (!t->apply(images, 7, keys, &again).equal(out)) finding("apply: two runs with one seed differ");
    });
  }
}

struct Target {
  const char* name;
  void (*run)(const uint8_t*, size_t);
};

const Target kTargets[] = {
    {"safetensors", fuzz_safetensors}, {"manifest", fuzz_manifest}, {"idx", fuzz_idx},
    {"cifar", fuzz_cifar},             {"npy", fuzz_npy},           {"npz", fuzz_npz},
    {"image", fuzz_image},             {"transform", fuzz_transform},
};

const Target* g_target = nullptr;

void remove_input() {
  ::unlink(g_path.c_str());
  ::rmdir(g_dir.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  std::string names;
  for (const auto& t : kTargets) names += std::string(names.empty() ? "" : ", ") + t.name;
  for (int i = 1; i < *argc; ++i)
    if (std::strncmp((*argv)[i], "--target=", 9) == 0)
      for (const auto& t : kTargets)
        if (std::strcmp((*argv)[i] + 9, t.name) == 0) g_target = &t;
  if (!g_target) {
    std::fprintf(stderr, "usage: invkit-fuzz --target=NAME [libFuzzer options] [CORPUS_DIR...]\n  NAME: %s\n",
                 names.c_str());
    std::exit(2);
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/invkit-fuzz-XXXXXX";
  if (!::mkdtemp(dir.data())) finding("harness: cannot create a temporary folder");
  g_dir = dir;
  g_path = dir + "/input";
  std::atexit(remove_input);
  g_verbose = std::getenv("INVKIT_FUZZ_VERBOSE") != nullptr;
  torch::set_num_threads(1);  // one input at a time; no thread pool to start
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  g_target->run(data, size);
  return 0;
}
