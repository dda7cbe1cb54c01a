#include "nonaxis/sandbox/netns_socket.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>

namespace nonaxis::sandbox {

UniqueFd socket_in_netns(int netns_fd, int domain, int type, int protocol) {
  UniqueFd own(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!own.valid()) return UniqueFd();
  if (::setns(netns_fd, CLONE_NEWNET) != 0) return UniqueFd();
  UniqueFd s(::socket(domain, type | SOCK_CLOEXEC, protocol));
  const int err = errno;
  if (::setns(own.get(), CLONE_NEWNET) != 0) std::abort();
  errno = err;
  return s;
}

}  // namespace nonaxis::sandbox
