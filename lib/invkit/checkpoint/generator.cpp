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

void check_generator_input(const models::MunitOptions& o, const std::string& generator_name, const ImageShape& shape,
                           const std::string& data_name) {
  const ImageShape takes{o.channels, o.height, o.width};
  if (shape != takes)
    throw Error(generator_name + ": the generator takes " + takes.str() + " images, " + data_name + " has " +
                shape.str());
}

}  // namespace invkit::checkpoint
