// SIGINT/SIGTERM turned into a flag the training loop polls between steps,
// so it can write a checkpoint and stop cleanly instead of dying mid-write.
#pragma once

namespace invkit::train {

class SignalGuard {
 public:
  SignalGuard();   // installs the handlers
  ~SignalGuard();  // restores the previous ones
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

  // The signal received since construction (SIGINT or SIGTERM), or 0.
  static int pending();
  // "SIGINT", "SIGTERM".
  static const char* name(int signo);
};

}  // namespace invkit::train
