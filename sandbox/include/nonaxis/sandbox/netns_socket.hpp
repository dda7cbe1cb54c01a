#pragma once
// A socket that belongs to another network namespace, opened without a thread.
#include "nonaxis/sandbox/unique_fd.hpp"

namespace nonaxis::sandbox {

// A socket keeps the network namespace it was created in, so only socket(2) has to
// run there: the calling thread enters `netns_fd` for that one call and returns at
// once (setns(CLONE_NEWNET) is per-thread). On the launch path this replaces a helper
// thread per netlink exchange (an 8 MiB stack mapping, clone and join: about 0.2 ms
// here). Returns an invalid descriptor with errno set if the socket cannot be made;
// aborts if the thread cannot return to its own namespace, since the supervisor must
// never go on inside a sandbox's network.
UniqueFd socket_in_netns(int netns_fd, int domain, int type, int protocol);

}  // namespace nonaxis::sandbox
