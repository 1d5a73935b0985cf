// The two kinds of failure a tool reports: bad input or a failed step (exit 1)
// and a wrong command line (exit 2). The library throws; only cli/ exits.
#pragma once
#include <stdexcept>
#include <string>

namespace invkit {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace invkit
