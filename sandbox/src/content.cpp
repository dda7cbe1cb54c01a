#include "nonaxis/sandbox/content.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/sandbox/untrusted_file.hpp"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

namespace nonaxis::sandbox {

const char* to_string(ContentKind k) {
  switch (k) {
    case ContentKind::kElf: return "elf";
    case ContentKind::kShebang: return "shebang";
    case ContentKind::kShellScript: return "shell";
  }
  return "shell";
}

SealedContent seal_content_fd(int src, std::size_t max_bytes, const std::string& name) {
  // MFD_EXEC states the intent on kernels with vm.memfd_noexec; older kernels reject
  // the unknown flag, so fall back to no flag (executable by default there).
  int fd = static_cast<int>(::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC));
  if (fd < 0 && errno == EINVAL) fd = ::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw UntrustedFileError(std::string("memfd_create: ") + std::strerror(errno));
  SealedContent out;
  out.memfd.reset(fd);
  bus::Sha256 hasher;
  std::array<char, 64 * 1024> buf;  // filled by read(); zeroing it would only cost
  std::size_t total = 0;
  std::string head;
  for (;;) {
    const ssize_t n = ::read(src, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw UntrustedFileError(std::string("read content: ") + std::strerror(errno));
    if (n == 0) break;
    const auto len = static_cast<std::size_t>(n);
    total += len;
    if (total > max_bytes) throw UntrustedFileError("content grew past " + std::to_string(max_bytes) + " bytes");
    if (head.size() < 4) head.append(buf.data(), std::min<std::size_t>(len, 4 - head.size()));
    hasher.update(std::string_view(buf.data(), len));
    std::size_t off = 0;
    while (off < len) {
      const ssize_t w = ::write(fd, buf.data() + off, len - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) throw UntrustedFileError(std::string("write memfd: ") + std::strerror(errno));
      off += static_cast<std::size_t>(w);
    }
  }
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
    throw UntrustedFileError(std::string("seal memfd: ") + std::strerror(errno));
  }
  out.sha256_hex = hasher.final_hex();
  out.size = total;
  if (head.size() >= 4 && std::memcmp(head.data(), "\x7f" "ELF", 4) == 0) {
    out.kind = ContentKind::kElf;
  } else if (head.size() >= 2 && head[0] == '#' && head[1] == '!') {
    out.kind = ContentKind::kShebang;
  } else {
    out.kind = ContentKind::kShellScript;
  }
  return out;
}

SealedContent seal_content(const std::filesystem::path& path, std::size_t max_bytes) {
  UniqueFd src = open_untrusted_regular(path, max_bytes, nullptr);
  return seal_content_fd(src.get(), max_bytes, "nonaxis-content");
}

std::string runner_content_hash(const std::string& binary_sha256_hex, const std::vector<std::string>& args) {
  std::string canonical = "nonaxis-runner-v1\n" + binary_sha256_hex + "\n";
  for (const auto& a : args) {
    canonical += std::to_string(a.size());
    canonical += ':';
    canonical += a;
    canonical += '\n';
  }
  return bus::sha256_hex(canonical);
}

}  // namespace nonaxis::sandbox
