#include "nonaxis/sandbox/canaries.hpp"

#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "nonaxis/bus/crypto.hpp"

namespace nonaxis::sandbox {
namespace {

struct CanarySpec {
  const char* name;
  const char* prefix;
};

// Names an exfiltrating program would look for first.
constexpr std::array<CanarySpec, 3> kCanaries = {{
    {"passwords.txt", "# NONAXIS CANARY - not a real credential\nadmin:"},
    {".env.production", "# NONAXIS CANARY - not a real credential\nAWS_SECRET_ACCESS_KEY="},
    {"id_ed25519", "# NONAXIS CANARY - not a real credential\n"},
}};

constexpr std::uint32_t kWatchMask =
    IN_OPEN | IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_CLOSE_WRITE;

const char* describe(std::uint32_t mask) {
  if ((mask & (IN_MODIFY | IN_CLOSE_WRITE)) != 0) return "modified";
  if ((mask & IN_ACCESS) != 0) return "read";
  if ((mask & IN_DELETE_SELF) != 0) return "deleted";
  if ((mask & IN_MOVE_SELF) != 0) return "moved";
  if ((mask & IN_ATTRIB) != 0) return "attributes";
  return "opened";
}

}  // namespace

CanarySet::CanarySet(const std::string& workspace, unsigned uid, unsigned gid)
    : inotify_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
  if (!inotify_.valid()) throw std::system_error(errno, std::generic_category(), "inotify_init1");
  for (const auto& c : kCanaries) {
    const std::string path = workspace + "/" + c.name;
    const std::string body = std::string(c.prefix) + "nonaxis-canary-" + bus::uuid_v4() + "\n";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "create canary");
    const bool ok = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()) &&
                    ::fchown(fd, uid, gid) == 0;
    ::close(fd);
    if (!ok) throw std::system_error(errno, std::generic_category(), "write canary");
    // Watch only after writing, so our own writes are not reported.
    const int wd = ::inotify_add_watch(inotify_.get(), path.c_str(), kWatchMask);
    if (wd < 0) throw std::system_error(errno, std::generic_category(), "watch canary");
    names_.emplace_back(c.name);
    watches_.push_back(wd);
  }
}

CanarySet::~CanarySet() = default;

void CanarySet::drain() {
  alignas(inotify_event) std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = ::read(inotify_.get(), buf.data(), buf.size());
    if (n <= 0) return;
    std::size_t off = 0;
    while (off + sizeof(inotify_event) <= static_cast<std::size_t>(n)) {
      inotify_event ev{};
      std::memcpy(&ev, buf.data() + off, sizeof ev);
      off += sizeof(inotify_event) + ev.len;
      if ((ev.mask & IN_IGNORED) != 0) continue;
      for (std::size_t i = 0; i < watches_.size(); ++i) {
        if (watches_[i] != ev.wd) continue;
        const char* what = describe(ev.mask);
        bool seen = false;
        for (const auto& t : touches_) seen = seen || (t.file == names_[i] && t.what == what);
        if (!seen) touches_.push_back({names_[i], what});
      }
    }
  }
}

}  // namespace nonaxis::sandbox
