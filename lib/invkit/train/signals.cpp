#include "invkit/train/signals.h"

#include <csignal>

namespace invkit::train {

namespace {
volatile std::sig_atomic_t received = 0;
struct sigaction old_int, old_term;
extern "C" void on_signal(int signo) { received = signo; }
}  // namespace

SignalGuard::SignalGuard() {
  received = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
}

SignalGuard::~SignalGuard() {
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
}

int SignalGuard::pending() { return received; }

const char* SignalGuard::name(int signo) { return signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "a signal"; }

}  // namespace invkit::train
