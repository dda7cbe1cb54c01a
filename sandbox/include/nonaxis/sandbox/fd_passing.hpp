#pragma once
// Descriptors over AF_UNIX sockets (SCM_RIGHTS), the one implementation the launcher
// (child <-> supervisor, between clone and exec) and the resident supervisor's frames
// share. Neither function allocates, so a freshly cloned child may call them.
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>

namespace nonaxis::sandbox {

inline constexpr std::size_t kMaxPassedFds = 4;

// sendmsg of `iov` with `nfds` (at most kMaxPassedFds) descriptors attached; retries
// EINTR, never raises SIGPIPE. Returns the bytes sent or -1 (errno).
ssize_t send_with_fds(int sock, const iovec* iov, std::size_t iovcnt, const int* fds, std::size_t nfds);

// recvmsg into `iov`; attached descriptors (CLOEXEC) go to `fds`, at most `max_fds`
// of them, their count to `*nfds`; any beyond are closed. `*flags` gets msg_flags
// (MSG_TRUNC, MSG_CTRUNC). Retries EINTR. Returns the bytes received or -1 (errno).
ssize_t recv_with_fds(int sock, const iovec* iov, std::size_t iovcnt, int* fds, std::size_t max_fds,
                      std::size_t* nfds, int* flags);

}  // namespace nonaxis::sandbox
