#include "nonaxis/bus/queue_reader.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "nonaxis/bus/fd.hpp"

namespace nonaxis::bus {
namespace {

ReadResult refused(std::string reason, std::string detail) {
  ReadResult r;
  r.status = ReadResult::Status::kRefused;
  r.reason = std::move(reason);
  r.detail = std::move(detail);
  return r;
}

}  // namespace

ReadResult read_queue_file(int dirfd, const std::string& name, const ReadPolicy& policy) {
  // O_NONBLOCK: a FIFO planted in the queue must not hang the reader before fstat refuses it.
  const int raw = ::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (raw < 0) {
    const int err = errno;
    if (err == ENOENT) return ReadResult{};
    if (err == ELOOP) return refused("symlink", name + " is a symbolic link");
    return refused("io_error", "cannot open " + name + ": " + IoError::errno_text(err));
  }
  UniqueFd fd(raw);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return refused("io_error", "cannot stat " + name);
  if (!S_ISREG(st.st_mode)) return refused("not_regular", name + " is not a regular file");
  if (st.st_nlink != 1) return refused("hardlinked", name + " has " + std::to_string(st.st_nlink) + " links");
  if (policy.owner && st.st_uid != *policy.owner) {
    return refused("wrong_owner", name + " is owned by uid " + std::to_string(st.st_uid));
  }
  if (static_cast<std::size_t>(st.st_size) > policy.max_bytes) {
    return refused("oversized", name + " is " + std::to_string(st.st_size) + " bytes; limit " +
                                    std::to_string(policy.max_bytes));
  }
  ReadResult r;
  // Read up to one byte past the limit, so a file that grows after fstat stays bounded.
  r.data.resize(std::min(static_cast<std::size_t>(st.st_size), policy.max_bytes) + 1);
  std::size_t got = 0;
  for (;;) {
    if (got == r.data.size()) {
      if (r.data.size() > policy.max_bytes) break;
      r.data.resize(std::min(r.data.size() * 2, policy.max_bytes + 1));
    }
    const ssize_t n = ::read(fd.get(), r.data.data() + got, r.data.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return refused("io_error", "cannot read " + name);
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > policy.max_bytes) return refused("oversized", name + " grew past the size limit");
  r.data.resize(got);
  r.status = ReadResult::Status::kOk;
  return r;
}

std::vector<std::string> list_names(int dirfd, bool include_hidden) {
  const int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) throw IoError("dup directory", errno);
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    ::close(dup);
    throw IoError("fdopendir", errno);
  }
  ::rewinddir(d);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    const std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    if (include_hidden || n[0] != '.') names.emplace_back(n);
  }
  ::closedir(d);
  return names;
}

uid_t owner_of(int dirfd) {
  struct stat st {};
  if (::fstat(dirfd, &st) != 0) throw IoError("stat directory", errno);
  return st.st_uid;
}

}  // namespace nonaxis::bus
