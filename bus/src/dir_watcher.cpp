#include "nonaxis/bus/dir_watcher.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstring>

namespace nonaxis::bus {

DirWatcher::DirWatcher(const std::vector<std::string>& dirs) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) throw IoError("inotify_init1", errno);
  inotify_.reset(fd);
  for (const auto& d : dirs) {
    // IN_MOVED_TO: rename-published files; IN_CREATE: link-published ones.
    const int wd = ::inotify_add_watch(fd, d.c_str(), IN_MOVED_TO | IN_CREATE | IN_ONLYDIR | IN_DONT_FOLLOW);
    if (wd < 0) throw IoError("inotify_add_watch " + d, errno);
    wds_.push_back(wd);
  }
}

DirWatcher::Batch DirWatcher::wait(std::chrono::milliseconds timeout, const StopSignal* stop) {
  Batch batch;
  std::array<pollfd, 2> pfds{{{inotify_.get(), POLLIN, 0}, {stop ? stop->fd() : -1, POLLIN, 0}}};
  const int n = ::poll(pfds.data(), stop ? 2 : 1, static_cast<int>(timeout.count()));
  if (n < 0 && errno != EINTR) throw IoError("poll", errno);
  if (stop && stop->requested()) batch.stop = true;
  if (n <= 0) return batch;
  alignas(inotify_event) char buf[64 * 1024];
  for (;;) {
    const ssize_t len = ::read(inotify_.get(), buf, sizeof buf);
    if (len < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      throw IoError("read inotify", errno);
    }
    for (ssize_t off = 0; off < len;) {
      inotify_event ev{};
      std::memcpy(&ev, buf + off, sizeof ev);
      if (ev.mask & IN_Q_OVERFLOW) batch.rescan = true;
      if (ev.len > 0) {
        const char* name = buf + off + static_cast<ssize_t>(sizeof(inotify_event));
        for (std::size_t i = 0; i < wds_.size(); ++i) {
          if (wds_[i] == ev.wd && name[0] != '.') batch.names.emplace_back(i, std::string(name));
        }
      }
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev.len);
    }
  }
  return batch;
}

StopSignal::StopSignal() {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw IoError("eventfd", errno);
  fd_.reset(fd);
}

void StopSignal::request() const {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(fd_.get(), &one, sizeof one);
}

bool StopSignal::requested() const {
  pollfd p{fd_.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

namespace {
const StopSignal* g_stop = nullptr;
extern "C" void on_stop_signal(int) {
  if (g_stop != nullptr) g_stop->request();
}
}  // namespace

void StopSignal::install_handlers(const StopSignal& s) {
  g_stop = &s;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
}

}  // namespace nonaxis::bus
