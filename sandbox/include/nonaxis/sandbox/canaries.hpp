#pragma once
// ADR-010 canary files in every workspace. THESE ARE NOT REAL CREDENTIALS: each holds
// a random marker and exists only to be noticed. No legitimate content has a reason
// to open them; any access is reported as an incident in the execution record.
#include <string>
#include <vector>

#include "nonaxis/sandbox/unique_fd.hpp"

namespace nonaxis::sandbox {

struct CanaryTouch {
  std::string file;
  std::string what;  // "opened", "read", "modified", "attributes", "deleted", "moved"
};

class CanarySet {
 public:
  // Creates the canary files in `workspace`, owned by uid/gid, and watches them
  // with inotify. Throws std::system_error.
  CanarySet(const std::string& workspace, unsigned uid, unsigned gid);
  // Closing the last reference to an inotify descriptor waits for an SRCU grace
  // period (~12 ms). After a run the launcher hands the descriptor (release_fd) to its
  // post-run helper, so the caller does not wait; only a launch that failed during
  // setup closes it here and pays the wait.
  ~CanarySet();
  CanarySet(const CanarySet&) = delete;
  CanarySet& operator=(const CanarySet&) = delete;

  int fd() const { return inotify_.get(); }
  // Gives up the inotify descriptor (for the launcher's post-run helper to close).
  int release_fd() { return inotify_.release(); }
  // Reads pending inotify events (non-blocking) into touches().
  void drain();
  const std::vector<CanaryTouch>& touches() const { return touches_; }
  const std::vector<std::string>& names() const { return names_; }

 private:
  UniqueFd inotify_;
  std::vector<std::string> names_;
  std::vector<int> watches_;
  std::vector<CanaryTouch> touches_;
};

}  // namespace nonaxis::sandbox
