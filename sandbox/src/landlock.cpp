#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "nonaxis/sandbox/mac.hpp"

// Debian 12's headers may predate newer ABIs; the values are kernel ABI.
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

namespace nonaxis::sandbox {
namespace {

// Layout of struct landlock_ruleset_attr up to ABI 6 (handled_access_fs,
// handled_access_net, scoped); the kernel takes the size we pass.
struct RulesetAttr {
  std::uint64_t handled_access_fs;
  std::uint64_t handled_access_net;
  std::uint64_t scoped;
};

struct PathBeneath {
  std::uint64_t allowed_access;
  std::int32_t parent_fd;
} __attribute__((packed));

constexpr std::uint64_t kRead = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
constexpr std::uint64_t kWriteNoExec = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
                                       LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
                                       LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |
                                       LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                                       LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM |
                                       LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE;

std::uint64_t handled_for(int abi) {
  std::uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) all |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) all |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return all;
}

int add_path(int ruleset, const char* path, std::uint64_t access, std::uint64_t handled) {
  const int fd = ::open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : -errno;
  PathBeneath pb{access & handled, fd};
  const long rc = ::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? 0 : -err;
}

}  // namespace

int landlock_abi_version() {
  const long v = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return v < 0 ? 0 : static_cast<int>(v);
}

int apply_landlock(int abi, int* abi_used, const LandlockGrant* grants, std::size_t n_grants) {
  if (abi <= 0) return -ENOSYS;
  const std::uint64_t handled = handled_for(abi);
  RulesetAttr attr{handled, 0, 0};
  std::size_t attr_size = sizeof(std::uint64_t);  // ABI 1-3: handled_access_fs only
  if (abi >= 6) {
    // Network namespace and nftables govern TCP; Landlock scopes stop signals and
    // abstract-socket connections leaving the sandbox's domain.
    attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
    attr_size = sizeof(RulesetAttr);
  }
  const long rs = ::syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
  if (rs < 0) return -errno;
  const int ruleset = static_cast<int>(rs);
  int rc = 0;
  // The root directory may be listed (its entries are the view itself), nothing more.
  rc = add_path(ruleset, "/", LANDLOCK_ACCESS_FS_READ_DIR, handled);
  // Read-only system view (binaries and libraries may execute from here only).
  for (const char* p : {"/usr", "/etc", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin"}) {
    if (rc == 0) rc = add_path(ruleset, p, kRead, handled);
  }
  if (rc == 0) rc = add_path(ruleset, "/proc", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR, handled);
  // Device nodes: reading and writing null/zero/random, never creating nodes.
  if (rc == 0) {
    rc = add_path(ruleset, "/dev",
                  LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_DIR, handled);
  }
  if (rc == 0) rc = add_path(ruleset, "/dev/shm", kWriteNoExec, handled);
  // The workspace and /tmp: read-write, but nothing written there can be executed.
  if (rc == 0) rc = add_path(ruleset, "/work", kWriteNoExec, handled);
  if (rc == 0) rc = add_path(ruleset, "/tmp", kWriteNoExec, handled);
  // A token's allowed_paths: read-only or read-write, never executable. A rule on a
  // regular file may carry file rights only.
  constexpr std::uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                        LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
  for (std::size_t i = 0; rc == 0 && i < n_grants; ++i) {
    std::uint64_t access = grants[i].writable ? kWriteNoExec : (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR);
    if (!grants[i].is_dir) access &= kFileRights;
    rc = add_path(ruleset, grants[i].path, access, handled);
    if (rc == 0 && ::access(grants[i].path, F_OK) != 0) rc = -ENOENT;  // a grant must exist in the view
  }
  if (rc == 0 && ::syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) rc = -errno;
  ::close(ruleset);
  if (rc == 0 && abi_used != nullptr) *abi_used = abi;
  return rc;
}

}  // namespace nonaxis::sandbox
