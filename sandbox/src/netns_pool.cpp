#include "nonaxis/sandbox/netns_pool.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/sandbox/durable_write.hpp"
#include "nonaxis/sandbox/egress.hpp"
#include "nonaxis/sandbox/privileges.hpp"

namespace nonaxis::sandbox {
namespace {

// <id>.ns is the bind mount pinning the namespace; <id>.free exists while nobody has
// claimed it. A mount point cannot be renamed (EBUSY), so the claim is the unlink of
// the marker: of two launches racing for one entry, exactly one unlink succeeds.
constexpr std::string_view kNs = ".ns";
constexpr std::string_view kFree = ".free";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::vector<std::string> entries(const std::filesystem::path& dir, std::string_view suffix) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    if (ends_with(e->d_name, suffix)) out.emplace_back(e->d_name);
  }
  ::closedir(d);
  return out;
}

bool is_netns(int fd) {
  struct statfs sf {};
  return ::fstatfs(fd, &sf) == 0 && sf.f_type == NSFS_MAGIC && ::ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET;
}

// One namespace, made in this (disposable helper) process: loopback up, the
// no-hosts egress table, then pinned by a bind mount and published by rename.
bool make_one(const std::filesystem::path& dir) {
  if (::unshare(CLONE_NEWNET) != 0) return false;
  if (bring_up_loopback() != 0) return false;
  UniqueFd self(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!self.valid() || !install_egress_table(self.get(), EgressPlan{}).empty()) return false;
  const std::string id = bus::uuid_v4();
  const std::filesystem::path ns = dir / (id + std::string(kNs));
  UniqueFd f(::open(ns.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!f.valid()) return false;
  f.reset();
  if (::mount("/proc/thread-self/ns/net", ns.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    ::unlink(ns.c_str());
    return false;
  }
  // Offered only now that it is complete.
  UniqueFd marker(::open((dir / (id + std::string(kFree))).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                         0600));
  return marker.valid();
}

std::string id_of(const std::string& name, std::string_view suffix) { return name.substr(0, name.size() - suffix.size()); }

}  // namespace

NetnsPool::NetnsPool(std::filesystem::path dir) : dir_(std::move(dir)) { ensure_directory(dir_, 0700); }

std::size_t NetnsPool::ready_count() const { return entries(dir_, kFree).size(); }

UniqueFd NetnsPool::claim() {
  for (const auto& name : entries(dir_, kFree)) {
    if (::unlink((dir_ / name).c_str()) != 0) continue;  // another launch won it
    UniqueFd fd(::open((dir_ / (id_of(name, kFree) + std::string(kNs))).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    // After a reboot the file is still there but nothing is mounted on it.
    if (fd.valid() && is_netns(fd.get())) return fd;
  }
  return UniqueFd();
}

namespace {

// Unmounting drops the pool's reference, so the namespace dies once its execution
// (if any) has let go of it too.
// `all`: every entry; otherwise only claimed ones (an .ns without its .free marker).
std::size_t remove_entries(const std::filesystem::path& dir, bool all) {
  std::size_t n = 0;
  if (all) {
    for (const auto& name : entries(dir, kFree)) (void)::unlink((dir / name).c_str());
  }
  for (const auto& name : entries(dir, kNs)) {
    const std::filesystem::path p = dir / name;
    struct stat st {};
    if (!all && ::lstat((dir / (id_of(name, kNs) + std::string(kFree))).c_str(), &st) == 0) continue;
    (void)::umount2(p.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
    if (::unlink(p.c_str()) == 0) ++n;
  }
  return n;
}

}  // namespace

UniqueFd NetnsPool::lock(int how) const {
  UniqueFd fd(::open((dir_ / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  int rc = -1;
  while (fd.valid() && (rc = ::flock(fd.get(), how)) != 0 && errno == EINTR) {
  }
  return rc == 0 ? std::move(fd) : UniqueFd();
}

std::size_t NetnsPool::drain() {
  const UniqueFd held = lock(LOCK_EX);
  return held.valid() ? remove_entries(dir_, true) : 0;
}

std::size_t NetnsPool::refill(std::size_t target) {
  const UniqueFd held = try_lock();
  return held.valid() ? refill_with_lock_held(target) : 0;
}

std::size_t NetnsPool::refill_with_lock_held(std::size_t target) {
  remove_entries(dir_, false);
  target = std::min<std::size_t>(target, 16);  // a pool, not a hoard
  std::size_t made = 0;
  for (std::size_t have = ready_count(); have < target; ++have) {
    if (!make_one(dir_)) break;
    ++made;
  }
  return made;
}

UniqueFd NetnsPool::try_lock() { return lock(LOCK_EX | LOCK_NB); }

}  // namespace nonaxis::sandbox
