#pragma once
// New-file notification for queue directories. inotify gives sub-millisecond
// pickup; a full rescan happens at start, on queue overflow and on a slow timer,
// so a missed event can delay an item but never lose it.
#include <chrono>
#include <string>
#include <vector>

#include "nonaxis/bus/fd.hpp"

namespace nonaxis::bus {

class StopSignal;

class DirWatcher {
 public:
  // Watches each directory in `dirs` (index = position in the vector).
  explicit DirWatcher(const std::vector<std::string>& dirs);

  struct Batch {
    std::vector<std::pair<std::size_t, std::string>> names;  // (directory index, file name)
    bool rescan = false;                                     // overflow or timer: re-list everything
    bool stop = false;                                       // the stop signal fired
  };

  // Blocks up to `timeout` for events. Sets rescan when the kernel queue overflowed.
  Batch wait(std::chrono::milliseconds timeout, const StopSignal* stop = nullptr);

 private:
  UniqueFd inotify_;
  std::vector<int> wds_;
};

// Async-signal-safe stop request: SIGTERM/SIGINT handlers call request(),
// and DirWatcher::wait() wakes up on it.
class StopSignal {
 public:
  StopSignal();
  void request() const;
  bool requested() const;
  int fd() const { return fd_.get(); }
  // Installs SIGTERM and SIGINT handlers that call request() on `s`.
  static void install_handlers(const StopSignal& s);

 private:
  UniqueFd fd_;
};

}  // namespace nonaxis::bus
