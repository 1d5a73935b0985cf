// inspect: print the manifest and the tensors of any invkit (or plain
// safetensors) file.
#include <cstdio>
#include <iostream>

#include "invkit/cli/tool.h"
#include "invkit/io/file.h"
#include "invkit/io/manifest.h"
#include "invkit/io/safetensors.h"
#include "invkit/io/text.h"

namespace {

struct Options {
  std::string input;  // file or "-"
  bool json = false;  // one JSON object for jq
};

// A file's header alone is read (constant time and memory whatever its
// size), checked against the file's length; stdin is read whole.
nlohmann::json describe(const std::string& input) {
  invkit::io::SafetensorsHeader h;
  std::string source = invkit::io::input_name(input);
  if (input == "-") {
    auto st = invkit::io::Safetensors::read(input);
    h.metadata = st.metadata();
    h.tensors = st.tensors();
  } else {
    h = invkit::io::read_safetensors_header(input);
  }
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& t : h.tensors)
    tensors.push_back({{"name", t.name}, {"dtype", invkit::io::dtype_name(t.dtype)}, {"shape", t.shape}});
  nlohmann::json other = nlohmann::json::object();
  for (const auto& [k, v] : h.metadata)
    if (k != invkit::io::kManifestKey) other[k] = v;
  return {{"file", source},
          {"manifest", invkit::io::manifest_from_metadata(h.metadata, source)},
          {"tensors", tensors},
          {"metadata", other}};
}

void print_text(const nlohmann::json& d) {
  std::cout << "file: " << d["file"].get<std::string>() << "\n";
  if (d["manifest"].is_null())
    std::cout << "manifest: none (plain safetensors)\n";
  else
    std::cout << "manifest:\n" << invkit::io::dump_json(d["manifest"], 2) << "\n";
  if (!d["metadata"].empty()) std::cout << "other metadata:\n" << invkit::io::dump_json(d["metadata"], 2) << "\n";
  std::cout << "tensors:\n";
  std::printf("  %-32s %-5s %s\n", "name", "dtype", "shape");
  std::fflush(stdout);
  for (const auto& t : d["tensors"]) {
    std::string shape = "[";
    for (size_t i = 0; i < t["shape"].size(); ++i) shape += (i ? ", " : "") + t["shape"][i].dump();
    std::printf("  %-32s %-5s %s]\n", t["name"].get<std::string>().c_str(), t["dtype"].get<std::string>().c_str(),
                shape.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  invkit::cli::Tool tool("inspect", "Print the manifest and the tensors (name, dtype, shape) of an invkit file.",
                         "  inspect lt.st\n  inspect lt.st --json | jq .manifest.class_counts\n"
                         "  resample --per-class 10 fmnist.st -o - | inspect -");
  tool.app().add_option("input", opt.input, "safetensors file, or - for stdin")->required();
  tool.app().add_flag("--json", opt.json, "print one JSON object (file, manifest, tensors, metadata)");
  return tool.run(argc, argv, [&] {
    nlohmann::json d = describe(opt.input);
    if (opt.json)
      std::cout << invkit::io::dump_json(d) << "\n";
    else
      print_text(d);
  });
}
