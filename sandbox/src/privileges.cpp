#include "nonaxis/sandbox/privileges.hpp"

#include <linux/capability.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace nonaxis::sandbox {

int drop_all_capabilities() {
  // Bounding set first: it needs CAP_SETPCAP, which the capset below removes. Numbers
  // are contiguous up to the kernel's last capability, past which the kernel answers
  // EINVAL; stopping there saves ~20 syscalls per launch.
  for (unsigned long cap = 0; cap <= 63; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
    if (errno == EINVAL) break;  // past the last capability this kernel knows
    return -errno;
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return -errno;
  __user_cap_header_struct hdr{};
  hdr.version = _LINUX_CAPABILITY_VERSION_3;
  hdr.pid = 0;
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capset, &hdr, data) != 0) return -errno;
  // Keep-caps off so a later setuid cannot retain anything (there is nothing left anyway).
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return -errno;
  return 0;
}

int set_no_new_privs() { return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 ? 0 : -errno; }

int apply_rlimits(const RlimitPlan& p) {
  const struct {
    int resource;
    std::uint64_t value;
  } limits[] = {{RLIMIT_CPU, p.cpu_seconds},          {RLIMIT_AS, p.address_space_bytes},
                {RLIMIT_FSIZE, p.file_size_bytes},    {RLIMIT_NPROC, p.processes},
                {RLIMIT_NOFILE, p.open_files},        {RLIMIT_CORE, 0}};
  for (const auto& l : limits) {
    rlimit cur{};
    if (::getrlimit(l.resource, &cur) != 0) return -errno;
    rlim_t v = static_cast<rlim_t>(l.value);
    if (cur.rlim_max != RLIM_INFINITY && v > cur.rlim_max) v = cur.rlim_max;
    const rlimit nl{v, v};
    if (::setrlimit(l.resource, &nl) != 0) return -errno;
  }
  return 0;
}

int bring_up_loopback() {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -errno;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  int rc = ::ioctl(s, SIOCGIFFLAGS, &ifr);
  if (rc == 0) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    rc = ::ioctl(s, SIOCSIFFLAGS, &ifr);
  }
  const int err = errno;
  ::close(s);
  return rc == 0 ? 0 : -err;
}

bool loopback_is_up() {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  const bool up = ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP) != 0;
  ::close(s);
  return up;
}

}  // namespace nonaxis::sandbox
