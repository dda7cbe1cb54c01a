#include "nonaxis/sandbox/durable_write.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/sandbox/unique_fd.hpp"

namespace nonaxis::sandbox {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

void write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write " + what);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

void fsync_directory(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) fail("open directory " + dir.string());
  if (::fsync(fd.get()) != 0) fail("fsync directory " + dir.string());
}

void ensure_directory(const std::filesystem::path& dir, unsigned mode) {
  if (dir.empty()) return;
  struct stat st {};
  if (::lstat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      errno = ENOTDIR;
      fail("not a directory: " + dir.string());
    }
    return;
  }
  if (dir.has_parent_path() && dir.parent_path() != dir) ensure_directory(dir.parent_path(), mode);
  if (::mkdir(dir.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST) fail("mkdir " + dir.string());
}

void write_file_durably(const std::filesystem::path& path, std::string_view data, unsigned mode) {
  const std::filesystem::path dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  // Built by appending: GCC 12 warns falsely (-Wrestrict) on "." + std::string in Release.
  std::string tmp_name = ".";
  tmp_name += path.filename().string();
  tmp_name += ".tmp-";
  tmp_name += bus::uuid_v4();
  const std::filesystem::path tmp = dir / tmp_name;
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, static_cast<mode_t>(mode)));
    if (!fd.valid()) fail("create " + tmp.string());
    try {
      write_all(fd.get(), data, tmp.string());
      if (::fsync(fd.get()) != 0) fail("fsync " + tmp.string());
    } catch (...) {
      ::unlink(tmp.c_str());
      throw;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    fail("rename to " + path.string());
  }
  fsync_directory(dir);
}

bool create_file_exclusive_durably(const std::filesystem::path& path, std::string_view data, unsigned mode) {
  const std::filesystem::path dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  // Write the body under a temp name first and link() it into place: link fails with
  // EEXIST atomically, and the final name never exists with partial content.
  const std::filesystem::path tmp = dir / (".nonce.tmp-" + bus::uuid_v4());
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, static_cast<mode_t>(mode)));
    if (!fd.valid()) fail("create " + tmp.string());
    try {
      write_all(fd.get(), data, tmp.string());
      if (::fsync(fd.get()) != 0) fail("fsync " + tmp.string());
    } catch (...) {
      ::unlink(tmp.c_str());
      throw;
    }
  }
  const int rc = ::link(tmp.c_str(), path.c_str());
  const int saved = errno;
  ::unlink(tmp.c_str());
  if (rc != 0) {
    if (saved == EEXIST) return false;
    errno = saved;
    fail("link " + path.string());
  }
  fsync_directory(dir);
  return true;
}

}  // namespace nonaxis::sandbox
