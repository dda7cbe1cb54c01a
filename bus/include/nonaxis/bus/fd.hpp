#pragma once
// RAII for file descriptors and the errno-carrying exception every I/O path throws.
#include <cerrno>
#include <stdexcept>
#include <string>
#include <utility>

namespace nonaxis::bus {

class IoError : public std::runtime_error {
 public:
  IoError(const std::string& what, int err) : std::runtime_error(what + ": " + errno_text(err)), errno_(err) {}
  int code() const { return errno_; }
  static std::string errno_text(int err);

 private:
  int errno_;
};

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Opens a directory (O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC); throws IoError.
UniqueFd open_dir(const std::string& path);

// fsync() that throws on failure: a lost write-back error must never pass silently.
void fsync_or_throw(int fd, const std::string& what);

// Writes all of `data`, retrying short writes and EINTR.
void write_all(int fd, const char* data, std::size_t len, const std::string& what);

}  // namespace nonaxis::bus
