#include "invkit/cli/specs.h"

#include <stdexcept>

#include "invkit/error.h"

namespace invkit::cli {

std::pair<std::string, double> parse_split_spec(const std::string& spec) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw UsageError("--split " + spec + ": expected NAME=FRACTION, e.g. val=0.2");
  const std::string name = spec.substr(0, eq), number = spec.substr(eq + 1);
  double f = 0;
  try {
    size_t used = 0;
    f = std::stod(number, &used);
    if (used != number.size()) throw std::invalid_argument(number);
  } catch (const std::exception&) {
    throw UsageError("--split " + spec + ": " + number + " is not a number");
  }
  if (!(f >= 0 && f <= 1)) throw UsageError("--split " + spec + ": the fraction must lie in [0, 1]");
  return {name, f};
}

std::pair<int64_t, int64_t> parse_shard_spec(const std::string& spec) {
  const auto slash = spec.find('/');
  auto bad = [&] { return UsageError("--shard " + spec + ": expected i/n with 0 <= i < n, e.g. 0/4"); };
  if (slash == std::string::npos) throw bad();
  auto number = [&](const std::string& s) {
    if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos) throw bad();
    return static_cast<int64_t>(std::stoll(s));
  };
  const int64_t i = number(spec.substr(0, slash)), n = number(spec.substr(slash + 1));
  if (n < 1 || i >= n) throw bad();
  return {i, n};
}

}  // namespace invkit::cli
