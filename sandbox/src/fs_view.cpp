#include "nonaxis/sandbox/fs_view.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <string>

namespace nonaxis::sandbox {
namespace {

// /etc entries the dynamic loader, libc and TLS clients need; nothing secret.
// Directories are bound read-only; small files are copied into the view's tmpfs,
// which costs less than two mount(2) calls each.
constexpr std::array<const char*, 2> kEtcBinds = {"alternatives", "ssl"};
constexpr std::array<const char*, 5> kEtcCopies = {"ld.so.cache", "ld.so.conf", "localtime", "mime.types",
                                                  "protocols"};
constexpr std::size_t kMaxEtcCopy = 4U << 20;
constexpr std::array<const char*, 5> kDevNodes = {"null", "zero", "full", "random", "urandom"};

bool copy_small_file(const std::string& src, const std::string& dst) {
  struct stat st {};
  if (::lstat(src.c_str(), &st) != 0) return true;  // absent on this host: skip
  if (S_ISLNK(st.st_mode)) {
    std::array<char, PATH_MAX> buf{};
    const ssize_t n = ::readlink(src.c_str(), buf.data(), buf.size() - 1);
    return n >= 0 && ::symlink(std::string(buf.data(), static_cast<std::size_t>(n)).c_str(), dst.c_str()) == 0;
  }
  if (!S_ISREG(st.st_mode) || static_cast<std::size_t>(st.st_size) > kMaxEtcCopy) return true;
  const int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) return true;
  const int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  bool ok = out >= 0;
  // In-kernel copy: no buffer on the child's stack, whose pages would each take a
  // copy-on-write fault right after clone (about a third of the copy's cost).
  off_t at = 0;
  while (ok && at < st.st_size) {
    const ssize_t n = ::sendfile(out, in, &at, static_cast<std::size_t>(st.st_size - at));
    if (n <= 0) {
      ok = n == 0;  // shrank under us: keep what was copied
      break;
    }
  }
  ::close(in);
  if (out >= 0) ::close(out);
  return ok;
}

bool write_text(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// A bind mount inherits the source's locked flags (nosuid, noexec, atime...); a
// read-only remount inside a user namespace must repeat them or the kernel refuses.
unsigned long locked_flags(const std::string& path) {
  struct statvfs sv {};
  if (::statvfs(path.c_str(), &sv) != 0) return 0;
  unsigned long f = 0;
  if ((sv.f_flag & ST_NOSUID) != 0) f |= MS_NOSUID;
  if ((sv.f_flag & ST_NODEV) != 0) f |= MS_NODEV;
  if ((sv.f_flag & ST_NOEXEC) != 0) f |= MS_NOEXEC;
  if ((sv.f_flag & ST_NOATIME) != 0) f |= MS_NOATIME;
  if ((sv.f_flag & ST_NODIRATIME) != 0) f |= MS_NODIRATIME;
  if ((sv.f_flag & ST_RELATIME) != 0) f |= MS_RELATIME;
  return f;
}

bool bind(const std::string& src, const std::string& dst, bool read_only, unsigned long extra) {
  if (::mount(src.c_str(), dst.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) return false;
  const unsigned long flags = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | extra | (read_only ? static_cast<unsigned long>(MS_RDONLY) : 0UL) |
                              locked_flags(dst);
  return ::mount(nullptr, dst.c_str(), nullptr, flags, nullptr) == 0;
}

// Mirrors host `src` at `dst`: a symlink stays a symlink (merged /usr), a directory
// or file is bound read-only, an absent path is skipped.
bool mirror(const std::string& src, const std::string& dst) {
  struct stat st {};
  if (::lstat(src.c_str(), &st) != 0) return true;
  if (S_ISLNK(st.st_mode)) {
    std::array<char, PATH_MAX> buf{};
    const ssize_t n = ::readlink(src.c_str(), buf.data(), buf.size() - 1);
    if (n < 0) return false;
    return ::symlink(std::string(buf.data(), static_cast<std::size_t>(n)).c_str(), dst.c_str()) == 0;
  }
  if (S_ISDIR(st.st_mode)) {
    if (::mkdir(dst.c_str(), 0755) != 0) return false;
  } else {
    if (!write_text(dst, "")) return false;
  }
  return bind(src, dst, true, 0);
}

// Creates the missing directories of `path` beneath the view root `r`, and the final
// entry itself (directory or empty file) if the view has none yet.
bool make_mount_point(const std::string& r, const std::string& path, bool is_dir) {
  std::size_t pos = 1;
  while (pos <= path.size()) {
    const std::size_t end = std::min(path.find('/', pos), path.size());
    const std::string at = r + path.substr(0, end);
    const bool last = end == path.size();
    struct stat st {};
    if (::lstat(at.c_str(), &st) != 0) {
      if (last && !is_dir) {
        if (!write_text(at, "")) return false;
      } else if (::mkdir(at.c_str(), 0755) != 0) {
        return false;
      }
    } else if (S_ISLNK(st.st_mode)) {
      errno = ELOOP;  // never build a grant through a symlink of the view
      return false;
    }
    pos = end + 1;
  }
  return true;
}

// A token's allowed path: opened in this (copied) mount namespace without following
// any symlink, checked to still be what the supervisor approved, and bound from that
// descriptor, so a path swapped on the host after the check cannot redirect the mount.
const char* bind_grant(const std::string& r, const PathGrant& g) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  const int fd = static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, g.path.c_str(), &how, sizeof how));
  if (fd < 0) return "open-allowed-path";
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (g.is_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))) {
    ::close(fd);
    errno = ESTALE;
    return "allowed-path-changed";
  }
  const char* step = nullptr;
  if (!make_mount_point(r, g.path, g.is_dir)) {
    step = "mount-point-allowed-path";
  } else if (!bind("/proc/self/fd/" + std::to_string(fd), r + g.path, !g.writable, MS_NOEXEC)) {
    step = "bind-allowed-path";
  }
  const int err = errno;
  ::close(fd);
  errno = err;
  return step;
}

}  // namespace

const std::vector<std::string>& system_dirs() {
  static const std::vector<std::string> dirs = {"usr", "bin", "sbin", "lib", "lib64", "lib32", "libx32"};
  return dirs;
}

const char* build_fs_view(const FsViewSpec& s) {
  const std::string& r = s.new_root;
  // Nothing done here may propagate back to the host's mounts.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return "mount-private";
  if (::mount("tmpfs", r.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=8m,nr_inodes=4096") != 0) {
    return "mount-root-tmpfs";
  }
  for (const auto& d : system_dirs()) {
    if (!mirror("/" + d, r + "/" + d)) return "bind-system-dir";
  }
  if (::mkdir((r + "/etc").c_str(), 0755) != 0) return "mkdir-etc";
  for (const char* e : kEtcBinds) {
    if (!mirror(std::string("/etc/") + e, r + "/etc/" + e)) return "bind-etc";
  }
  for (const char* e : kEtcCopies) {
    if (!copy_small_file(std::string("/etc/") + e, r + "/etc/" + e)) return "copy-etc";
  }
  // Generated identity files: the content sees one user (itself) and no host names.
  if (!write_text(r + "/etc/passwd", "root:x:0:0:sandbox:/work:/bin/sh\nnobody:x:65534:65534:nobody:/:/usr/sbin/nologin\n") ||
      !write_text(r + "/etc/group", "root:x:0:\nnogroup:x:65534:\n") ||
      !write_text(r + "/etc/hostname", "nonaxis-sandbox\n") ||
      !write_text(r + "/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n") ||
      !write_text(r + "/etc/hosts", s.etc_hosts)) {
    return "write-etc";
  }
  if (!s.etc_resolv.empty() && !write_text(r + "/etc/resolv.conf", s.etc_resolv)) return "write-resolv";

  if (::mkdir((r + "/dev").c_str(), 0755) != 0) return "mkdir-dev";
  for (const char* d : kDevNodes) {
    const std::string dst = r + "/dev/" + d;
    if (!write_text(dst, "")) return "mknode-dev";
    if (::mount((std::string("/dev/") + d).c_str(), dst.c_str(), nullptr, MS_BIND, nullptr) != 0) return "bind-dev";
  }
  if (::symlink("/proc/self/fd", (r + "/dev/fd").c_str()) != 0 ||
      ::symlink("/proc/self/fd/0", (r + "/dev/stdin").c_str()) != 0 ||
      ::symlink("/proc/self/fd/1", (r + "/dev/stdout").c_str()) != 0 ||
      ::symlink("/proc/self/fd/2", (r + "/dev/stderr").c_str()) != 0) {
    return "dev-symlinks";
  }
  if (::mkdir((r + "/dev/shm").c_str(), 01777) != 0 ||
      ::mount("tmpfs", (r + "/dev/shm").c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=16m") != 0) {
    return "mount-dev-shm";
  }
  // A procfs of the sandbox's own pid namespace: the host's processes are invisible.
  if (::mkdir((r + "/proc").c_str(), 0555) != 0 ||
      ::mount("proc", (r + "/proc").c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    return "mount-proc";
  }
  const std::string tmp_opts = "mode=1777,size=" + std::to_string(s.tmp_bytes);
  if (::mkdir((r + "/tmp").c_str(), 01777) != 0 ||
      ::mount("tmpfs", (r + "/tmp").c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, tmp_opts.c_str()) != 0) {
    return "mount-tmp";
  }
  // The workspace is writable but not executable: only the approved, hashed content runs.
  if (::mkdir((r + "/work").c_str(), 0700) != 0) return "mkdir-work";
  if (!bind(s.workspace, r + "/work", false, MS_NOEXEC)) return "bind-work";
  for (const auto& g : s.grants) {
    if (const char* step = bind_grant(r, g); step != nullptr) return step;
  }

  // pivot_root with new and old root on the same directory, then detach the old one:
  // afterwards no path leads back to the host root.
  if (::chdir(r.c_str()) != 0) return "chdir-new-root";
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return "pivot_root";
  if (::umount2(".", MNT_DETACH) != 0) return "detach-old-root";
  if (::chdir("/") != 0) return "chdir-root";
  if (::mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0) {
    return "remount-root-ro";
  }
  if (::chdir("/work") != 0) return "chdir-work";
  return nullptr;
}

}  // namespace nonaxis::sandbox
