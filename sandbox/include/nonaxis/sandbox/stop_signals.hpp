#pragma once
// SIGINT and SIGTERM mean "stop the content, still record it" everywhere in the
// sandbox (the launcher, the resident supervisor, its client): they are blocked and
// read from a signalfd in the poll loops, never handled asynchronously.
#include <signal.h>

#include "nonaxis/sandbox/unique_fd.hpp"

namespace nonaxis::sandbox {

// Blocks SIGINT and SIGTERM (and SIGCHLD when asked) and returns a non-blocking
// CLOEXEC signalfd for them. The previous mask goes to `old` when it is not null.
UniqueFd block_stop_signals(sigset_t* old, bool with_sigchld = false);

}  // namespace nonaxis::sandbox
