#pragma once
// The exit codes every Nonaxis command shares for failures, in one place:
// 64 usage (std::invalid_argument), 78 configuration (ConfigError), 70 anything else.
#include <functional>

namespace nonaxis::bus {

inline constexpr int kExitUsage = 64;
inline constexpr int kExitInternal = 70;
inline constexpr int kExitConfig = 78;

// Runs `body`; maps an escaping exception to its exit code, prints one line to
// stderr prefixed with `program`, and logs it (the message, never a secret).
int run_guarded(const char* program, const std::function<int()>& body);

}  // namespace nonaxis::bus
