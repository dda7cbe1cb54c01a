#include "nonaxis/sandbox/stop_signals.hpp"

#include <sys/signalfd.h>

namespace nonaxis::sandbox {

UniqueFd block_stop_signals(sigset_t* old, bool with_sigchld) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (with_sigchld) sigaddset(&set, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &set, old);
  return UniqueFd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
}

}  // namespace nonaxis::sandbox
