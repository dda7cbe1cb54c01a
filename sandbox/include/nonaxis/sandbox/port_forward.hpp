#pragma once
// Runner mode: the runner listens on 127.0.0.1:<port> inside its own network
// namespace, which has no route to anywhere. The only way in is this forwarder: it
// listens on the host's loopback and relays each connection into the namespace.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nonaxis/sandbox/unique_fd.hpp"

namespace nonaxis::sandbox {

class PortForwarder {
 public:
  PortForwarder() = default;
  ~PortForwarder() { stop(); }
  PortForwarder(const PortForwarder&) = delete;
  PortForwarder& operator=(const PortForwarder&) = delete;

  // Binds 127.0.0.1:host_port (0 picks one). Returns "" or an error.
  std::string listen(std::uint16_t host_port);
  // Starts relaying to 127.0.0.1:inner_port inside `netns_fd` (kept open by the caller).
  void start(int netns_fd, std::uint16_t inner_port);
  std::uint16_t host_port() const { return host_port_; }
  std::uint64_t connections() const { return connections_.load(); }
  void stop();

 private:
  void accept_loop();
  void relay(int client);

  UniqueFd listener_;
  UniqueFd stop_event_;
  int netns_fd_ = -1;
  std::uint16_t host_port_ = 0;
  std::uint16_t inner_port_ = 0;
  std::atomic<std::uint64_t> connections_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> relays_;
};

}  // namespace nonaxis::sandbox
