#include "nonaxis/bus/group_commit.hpp"

#include <vector>

namespace nonaxis::bus {

GroupCommitter::GroupCommitter(const std::string& dir) : dir_(open_dir(dir)) {}

WriteOutcome GroupCommitter::write(std::string name, std::string data) {
  auto mine = std::make_shared<Pending>(Pending{std::move(name), std::move(data), std::nullopt, nullptr});
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(mine);
  while (!mine->outcome && !mine->error) {
    if (leader_active_) {
      done_.wait(lock);
      continue;
    }
    // Become the leader for everything queued so far.
    leader_active_ = true;
    std::vector<std::shared_ptr<Pending>> batch(queue_.begin(), queue_.end());
    queue_.clear();
    lock.unlock();
    std::vector<WriteOutcome> outcomes;
    std::exception_ptr error;
    try {
      BatchWriter writer;
      for (const auto& p : batch) writer.add(dir_.get(), p->name, p->data);
      outcomes = writer.commit();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (error) {
        batch[i]->error = error;
      } else {
        batch[i]->outcome = outcomes[i];
      }
    }
    leader_active_ = false;
    done_.notify_all();
  }
  if (mine->error) std::rethrow_exception(mine->error);
  return *mine->outcome;
}

}  // namespace nonaxis::bus
