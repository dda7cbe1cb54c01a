#pragma once
// Group commit for many threads creating queue files in one directory. Each caller
// blocks until its file is durable, but concurrent callers share the flush: while
// one leader commits a batch (temps, one flush, renames, one directory fsync), new
// arrivals queue up and the next leader takes them all. One thread alone pays the
// same as write_new_file().
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "nonaxis/bus/durable_file.hpp"
#include "nonaxis/bus/fd.hpp"

namespace nonaxis::bus {

class GroupCommitter {
 public:
  explicit GroupCommitter(const std::string& dir);

  // Durably creates dir/name (NOREPLACE); rethrows the batch's I/O error, if any.
  WriteOutcome write(std::string name, std::string data);

 private:
  struct Pending {
    std::string name;
    std::string data;
    std::optional<WriteOutcome> outcome;
    std::exception_ptr error;
  };

  UniqueFd dir_;
  std::mutex mu_;
  std::condition_variable done_;
  std::deque<std::shared_ptr<Pending>> queue_;
  bool leader_active_ = false;
};

}  // namespace nonaxis::bus
