#pragma once
// Runs a function in another network namespace without moving the supervisor: a
// short-lived thread joins the namespace (setns is per-thread for CLONE_NEWNET), so
// sockets it opens belong to that namespace.
#include <sched.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

namespace nonaxis::sandbox {

template <class F>
std::string in_netns(int netns_fd, F&& f) {
  std::string result;
  std::thread t([&]() {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
      result = std::string("setns: ") + std::strerror(errno);
      return;
    }
    try {
      result = f();
    } catch (const std::exception& e) {
      result = e.what();
    }
  });
  t.join();
  return result;
}

}  // namespace nonaxis::sandbox
