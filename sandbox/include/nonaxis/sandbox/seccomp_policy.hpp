#pragma once
// seccomp policy as data (profiles/seccomp/<name>.json), compiled with libseccomp in
// the trusted supervisor into a BPF program; the child only installs the bytes.
#include <linux/filter.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace nonaxis::sandbox {

class SeccompPolicyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CompiledSeccomp {
  std::string name;
  int version = 0;
  std::vector<sock_filter> program;
  std::size_t allowed_syscalls = 0;      // resolved on the native arch
  std::size_t denied_by_name = 0;        // must_deny names present on the native arch
};

// Parses and compiles a profile for the native architecture only; a foreign arch gets
// the profile's foreign_arch_action (kill). Refuses a profile that allows any name in
// its own must_deny list, or whose default action is not a denial.
CompiledSeccomp compile_seccomp_profile(const std::filesystem::path& path);

// As compile_seccomp_profile, but reuses a BPF program compiled earlier from the very
// same profile bytes (cache file named by the profile's SHA-256 in `cache_dir`, which
// only the sandbox writes). libseccomp's compile is the most expensive step of a
// launch; the cache makes it a small read.
CompiledSeccomp compile_seccomp_profile_cached(const std::filesystem::path& path,
                                               const std::filesystem::path& cache_dir);

// Installs `program` on the calling thread (requires no_new_privs). Returns 0 or -errno.
// Async-signal-safe: called in the child between clone and exec.
int install_seccomp(const std::vector<sock_filter>& program);

}  // namespace nonaxis::sandbox
