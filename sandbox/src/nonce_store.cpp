#include "nonaxis/sandbox/nonce_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/fd.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/sandbox/durable_write.hpp"

namespace nonaxis::sandbox {
namespace {

constexpr const char* kLockName = ".lock";
constexpr const char* kStampName = ".pruned";
constexpr std::string_view kSuffix = ".spent";

[[noreturn]] void fail(const std::string& what, int err) { throw std::system_error(err, std::generic_category(), what); }

std::int64_t seconds_of(bus::SysTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Gives the unnamed (O_TMPFILE) or temporary inode `fd` the name `name`; linkat
// fails with EEXIST instead of replacing, which is the atomic "spent before?" test.
// Returns 0 or errno.
int link_fd(int fd, int dirfd, const std::string& name) {
  if (::linkat(fd, "", dirfd, name.c_str(), AT_EMPTY_PATH) == 0) return 0;
  if (errno != ENOENT && errno != EPERM) return errno;
  // Without CAP_DAC_READ_SEARCH, AT_EMPTY_PATH is refused; the /proc link works.
  const std::string proc = "/proc/self/fd/" + std::to_string(fd);
  return ::linkat(AT_FDCWD, proc.c_str(), dirfd, name.c_str(), AT_SYMLINK_FOLLOW) == 0 ? 0 : errno;
}

// True when a mark left by an older sandbox (which wrote the expiry only in the
// file, not as its mtime) names a token that is still within `grace` of its expiry.
bool content_says_live(int dirfd, const char* name, bus::SysTime now, std::chrono::seconds grace) {
  UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return false;
  char buf[4096];
  const ssize_t n = ::read(fd.get(), buf, sizeof buf);
  if (n <= 0) return false;
  try {
    const auto mark = bus::Json::parse(std::string(buf, static_cast<std::size_t>(n)));
    const auto expires = bus::parse_rfc3339(mark.at("expires_at").get<std::string>());
    return expires && *expires + grace >= now;
  } catch (const std::exception&) {
    return false;  // torn by a crash: the mtime, set before the name existed, decides
  }
}

std::size_t prune_locked(const std::filesystem::path& dir, bus::SysTime now, std::chrono::seconds grace) {
  UniqueFd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd.valid()) fail("open " + dir.string(), errno);
  DIR* d = ::fdopendir(::dup(dirfd.get()));
  if (d == nullptr) fail("opendir " + dir.string(), errno);
  std::size_t removed = 0;
  const std::int64_t now_s = seconds_of(now);
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name(e->d_name);
    if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) continue;
    struct stat st {};
    if (::fstatat(dirfd.get(), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
    // The mtime is the token's expiry; a mark is forgotten only once its token would
    // be refused as expired anyway, with `grace` to spare for clock adjustments.
    if (st.st_mtim.tv_sec + grace.count() >= now_s) continue;
    if (content_says_live(dirfd.get(), e->d_name, now, grace)) continue;
    if (::unlinkat(dirfd.get(), e->d_name, 0) == 0) ++removed;
  }
  ::closedir(d);
  // Not needed for safety (an unlink lost in a crash only brings back an expired
  // mark), but it keeps the pruning done.
  if (removed > 0) (void)::fsync(dirfd.get());
  return removed;
}

}  // namespace

NonceStore::NonceStore(std::filesystem::path dir) : dir_(std::move(dir)) { ensure_directory(dir_, 0700); }

std::filesystem::path NonceStore::path_for(const std::string& nonce) const {
  // Only a well-formed UUID ever becomes a file name; the token verifier checked it,
  // and this re-check keeps the store safe on its own.
  if (!bus::is_uuid(nonce)) throw std::invalid_argument("nonce is not a UUID");
  return dir_ / (nonce + std::string(kSuffix));
}

UniqueFd NonceStore::lock(int how) const {
  UniqueFd fd(::open((dir_ / kLockName).c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) fail("open nonce lock", errno);
  while (::flock(fd.get(), how) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return UniqueFd();
    fail("lock nonce store", errno);
  }
  return fd;
}

void SpendClaim::commit() {
  if (result != SpendResult::kSpent || !dir.valid()) return;
  if (::fsync(dir.get()) != 0) fail("fsync spent-nonce directory", errno);
  dir.reset();
  held_lock.reset();
}

SpendResult NonceStore::spend(const std::string& nonce, const std::string& token_id, const std::string& expires_at,
                              bus::SysTime now, std::chrono::seconds skew) {
  SpendClaim c = claim(nonce, token_id, expires_at, now, skew);
  c.commit();
  return c.result;
}

SpendClaim NonceStore::claim(const std::string& nonce, const std::string& token_id, const std::string& expires_at,
                             bus::SysTime now, std::chrono::seconds skew) {
  const std::string name = path_for(nonce).filename().string();
  const auto expires = bus::parse_rfc3339(expires_at);
  if (!expires) throw std::invalid_argument("expires_at is not RFC 3339");
  // Shared with other spenders, exclusive against prune(): between this expiry check
  // and the durable mark (commit), no prune can run, so prune() never forgets a nonce
  // whose token still verifies.
  SpendClaim out;
  out.held_lock = lock(LOCK_SH);
  if (now > *expires + skew) return out;

  UniqueFd dirfd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd.valid()) fail("open " + dir_.string(), errno);
  const bus::Json mark = {{"nonce", nonce},
                          {"token_id", token_id},
                          {"expires_at", expires_at},
                          {"spent_at", bus::rfc3339_micro(now)}};
  // The mark is complete (bytes, mode and mtime = expiry) before its name exists. The
  // name and the mtime are metadata, journaled no later than the link, so the one
  // directory fsync (commit) makes both durable (ext4, XFS). The bytes are for people;
  // the store never needs them (a torn mark still blocks its nonce).
  std::string temp;
  UniqueFd fd(::openat(dirfd.get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) fail("create nonce mark", errno);
    // No O_TMPFILE on this filesystem: a named temporary, removed after the link.
    temp = ".tmp-" + bus::uuid_v4();
    fd.reset(::openat(dirfd.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) fail("create nonce mark", errno);
  }
  struct Unlink {
    int dir;
    const std::string& name;
    ~Unlink() {
      if (!name.empty()) ::unlinkat(dir, name.c_str(), 0);
    }
  } unlink_temp{dirfd.get(), temp};
  const std::string bytes = bus::canonical_dump(mark) + "\n";
  bus::write_all(fd.get(), bytes.data(), bytes.size(), "nonce mark");
  const std::int64_t exp_s = seconds_of(*expires) + 1;  // rounded up: never earlier than the expiry
  const timespec times[2] = {{exp_s, 0}, {exp_s, 0}};
  if (::futimens(fd.get(), times) != 0) fail("set nonce mark expiry", errno);
  if (const int err = link_fd(fd.get(), dirfd.get(), name); err != 0) {
    if (err == EEXIST) {
      out.result = SpendResult::kReplayed;
      return out;
    }
    fail("link nonce mark", err);
  }
  out.result = SpendResult::kSpent;
  out.dir = std::move(dirfd);
  return out;
}

bool NonceStore::is_spent(const std::string& nonce) const {
  struct stat st {};
  return ::lstat(path_for(nonce).c_str(), &st) == 0;
}

std::size_t NonceStore::prune(bus::SysTime now, std::chrono::seconds grace) {
  const UniqueFd held = lock(LOCK_EX);
  return prune_locked(dir_, now, grace);
}

std::size_t NonceStore::prune_if_due(bus::SysTime now, std::chrono::seconds grace, std::chrono::seconds interval) {
  const std::filesystem::path stamp = dir_ / kStampName;
  struct stat st {};
  if (::lstat(stamp.c_str(), &st) == 0 && st.st_mtim.tv_sec + interval.count() > seconds_of(now)) return 0;
  const UniqueFd held = lock(LOCK_EX | LOCK_NB);
  if (!held.valid()) return 0;  // another sandbox is pruning or spending; next time
  const std::size_t removed = prune_locked(dir_, now, grace);
  UniqueFd s(::open(stamp.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (s.valid()) {
    const std::int64_t now_s = seconds_of(now);
    const timespec times[2] = {{now_s, 0}, {now_s, 0}};
    (void)::futimens(s.get(), times);
  }
  return removed;
}

}  // namespace nonaxis::sandbox
