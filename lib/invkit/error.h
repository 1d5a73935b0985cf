// The two kinds of failure a tool reports: bad input or a failed step (exit 1)
// and a wrong command line (exit 2). The library throws; only cli/ exits.
//
// A library message names a parameter (a field of an options struct, e.g.
// "per_class") with param(), never a tool's flag: a tool shows the mark as
// its option for that parameter (cli::Tool: "--per-class"), what() as the
// plain name. To prefix a caught one, build the new message from its text(),
// which keeps the marks.
#pragma once
#include <functional>
#include <stdexcept>
#include <string>

namespace invkit {

// The mark of parameter `name` in a message.
std::string param(const std::string& name);
// `text` with each param() mark replaced by spell(name).
std::string render_params(const std::string& text, const std::function<std::string(const std::string&)>& spell);

class Failure : public std::runtime_error {
 public:
  explicit Failure(const std::string& text);  // what(): the marks as plain names
  const std::string& text() const { return text_; }  // with the marks, for render_params
 private:
  std::string text_;
};

struct Error : Failure {
  using Failure::Failure;
};

struct UsageError : Failure {
  using Failure::Failure;
};

}  // namespace invkit
