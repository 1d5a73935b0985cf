// Enumerations spelled as words (rules, class orders, ...): one table of
// (name, value) pairs gives both directions.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <utility>

namespace invkit {

template <typename E, std::size_t N>
std::optional<E> value_named(const std::pair<const char*, E> (&table)[N], const std::string& name) {
  for (const auto& [text, value] : table)
    if (name == text) return value;
  return std::nullopt;
}

template <typename E, std::size_t N>
std::string name_of(const std::pair<const char*, E> (&table)[N], E value) {
  for (const auto& [text, v] : table)
    if (v == value) return text;
  return "?";
}

}  // namespace invkit
