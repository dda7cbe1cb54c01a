#include "decision_watch.hpp"

namespace nonaxis::op {

DecisionWatch::DecisionWatch(const std::string& dir) : watcher_({dir}), thread_([this] { run(); }) {}

DecisionWatch::~DecisionWatch() {
  stop_.request();
  thread_.join();
}

void DecisionWatch::run() {
  for (;;) {
    const auto batch = watcher_.wait(std::chrono::milliseconds(1000), &stop_);
    if (batch.stop) return;
    std::lock_guard<std::mutex> lock(mu_);
    // On overflow every waiter looks again; otherwise only those an event names.
    for (auto& [id, slot] : slots_) {
      bool hit = batch.rescan;
      for (const auto& [dir, name] : batch.names) hit = hit || name.compare(0, id.size(), id) == 0;
      if (hit) {
        ++slot->events;
        slot->cv.notify_all();
      }
    }
  }
}

DecisionWatch::Interest::Interest(DecisionWatch& w, const std::string& id) : w_(w), id_(id) {
  std::lock_guard<std::mutex> lock(w_.mu_);
  auto& slot = w_.slots_[id_];
  if (!slot) slot = std::make_shared<Slot>();
  ++slot->waiters;
  seen_ = slot->events;
}

DecisionWatch::Interest::~Interest() {
  std::lock_guard<std::mutex> lock(w_.mu_);
  auto it = w_.slots_.find(id_);
  if (it != w_.slots_.end() && --it->second->waiters == 0) w_.slots_.erase(it);
}

bool DecisionWatch::Interest::wait_until(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(w_.mu_);
  const std::shared_ptr<Slot> slot = w_.slots_[id_];
  const bool hit = slot->cv.wait_until(lock, deadline, [&] { return slot->events != seen_; });
  seen_ = slot->events;
  return hit;
}

}  // namespace nonaxis::op
