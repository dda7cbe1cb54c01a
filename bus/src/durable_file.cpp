#include "nonaxis/bus/durable_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/fd.hpp"
#include "nonaxis/bus/queue_reader.hpp"

namespace nonaxis::bus {
namespace {

constexpr std::string_view kTempPrefix = ".tmp-";

std::string temp_name() { return std::string(kTempPrefix) + to_hex(random_bytes(12)); }

UniqueFd create_temp(int dirfd, const std::string& tmp, mode_t mode) {
  const int fd = ::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) throw IoError("create " + tmp, errno);
  // The umask must not widen or narrow what the protocol's directory rights expect.
  if (::fchmod(fd, mode) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlinkat(dirfd, tmp.c_str(), 0);
    throw IoError("fchmod " + tmp, err);
  }
  return UniqueFd(fd);
}

// RENAME_NOREPLACE makes "publish" and "detect a duplicate" one atomic step.
// Filesystems without it (EINVAL) fall back to link()+unlink(), which is equally
// exclusive: link() fails with EEXIST instead of replacing.
WriteOutcome publish(int dirfd, const std::string& tmp, const std::string& name) {
  if (::syscall(SYS_renameat2, dirfd, tmp.c_str(), dirfd, name.c_str(), RENAME_NOREPLACE) == 0) {
    return WriteOutcome::kCreated;
  }
  int err = errno;
  if (err == EINVAL || err == ENOSYS) {
    if (::linkat(dirfd, tmp.c_str(), dirfd, name.c_str(), 0) == 0) {
      ::unlinkat(dirfd, tmp.c_str(), 0);
      return WriteOutcome::kCreated;
    }
    err = errno;
  }
  ::unlinkat(dirfd, tmp.c_str(), 0);
  if (err == EEXIST) return WriteOutcome::kAlreadyExists;
  throw IoError("publish " + name, err);
}

}  // namespace

bool is_temp_name(std::string_view name) { return name.substr(0, kTempPrefix.size()) == kTempPrefix; }

WriteOutcome write_new_file(int dirfd, const std::string& name, std::string_view data, mode_t mode) {
  const std::string tmp = temp_name();
  {
    UniqueFd fd = create_temp(dirfd, tmp, mode);
    try {
      write_all(fd.get(), data.data(), data.size(), tmp);
      if (::fdatasync(fd.get()) != 0) throw IoError("fdatasync " + tmp, errno);
    } catch (...) {
      ::unlinkat(dirfd, tmp.c_str(), 0);
      throw;
    }
  }
  const WriteOutcome out = publish(dirfd, tmp, name);
  if (out == WriteOutcome::kCreated) fsync_or_throw(dirfd, "directory of " + name);
  return out;
}

WriteOutcome publish_new_file(int dirfd, const std::string& name, std::string_view data, mode_t mode) {
  const std::string tmp = temp_name();
  {
    UniqueFd fd = create_temp(dirfd, tmp, mode);
    try {
      write_all(fd.get(), data.data(), data.size(), tmp);
    } catch (...) {
      ::unlinkat(dirfd, tmp.c_str(), 0);
      throw;
    }
  }
  return publish(dirfd, tmp, name);
}

void BatchWriter::add(int dirfd, std::string name, std::string data, mode_t mode) {
  items_.push_back(Item{dirfd, std::move(name), std::move(data), mode});
}

std::vector<WriteOutcome> BatchWriter::commit() {
  std::vector<std::string> temps;
  temps.reserve(items_.size());
  auto cleanup = [&] {
    for (std::size_t i = 0; i < temps.size(); ++i) ::unlinkat(items_[i].dirfd, temps[i].c_str(), 0);
  };
  std::vector<WriteOutcome> outcomes;
  try {
    int sync_fd = -1;
    for (auto& it : items_) {
      temps.push_back(temp_name());
      UniqueFd fd = create_temp(it.dirfd, temps.back(), it.mode);
      write_all(fd.get(), it.data.data(), it.data.size(), temps.back());
      if (items_.size() == 1 && ::fdatasync(fd.get()) != 0) throw IoError("fdatasync " + temps.back(), errno);
      sync_fd = it.dirfd;
    }
    // One flush for the whole batch. syncfs() reports write-back errors since Linux 5.8.
    if (items_.size() > 1 && ::syncfs(sync_fd) != 0) throw IoError("syncfs", errno);
  } catch (...) {
    cleanup();
    items_.clear();
    throw;
  }
  std::vector<int> dirs;
  for (std::size_t i = 0; i < items_.size(); ++i) {
    outcomes.push_back(publish(items_[i].dirfd, temps[i], items_[i].name));
    if (std::find(dirs.begin(), dirs.end(), items_[i].dirfd) == dirs.end()) dirs.push_back(items_[i].dirfd);
  }
  for (int d : dirs) fsync_or_throw(d, "queue directory");
  items_.clear();
  return outcomes;
}

void remove_stale_temps(int dirfd) {
  for (const auto& n : list_names(dirfd, /*include_hidden=*/true)) {
    if (is_temp_name(n)) ::unlinkat(dirfd, n.c_str(), 0);
  }
}

}  // namespace nonaxis::bus

namespace nonaxis::bus {
void replace_file(int dirfd, const std::string& name, std::string_view data, bool durable, mode_t mode) {
  const std::string tmp = temp_name();
  {
    UniqueFd fd = create_temp(dirfd, tmp, mode);
    try {
      write_all(fd.get(), data.data(), data.size(), tmp);
      if (durable && ::fdatasync(fd.get()) != 0) throw IoError("fdatasync " + tmp, errno);
    } catch (...) {
      ::unlinkat(dirfd, tmp.c_str(), 0);
      throw;
    }
  }
  if (::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) != 0) {
    const int err = errno;
    ::unlinkat(dirfd, tmp.c_str(), 0);
    throw IoError("rename " + name, err);
  }
  if (durable) fsync_or_throw(dirfd, "directory of " + name);
}
}  // namespace nonaxis::bus
