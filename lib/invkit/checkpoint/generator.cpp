#include "invkit/checkpoint/generator.h"

#include "invkit/checkpoint/module_tensors.h"
#include "invkit/error.h"
#include "invkit/io/manifest.h"

namespace invkit::checkpoint {

nlohmann::json generator_manifest(const io::Safetensors& st) {
  auto m = io::manifest_of(st);
  if (!m.is_object() || m.value("format", "") != kGeneratorFormat)
    throw Error(st.source() + ": not a generator (expected manifest format \"" + std::string(kGeneratorFormat) + "\")");
  return m;
}

models::LoadedGenerator load_generator(const std::string& path, torch::Device device) {
  auto st = io::Safetensors::read(path);
  models::LoadedGenerator g;
  g.manifest = generator_manifest(st);
  g.options = models::MunitOptions::from_json(g.manifest.value("model", nlohmann::json::object()), path);
  g.device = device;
  g.source = path;
  g.gen = models::AdaINGen(g.options);
  load_model_tensors(*g.gen, st, "gen.");
  for (auto& p : g.gen->parameters()) p.set_requires_grad(false);
  g.gen->to(device);
  g.gen->eval();
  return g;
}

void check_generator_input(const models::MunitOptions& o, const std::string& generator_name, const Dataset& data,
                           const std::string& data_name) {
  auto shape = [](int64_t c, int64_t h, int64_t w) {
    return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
  };
  if (o.channels != data.channels() || o.height != data.height() || o.width != data.width())
    throw Error(generator_name + ": the generator takes " + shape(o.channels, o.height, o.width) + " images, " +
                data_name + " has " + shape(data.channels(), data.height(), data.width()));
}

}  // namespace invkit::checkpoint
