#include "nonaxis/sandbox/durable_write.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "nonaxis/bus/durable_file.hpp"
#include "nonaxis/bus/fd.hpp"
#include "nonaxis/sandbox/unique_fd.hpp"

namespace nonaxis::sandbox {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

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

// Both writers are the bus's (temp, fdatasync, rename, directory fsync); bus I/O
// errors are rethrown as std::system_error, the sandbox's error type.
void write_file_durably(const std::filesystem::path& path, std::string_view data, unsigned mode) {
  try {
    bus::UniqueFd dir = bus::open_dir(path.parent_path().string());
    bus::replace_file(dir.get(), path.filename().string(), data, true, static_cast<mode_t>(mode));
  } catch (const bus::IoError& e) {
    throw std::system_error(e.code(), std::generic_category(), e.what());
  }
}

bool create_file_exclusive_durably(const std::filesystem::path& path, std::string_view data, unsigned mode) {
  try {
    bus::UniqueFd dir = bus::open_dir(path.parent_path().string());
    return bus::write_new_file(dir.get(), path.filename().string(), data, static_cast<mode_t>(mode)) ==
           bus::WriteOutcome::kCreated;
  } catch (const bus::IoError& e) {
    throw std::system_error(e.code(), std::generic_category(), e.what());
  }
}

}  // namespace nonaxis::sandbox
