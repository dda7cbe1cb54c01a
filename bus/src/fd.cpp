#include "nonaxis/bus/fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

namespace nonaxis::bus {

std::string IoError::errno_text(int err) { return std::strerror(err); }

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

UniqueFd open_dir(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw IoError("open directory " + path, errno);
  return UniqueFd(fd);
}

void fsync_or_throw(int fd, const std::string& what) {
  if (::fsync(fd) != 0) throw IoError("fsync " + what, errno);
}

void write_all(int fd, const char* data, std::size_t len, const std::string& what) {
  while (len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError("write " + what, errno);
    }
    data += n;
    len -= static_cast<std::size_t>(n);
  }
}

}  // namespace nonaxis::bus
