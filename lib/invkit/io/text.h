// Text at the edges: bytes that may not be UTF-8 (paths, arguments, folder
// names) on their way into JSON, and text files as other editors and
// systems write them (byte-order marks, CRLF or CR line ends, Latin-1).
//
// JSON (and so every manifest) holds UTF-8 only. A string that is not UTF-8
// is stored in the *escaped form*: each byte that is not part of a valid
// UTF-8 sequence becomes the four characters \xNN (lowercase hex), and each
// backslash becomes \\ . unescape_text() gives the original bytes back. A
// valid UTF-8 string is stored unchanged, so the escaped form of a string
// can only be told from a valid string that happens to contain "\x" by a
// mark beside it (history entries list `escaped_arguments`).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace invkit::io {

// The offset of the first byte that does not start a valid UTF-8 sequence
// (overlong forms, surrogates and code points above U+10FFFF are invalid),
// or std::string::npos when all of `s` is valid UTF-8.
size_t invalid_utf8_offset(std::string_view s);
inline bool is_utf8(std::string_view s) { return invalid_utf8_offset(s) == std::string::npos; }

// Two lowercase hex digits: hex_byte(0xE9) == "e9".
std::string hex_byte(unsigned char c);

// `s` unchanged when it is valid UTF-8, else its escaped form (see above).
std::string escape_text(std::string_view s);
// The bytes an escaped form stands for (\xNN and \\ undone; any other
// backslash is kept as it is).
std::string unescape_text(std::string_view s);

// A copy of `j` in which every string, object keys included, is valid UTF-8
// (escape_text applied where needed). Everything that writes JSON (manifests,
// reports on stdout, logs) passes through this, so a path or an argument that
// is not UTF-8 never makes serialization throw.
nlohmann::json utf8_safe(const nlohmann::json& j);
// utf8_safe(j).dump(indent).
std::string dump_json(const nlohmann::json& j, int indent = -1);

// Parses JSON text strictly: a syntax error is an Error "WHAT is not JSON:
// ...", and so is a key that appears twice in one object, at any depth
// ("WHAT has the key "K" twice in one object"; nlohmann alone would keep
// the last one in silence), and arrays and objects nested more than
// kMaxJsonDepth levels deep: copying, printing or escaping a value recurses
// once per level, and a file can nest a million ("[[[[...").
nlohmann::json parse_json_strict(std::string_view text, const std::string& what);

// serde_json's limit, with which the safetensors reference reads headers.
constexpr int kMaxJsonDepth = 127;

// How the bytes of names (class folders, class-name files) are read.
enum class NameEncoding { utf8, latin1 };
// "utf8" or "latin1"; anything else is a UsageError naming `option`.
NameEncoding parse_name_encoding(const std::string& text, const std::string& option);

// Latin-1 (ISO 8859-1) bytes as UTF-8: every byte is the code point of its value.
std::string latin1_to_utf8(std::string_view s);

// A name as UTF-8: with utf8, `bytes` must be valid UTF-8 (else an Error
// "WHERE: WHAT is not valid UTF-8: byte 0xNN at offset K (...)"); with latin1
// it is converted. A NUL byte is an Error either way. `where` names the file
// or folder, `what` the thing ("folder name", "line 3").
std::string decode_name(std::string_view bytes, NameEncoding encoding, const std::string& where, const std::string& what);

// A whole text file as a user means it: a UTF-8 byte-order mark is dropped,
// UTF-16 with a byte-order mark (what Windows editors call "Unicode") is
// converted to UTF-8, and LF, CRLF and CR each end a line. `encoding`
// applies to files without a byte-order mark (with latin1 they are
// converted); the lines are returned in order, empty ones included.
// Errors name `source` and the line.
std::vector<std::string> read_text_lines(std::string_view bytes, NameEncoding encoding, const std::string& source);

}  // namespace invkit::io
