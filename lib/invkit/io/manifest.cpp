#include "invkit/io/manifest.h"

#include "invkit/error.h"
#include "invkit/io/safetensors.h"
#include "invkit/io/text.h"

namespace invkit::io {

nlohmann::json manifest_from_metadata(const std::map<std::string, std::string>& metadata, const std::string& source) {
  auto it = metadata.find(kManifestKey);
  if (it == metadata.end()) return nullptr;
  const nlohmann::json m = parse_json_strict(it->second, source + ": manifest (__metadata__[\"invkit\"])");
  if (!m.is_object()) throw Error(source + ": manifest (__metadata__[\"invkit\"]) is not a JSON object");
  return m;
}

nlohmann::json manifest_of(const Safetensors& st) { return manifest_from_metadata(st.metadata(), st.source()); }

nlohmann::json read_manifest(const std::string& path) {
  return manifest_from_metadata(read_safetensors_header(path).metadata, path);
}

std::map<std::string, std::string> metadata_with_manifest(const nlohmann::json& manifest) {
  return {{kManifestKey, dump_json(manifest)}};
}

}  // namespace invkit::io
