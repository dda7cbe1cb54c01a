#include "nonaxis/sandbox/events.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "nonaxis/bus/clock.hpp"
#include "nonaxis/sandbox/unique_fd.hpp"

namespace nonaxis::sandbox {

EventSink::EventSink(std::filesystem::path log_path, bool echo_stderr)
    : log_path_(std::move(log_path)), echo_stderr_(echo_stderr) {}

void EventSink::emit(const std::string& event, bus::Json fields) const {
  try {
    fields["event"] = event;
    fields["ts"] = bus::rfc3339_micro(std::chrono::system_clock::now());
    fields["source"] = "sandbox";
    const std::string line = bus::canonical_dump(fields) + "\n";
    if (echo_stderr_) {
      (void)!::write(STDERR_FILENO, line.data(), line.size());
    }
    if (capture_ != nullptr) capture_->append(line);
    if (!log_path_.empty()) {
      // One write(2) of a whole line under O_APPEND: concurrent sandboxes never
      // interleave within a line.
      UniqueFd fd(::open(log_path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
      if (fd.valid()) {
        if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
          std::fputs("nonaxis-sandbox: event log write was short\n", stderr);
        }
        // Refusals and incidents must survive a crash; a routine "executed" event
        // duplicates the durable execution record, so it skips the sync.
        if (event != "sandbox.executed" && event != "sandbox.runner_listening") (void)::fdatasync(fd.get());
      } else {
        std::fputs("nonaxis-sandbox: cannot open event log\n", stderr);
      }
    }
  } catch (...) {
    std::fputs("nonaxis-sandbox: event could not be written\n", stderr);
  }
}

}  // namespace nonaxis::sandbox
