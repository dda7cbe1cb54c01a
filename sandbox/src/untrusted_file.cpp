#include "nonaxis/sandbox/untrusted_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace nonaxis::sandbox {

UniqueFd open_untrusted_regular(const std::filesystem::path& path, std::size_t max_bytes, std::size_t* size_out) {
  // O_NOFOLLOW refuses a symlink in the last component; fstat on the descriptor (not
  // stat on the path) makes the type and size checks about the file we hold.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) {
    throw UntrustedFileError("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  check_untrusted_regular(fd.get(), max_bytes, path.string(), size_out);
  return fd;
}

void check_untrusted_regular(int fd, std::size_t max_bytes, const std::string& name, std::size_t* size_out) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw UntrustedFileError("cannot stat " + name);
  if (!S_ISREG(st.st_mode)) throw UntrustedFileError(name + " is not a regular file");
  if (st.st_size < 0 || static_cast<std::size_t>(st.st_size) > max_bytes) {
    throw UntrustedFileError(name + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  if (size_out != nullptr) *size_out = static_cast<std::size_t>(st.st_size);
}

std::string read_untrusted_file(const std::filesystem::path& path, std::size_t max_bytes) {
  const UniqueFd fd = open_untrusted_regular(path, max_bytes, nullptr);
  return read_untrusted_fd(fd.get(), max_bytes, path.string());
}

std::string read_untrusted_fd(int fd, std::size_t max_bytes, const std::string& name) {
  std::size_t size = 0;
  check_untrusted_regular(fd, max_bytes, name, &size);
  // Sized by fstat (plus one byte to see growth), not by the bound: zero-filling a
  // 1 MiB buffer for an 8 KiB profile cost a millisecond per launch.
  std::string out;
  out.resize(std::min(size, max_bytes) + 1);
  std::size_t got = 0;
  // Read to EOF rather than trusting st_size: the file may grow after fstat.
  for (;;) {
    if (got == out.size()) {
      if (out.size() > max_bytes) break;
      out.resize(std::min(out.size() * 2, max_bytes + 1));
    }
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw UntrustedFileError("cannot read " + name);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > max_bytes) throw UntrustedFileError(name + " grew past " + std::to_string(max_bytes) + " bytes");
  out.resize(got);
  return out;
}

}  // namespace nonaxis::sandbox
