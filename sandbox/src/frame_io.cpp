#include "nonaxis/sandbox/frame_io.hpp"

#include "nonaxis/sandbox/fd_passing.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace nonaxis::sandbox {
namespace {

// Reads exactly `n` bytes; the first recvmsg collects attached descriptors.
std::string read_exact(int sock, char* buf, std::size_t n, std::vector<UniqueFd>* fds, bool& eof_at_start) {
  std::size_t got = 0;
  eof_at_start = false;
  bool first = true;
  while (got < n) {
    const iovec iov{buf + got, n - got};
    int raw[kMaxFrameFds];
    std::size_t nfds = 0;
    int flags = 0;
    // Descriptors ride on the frame's first byte; any arriving later are closed.
    const ssize_t r = recv_with_fds(sock, &iov, 1, raw, first ? kMaxFrameFds : 0, &nfds, &flags);
    if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : std::strerror(errno);
    std::vector<UniqueFd> received(raw, raw + nfds);  // owned at once, so an error below closes them
    if (first && (flags & MSG_CTRUNC) != 0) return "too many descriptors attached";
    if (fds != nullptr) {
      for (auto& fd : received) fds->push_back(std::move(fd));
    }
    if (r == 0) {
      eof_at_start = got == 0;
      return "connection closed";
    }
    got += static_cast<std::size_t>(r);
    first = false;
  }
  return "";
}

}  // namespace

sockaddr_un unix_socket_address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.sun_path) {
    throw std::runtime_error("socket path must be 1 to " + std::to_string(sizeof a.sun_path - 1) + " bytes");
  }
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

std::string send_frame(int sock, std::string_view data, const std::vector<int>& fds) {
  if (data.size() > UINT32_MAX) return "frame too large";
  if (fds.size() > kMaxFrameFds) return "too many descriptors";
  const auto len = static_cast<std::uint32_t>(data.size());
  const unsigned char header[4] = {static_cast<unsigned char>(len >> 24), static_cast<unsigned char>(len >> 16),
                                   static_cast<unsigned char>(len >> 8), static_cast<unsigned char>(len)};
  std::size_t sent = 0;
  const std::size_t total = sizeof header + data.size();
  while (sent < total) {
    iovec iov[2];
    int n_iov = 0;
    if (sent < sizeof header) iov[n_iov++] = {const_cast<unsigned char*>(header) + sent, sizeof header - sent};
    const std::size_t data_off = sent < sizeof header ? 0 : sent - sizeof header;
    if (data_off < data.size()) iov[n_iov++] = {const_cast<char*>(data.data()) + data_off, data.size() - data_off};
    const ssize_t r = send_with_fds(sock, iov, static_cast<std::size_t>(n_iov), fds.data(), sent == 0 ? fds.size() : 0);
    if (r <= 0) return r < 0 ? std::strerror(errno) : "short write";
    sent += static_cast<std::size_t>(r);
  }
  return "";
}

std::optional<std::string> recv_frame(int sock, std::size_t max_bytes, std::vector<UniqueFd>* fds,
                                      std::string& error) {
  unsigned char header[4];
  bool eof_at_start = false;
  std::vector<UniqueFd> received;
  error = read_exact(sock, reinterpret_cast<char*>(header), sizeof header, &received, eof_at_start);
  if (!error.empty()) {
    if (eof_at_start) error.clear();
    return std::nullopt;
  }
  const std::uint32_t len = (std::uint32_t{header[0]} << 24) | (std::uint32_t{header[1]} << 16) |
                            (std::uint32_t{header[2]} << 8) | std::uint32_t{header[3]};
  if (len > max_bytes) {
    error = "frame of " + std::to_string(len) + " bytes is over the bound of " + std::to_string(max_bytes);
    return std::nullopt;
  }
  std::string data(len, '\0');
  bool ignored = false;
  if (len > 0) {
    error = read_exact(sock, data.data(), len, nullptr, ignored);
    if (!error.empty()) return std::nullopt;
  }
  if (fds != nullptr) {
    for (auto& fd : received) fds->push_back(std::move(fd));
  }
  return data;
}

}  // namespace nonaxis::sandbox
