// The invkit manifest: one JSON object stored as a string under
// __metadata__["invkit"] of a safetensors file.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace invkit::io {

class Safetensors;

constexpr const char* kManifestKey = "invkit";

// The manifest of a file, or null when it has none (plain safetensors).
// A manifest that is not a JSON object is an Error naming the file.
nlohmann::json manifest_of(const Safetensors& st);

// safetensors metadata holding `manifest` under "invkit".
std::map<std::string, std::string> metadata_with_manifest(const nlohmann::json& manifest);

}  // namespace invkit::io
