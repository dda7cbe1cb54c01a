#pragma once
// Privilege drop in the child, last thing before seccomp and exec. All functions are
// async-signal-safe and return 0 or -errno.
#include <sys/resource.h>

#include <cstdint>

namespace nonaxis::sandbox {

// Empties bounding, ambient, inheritable, permitted and effective capability sets.
int drop_all_capabilities();

// PR_SET_NO_NEW_PRIVS: exec can never gain privileges (setuid, file caps).
int set_no_new_privs();

struct RlimitPlan {
  std::uint64_t cpu_seconds;
  std::uint64_t address_space_bytes;
  std::uint64_t file_size_bytes;
  std::uint64_t processes;
  std::uint64_t open_files;
};

// Sets soft and hard limits (never raises an existing hard limit) plus RLIMIT_CORE=0.
int apply_rlimits(const RlimitPlan& plan);

// Brings up `lo` in the current network namespace.
int bring_up_loopback();

// True when `lo` of the current network namespace is up (needs no privilege).
bool loopback_is_up();

}  // namespace nonaxis::sandbox
