#include "invkit/io/manifest.h"

#include "invkit/error.h"
#include "invkit/io/safetensors.h"

namespace invkit::io {

nlohmann::json manifest_of(const Safetensors& st) {
  auto it = st.metadata().find(kManifestKey);
  if (it == st.metadata().end()) return nullptr;
  nlohmann::json m;
  try {
    m = nlohmann::json::parse(it->second);
  } catch (const nlohmann::json::exception& e) {
    throw Error(st.source() + ": manifest (__metadata__[\"invkit\"]) is not JSON: " + e.what());
  }
  if (!m.is_object()) throw Error(st.source() + ": manifest (__metadata__[\"invkit\"]) is not a JSON object");
  return m;
}

std::map<std::string, std::string> metadata_with_manifest(const nlohmann::json& manifest) {
  return {{kManifestKey, manifest.dump()}};
}

}  // namespace invkit::io
