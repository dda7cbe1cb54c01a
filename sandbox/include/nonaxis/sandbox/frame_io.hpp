#pragma once
// Length-prefixed frames on a connected AF_UNIX stream socket, the resident
// supervisor's wire format (docs/SANDBOX.md, "Resident supervisor"): a 4-byte
// big-endian length, then that many bytes. Descriptors (SCM_RIGHTS) ride on the
// frame's first byte. Every frame is bounded by the reader.
#include <sys/un.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nonaxis/sandbox/fd_passing.hpp"
#include "nonaxis/sandbox/unique_fd.hpp"

namespace nonaxis::sandbox {

inline constexpr std::size_t kMaxFrameFds = kMaxPassedFds;

// The address of a socket file; throws std::runtime_error when the path does not fit.
sockaddr_un unix_socket_address(const std::string& path);

// Sends one frame with `fds` attached. Returns "" or the error.
std::string send_frame(int sock, std::string_view data, const std::vector<int>& fds = {});

// Receives one frame of at most `max_bytes`, and up to kMaxFrameFds descriptors
// (CLOEXEC) into `fds` when it is not null (else any attached descriptor is closed).
// nullopt with `error` set on EOF ("" for a clean EOF before the frame), a timeout, a
// frame over the bound or truncated descriptors.
std::optional<std::string> recv_frame(int sock, std::size_t max_bytes, std::vector<UniqueFd>* fds,
                                      std::string& error);

}  // namespace nonaxis::sandbox
