#include "invkit/io/text.h"

#include <cstdio>
#include <set>

#include "invkit/error.h"

namespace invkit::io {

namespace {

// The length of the valid UTF-8 sequence starting at s[i], or 0 (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = at(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates U+D800..U+DFFF
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
  return n;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// UTF-16 (after its byte-order mark) as UTF-8.
std::string utf16_to_utf8(std::string_view bytes, bool big_endian, const std::string& source) {
  auto unit = [&](size_t i) {
    const auto a = static_cast<unsigned char>(bytes[i]), b = static_cast<unsigned char>(bytes[i + 1]);
    return static_cast<uint32_t>(big_endian ? (a << 8 | b) : (b << 8 | a));
  };
  const char* name = big_endian ? "UTF-16BE" : "UTF-16LE";
  if (bytes.size() % 2 != 0)
    throw Error(source + ": " + name + " text (byte-order mark) of an odd number of bytes: truncated?");
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 2) {
    uint32_t u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF && i + 2 < bytes.size() && unit(i + 2) >= 0xDC00 && unit(i + 2) <= 0xDFFF) {
      u = 0x10000 + ((u - 0xD800) << 10) + (unit(i + 2) - 0xDC00);
      i += 2;
    } else if (u >= 0xD800 && u <= 0xDFFF) {
      // +2: the offset in the file, after the byte-order mark.
      throw Error(source + ": not valid " + name + ": unpaired surrogate at byte offset " + std::to_string(i + 2));
    }
    append_utf8(out, u);
  }
  return out;
}

}  // namespace

std::string hex_byte(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02x", c);
  return buf;
}

size_t invalid_utf8_offset(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string::npos;
}

std::string escape_text(std::string_view s) {
  if (is_utf8(s)) return std::string(s);
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out += "\\x" + hex_byte(static_cast<unsigned char>(s[i]));
      ++i;
    } else if (s[i] == '\\') {
      out += "\\\\";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string unescape_text(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && hex(s[i + 2]) >= 0 && hex(s[i + 3]) >= 0) {
      out += static_cast<char>(hex(s[i + 2]) * 16 + hex(s[i + 3]));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

nlohmann::json utf8_safe(const nlohmann::json& j) {
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    return is_utf8(s) ? j : nlohmann::json(escape_text(s));
  }
  if (j.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : j) out.push_back(utf8_safe(v));
    return out;
  }
  if (j.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = j.begin(); it != j.end(); ++it) out[escape_text(it.key())] = utf8_safe(it.value());
    return out;
  }
  return j;
}

std::string dump_json(const nlohmann::json& j, int indent) { return utf8_safe(j).dump(indent); }

nlohmann::json parse_json_strict(std::string_view text, const std::string& what) {
  struct Duplicate {
    std::string key;
  };
  struct TooDeep {};
  std::vector<std::set<std::string>> open;  // the keys seen so far in each enclosing object
  auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if ((event == E::object_start || event == E::array_start) && depth + 1 > kMaxJsonDepth) throw TooDeep{};
    if (event == E::object_start) open.emplace_back();
    if (event == E::object_end && !open.empty()) open.pop_back();
    if (event == E::key && !open.empty() && !open.back().insert(parsed.get<std::string>()).second)
      throw Duplicate{parsed.get<std::string>()};
    return true;
  };
  // No raw NUL belongs in JSON text, and nlohmann would end the input at one
  // (taking "{}\0garbage" for "{}").
  const size_t nul = text.find('\0');
  if (nul != std::string_view::npos) throw Error(what + " is not JSON: a NUL byte at offset " + std::to_string(nul));
  try {
    return nlohmann::json::parse(text.begin(), text.end(), callback);
  } catch (const nlohmann::json::exception& e) {
    throw Error(what + " is not JSON: " + e.what());
  } catch (const Duplicate& d) {
    throw Error(what + " has the key \"" + escape_text(d.key) + "\" twice in one object");
  } catch (const TooDeep&) {
    throw Error(what + " nests arrays and objects more than " + std::to_string(kMaxJsonDepth) + " levels deep");
  }
}

NameEncoding parse_name_encoding(const std::string& text, const std::string& option) {
  if (text == "utf8" || text == "utf-8") return NameEncoding::utf8;
  if (text == "latin1" || text == "latin-1" || text == "iso-8859-1") return NameEncoding::latin1;
  throw UsageError(option + " " + escape_text(text) + ": expected utf8 or latin1");
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) append_utf8(out, static_cast<unsigned char>(c));
  return out;
}

std::string decode_name(std::string_view bytes, NameEncoding encoding, const std::string& where, const std::string& what) {
  const size_t nul = bytes.find('\0');
  if (nul != std::string_view::npos)
    throw Error(where + ": " + what + " contains a NUL byte at offset " + std::to_string(nul));
  if (encoding == NameEncoding::latin1) return latin1_to_utf8(bytes);
  const size_t bad = invalid_utf8_offset(bytes);
  if (bad == std::string::npos) return std::string(bytes);
  throw Error(where + ": " + what + " is not valid UTF-8: byte 0x" + hex_byte(static_cast<unsigned char>(bytes[bad])) +
              " at offset " + std::to_string(bad) + " (\"" + escape_text(bytes) +
              "\"); convert it to UTF-8, or give " + param("names_encoding") + " latin1 if the names are Latin-1");
}

std::vector<std::string> read_text_lines(std::string_view bytes, NameEncoding encoding, const std::string& source) {
  std::string converted;
  if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xEF\xBB\xBF") {
    bytes.remove_prefix(3);
    encoding = NameEncoding::utf8;
  } else if (bytes.size() >= 2 && (bytes.substr(0, 2) == "\xFF\xFE" || bytes.substr(0, 2) == "\xFE\xFF")) {
    converted = utf16_to_utf8(bytes.substr(2), bytes[0] == '\xFE', source);
    bytes = converted;
    encoding = NameEncoding::utf8;
  }
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < bytes.size()) {
    size_t end = bytes.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = bytes.size();
    const std::string what = "line " + std::to_string(lines.size() + 1);
    std::string_view line = bytes.substr(start, end - start);
    lines.push_back(decode_name(line, encoding, source, what));
    if (end == bytes.size()) break;
    start = end + 1;
    if (bytes[end] == '\r' && start < bytes.size() && bytes[start] == '\n') ++start;  // CRLF ends one line
  }
  return lines;
}

}  // namespace invkit::io
