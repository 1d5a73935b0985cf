// CSV rows from JSON values, as the report tools write them (--csv).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace invkit::io {

// One field: numbers as JSON writes them, null empty, text quoted when it
// holds a comma, a quote or a line break.
std::string csv_field(const nlohmann::json& value);

// Fields joined by commas, ending in a newline.
std::string csv_line(const std::vector<nlohmann::json>& fields);

}  // namespace invkit::io
