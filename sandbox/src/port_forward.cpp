#include "nonaxis/sandbox/port_forward.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace nonaxis::sandbox {
namespace {
constexpr std::size_t kMaxRelays = 64;
}

std::string PortForwarder::listen(std::uint16_t host_port) {
  listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener_.valid()) return std::string("socket: ") + std::strerror(errno);
  const int one = 1;
  ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(host_port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // host loopback only, never an external address
  if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(listener_.get(), 64) != 0) {
    return "bind 127.0.0.1:" + std::to_string(host_port) + ": " + std::strerror(errno);
  }
  socklen_t len = sizeof sa;
  ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&sa), &len);
  host_port_ = ntohs(sa.sin_port);
  stop_event_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  return stop_event_.valid() ? "" : "eventfd failed";
}

void PortForwarder::start(int netns_fd, std::uint16_t inner_port) {
  netns_fd_ = netns_fd;
  inner_port_ = inner_port;
  acceptor_ = std::thread([this] { accept_loop(); });
}

void PortForwarder::stop() {
  if (stop_event_.valid()) {
    const std::uint64_t one = 1;
    (void)!::write(stop_event_.get(), &one, sizeof one);
  }
  if (acceptor_.joinable()) acceptor_.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& t : relays_) {
    if (t.joinable()) t.join();
  }
  relays_.clear();
}

void PortForwarder::accept_loop() {
  for (;;) {
    std::array<pollfd, 2> fds{{{listener_.get(), POLLIN, 0}, {stop_event_.get(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
    if ((fds[1].revents & POLLIN) != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int c = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (relays_.size() >= kMaxRelays) {
      ::close(c);
      continue;
    }
    ++connections_;
    relays_.emplace_back([this, c] { relay(c); });
  }
}

void PortForwarder::relay(int client_fd) {
  UniqueFd client(client_fd);
  // This thread joins the runner's namespace, so the upstream socket lives there.
  if (::setns(netns_fd_, CLONE_NEWNET) != 0) return;
  UniqueFd up(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!up.valid()) return;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(inner_port_);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(up.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return;
  std::array<char, 16384> buf{};
  bool c_open = true, u_open = true;
  while (c_open || u_open) {
    std::array<pollfd, 3> fds{{{c_open ? client.get() : -1, POLLIN, 0},
                               {u_open ? up.get() : -1, POLLIN, 0},
                               {stop_event_.get(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
    if ((fds[2].revents & POLLIN) != 0) return;
    for (int i = 0; i < 2; ++i) {
      if ((fds[static_cast<std::size_t>(i)].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const int from = i == 0 ? client.get() : up.get();
      const int to = i == 0 ? up.get() : client.get();
      const ssize_t n = ::read(from, buf.data(), buf.size());
      if (n <= 0) {
        ::shutdown(to, SHUT_WR);
        (i == 0 ? c_open : u_open) = false;
        continue;
      }
      std::size_t off = 0;
      while (off < static_cast<std::size_t>(n)) {
        const ssize_t w = ::send(to, buf.data() + off, static_cast<std::size_t>(n) - off, MSG_NOSIGNAL);
        if (w <= 0) return;
        off += static_cast<std::size_t>(w);
      }
    }
  }
}

}  // namespace nonaxis::sandbox
