// The invkit manifest: one JSON object stored as a string under
// __metadata__["invkit"] of a safetensors file.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace invkit::io {

class Safetensors;

constexpr const char* kManifestKey = "invkit";

// The manifest held in safetensors metadata (null when there is none); a
// manifest that is not a JSON object is an Error naming `source`.
nlohmann::json manifest_from_metadata(const std::map<std::string, std::string>& metadata, const std::string& source);

// The manifest of a file, or null when it has none (plain safetensors).
// A manifest that is not a JSON object is an Error naming the file.
nlohmann::json manifest_of(const Safetensors& st);

// The manifest of a safetensors file (null when it has none), reading only
// the file's header, not its tensors. A missing file, a short or malformed
// header, or a manifest that is not a JSON object is an Error naming the file.
nlohmann::json read_manifest(const std::string& path);

// safetensors metadata holding `manifest` under "invkit".
std::map<std::string, std::string> metadata_with_manifest(const nlohmann::json& manifest);

}  // namespace invkit::io
