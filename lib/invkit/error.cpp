#include "invkit/error.h"

namespace invkit {

namespace {
// Control characters: never in a message's other text in practice, and never
// confused with a file name that contains brackets.
constexpr char kOpen = '\x01', kClose = '\x02';
}  // namespace

std::string param(const std::string& name) { return kOpen + name + kClose; }

std::string render_params(const std::string& text, const std::function<std::string(const std::string&)>& spell) {
  std::string out;
  size_t at = 0;
  for (;;) {
    const size_t open = text.find(kOpen, at);
    const size_t close = open == std::string::npos ? open : text.find(kClose, open);
    if (close == std::string::npos) break;
    out.append(text, at, open - at);
    out += spell(text.substr(open + 1, close - open - 1));
    at = close + 1;
  }
  out.append(text, at, std::string::npos);
  return out;
}

Failure::Failure(const std::string& text)
    : std::runtime_error(render_params(text, [](const std::string& name) { return name; })), text_(text) {}

}  // namespace invkit
