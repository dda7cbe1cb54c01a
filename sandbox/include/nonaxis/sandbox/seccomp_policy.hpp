#pragma once
// seccomp policy as data (profiles/seccomp/<name>.json), compiled with libseccomp in
// the trusted supervisor into a BPF program; the child only installs the bytes.
#include <linux/filter.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace nonaxis::sandbox {

class SeccompPolicyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How the profile's default denial reaches the program. kNotify (the sandbox's
// mode) makes the kernel hand each denied call to the supervisor's listener, which
// records it and answers with the profile's errno: the content sees the same EPERM,
// and the record lists what was denied. Allowed calls never leave the kernel.
// kErrno answers in the kernel and records nothing (for other launchers, e.g. the
// benchmark's bubblewrap comparison).
enum class DenyMode { kNotify, kErrno };

struct CompiledSeccomp {
  std::string name;
  int version = 0;
  DenyMode mode = DenyMode::kNotify;
  int deny_errno = 1;                    // what the listener answers (EPERM)
  std::vector<sock_filter> program;
  std::size_t allowed_syscalls = 0;      // resolved on the native arch
  std::size_t denied_by_name = 0;        // must_deny names present on the native arch
};

// Parses and compiles a profile for the native architecture only; a foreign arch gets
// the profile's foreign_arch_action (kill). Refuses a profile that allows any name in
// its own must_deny list, or whose default action is not a denial.
CompiledSeccomp compile_seccomp_profile(const std::filesystem::path& path, DenyMode mode = DenyMode::kNotify);

// As compile_seccomp_profile, but reuses a BPF program compiled earlier from the very
// same profile bytes (cache file named by the profile's SHA-256 in `cache_dir`, which
// only the sandbox writes). libseccomp's compile is the most expensive step of a
// launch; the cache makes it a small read.
CompiledSeccomp compile_seccomp_profile_cached(const std::filesystem::path& path,
                                               const std::filesystem::path& cache_dir);

// Installs `program` on the calling thread (requires no_new_privs). Returns 0 or -errno.
// With `listener` non-null the filter is installed with a user-notification listener
// (SECCOMP_FILTER_FLAG_NEW_LISTENER), whose descriptor is stored there.
// Async-signal-safe: called in the child between clone and exec.
int install_seccomp(const std::vector<sock_filter>& program, int* listener = nullptr);

// Supervisor side of DenyMode::kNotify: answers every pending notification on
// `listener` with -deny_errno and counts the denied syscalls by name.
class SeccompDenials {
 public:
  explicit SeccompDenials(int deny_errno);
  // Reads and answers one notification (call when the listener is readable).
  // Returns false once the listener is finished (no more processes use the filter).
  bool answer_one(int listener);
  struct Entry {
    std::string syscall;
    std::uint64_t count;
  };
  // Denied syscalls in first-seen order, at most kMaxDistinct names; the rest are
  // counted in other().
  std::vector<Entry> entries() const;
  std::uint64_t other() const { return other_; }
  std::uint64_t total() const { return total_; }
  static constexpr std::size_t kMaxDistinct = 64;

 private:
  int deny_errno_;
  std::vector<std::pair<std::pair<std::uint32_t, int>, std::uint64_t>> seen_;  // (arch, nr) -> count
  std::uint64_t other_ = 0;
  std::uint64_t total_ = 0;
  std::vector<unsigned char> req_buf_, resp_buf_;
};

}  // namespace nonaxis::sandbox
