#include "invkit/io/manifest.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>

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

nlohmann::json read_manifest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
  auto fail = [&](const std::string& what) { return Error(path + ": not a valid safetensors file: " + what); };
  unsigned char len[8];
  if (!in.read(reinterpret_cast<char*>(len), 8)) throw fail("truncated: shorter than its 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
  if (n > 100'000'000) throw fail("header length " + std::to_string(n) + " is too large");
  std::string header(n, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(n)))
    throw fail("header length " + std::to_string(n) + " runs past the end of the file");
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(header);
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("header is not JSON: ") + e.what());
  }
  if (!h.is_object()) throw fail("header is not a JSON object");
  auto meta = h.find("__metadata__");
  if (meta == h.end()) return nullptr;
  if (!meta->is_object()) throw fail("__metadata__ is not an object");
  auto it = meta->find(kManifestKey);
  if (it == meta->end()) return nullptr;
  if (!it->is_string()) throw fail("__metadata__[\"invkit\"] is not a string");
  nlohmann::json m;
  try {
    m = nlohmann::json::parse(it->get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": manifest (__metadata__[\"invkit\"]) is not JSON: " + e.what());
  }
  if (!m.is_object()) throw Error(path + ": manifest (__metadata__[\"invkit\"]) is not a JSON object");
  return m;
}

std::map<std::string, std::string> metadata_with_manifest(const nlohmann::json& manifest) {
  return {{kManifestKey, manifest.dump()}};
}

}  // namespace invkit::io
