#pragma once
// One inotify watch on decisions/ per Client, shared by every thread waiting for a
// decision. A single thread reads the events and wakes only the waiters whose
// request an event names, so N concurrent submitters cost one watch, not N, and
// nobody pays the ~10 ms it takes the kernel to close an inotify descriptor.
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "nonaxis/bus/dir_watcher.hpp"

namespace nonaxis::op {

class DecisionWatch {
 public:
  explicit DecisionWatch(const std::string& dir);
  ~DecisionWatch();
  DecisionWatch(const DecisionWatch&) = delete;
  DecisionWatch& operator=(const DecisionWatch&) = delete;

  // Registration of interest in one request; events are counted from construction
  // on, so none between the caller's first look and its first wait is lost.
  class Interest {
   public:
    Interest(DecisionWatch& w, const std::string& id);
    ~Interest();
    Interest(const Interest&) = delete;
    Interest& operator=(const Interest&) = delete;
    // Blocks until an event names the request (true) or `deadline` passes (false).
    bool wait_until(std::chrono::steady_clock::time_point deadline);

   private:
    DecisionWatch& w_;
    std::string id_;
    std::uint64_t seen_ = 0;
  };

 private:
  struct Slot {
    std::condition_variable cv;
    std::uint64_t events = 0;
    int waiters = 0;
  };
  void run();

  bus::DirWatcher watcher_;
  bus::StopSignal stop_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;
  std::thread thread_;
};

}  // namespace nonaxis::op
