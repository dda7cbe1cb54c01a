#include "nonaxis/bus/layout.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "nonaxis/bus/fd.hpp"
#include "nonaxis/bus/keys.hpp"

namespace nonaxis::bus {

Layout Layout::from_env() {
  const char* b = std::getenv("GOVERNANCE_BASE_DIR");
  std::string base = (b != nullptr && *b != '\0') ? b : kDefaultBaseDir;
  if (base.front() != '/') throw ConfigError("GOVERNANCE_BASE_DIR must be an absolute path, got '" + base + "'");
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return Layout{base};
}

std::vector<std::string> owned_dirs(const Layout& l, Role role) {
  std::vector<std::string> dirs;
  switch (role) {
    case Role::kOperator: dirs = {l.pending_review()}; break;
    case Role::kCiso: dirs = {l.assessments()}; break;
    case Role::kArbiter:
      dirs = {l.decisions(), l.tokens(), l.state(), l.snapshots(), l.handoffs(), l.proposals()};
      break;
    case Role::kSandbox: break;
  }
  dirs.push_back(l.dead_letter(role));
  dirs.push_back(l.private_dir(role));
  return dirs;
}

std::optional<RunAs> resolve_run_as(Role role) {
  if (::geteuid() != 0) return std::nullopt;
  const char* u = std::getenv("NONAXIS_USER");
  const std::string user = (u != nullptr && *u != '\0') ? u : std::string("nonaxis-") + to_string(role);
  const char* g = std::getenv("NONAXIS_GROUP");
  const std::string group = (g != nullptr && *g != '\0') ? g : "nonaxis";
  const passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) throw ConfigError("NONAXIS_USER: user '" + user + "' does not exist; create it or set NONAXIS_USER");
  const struct group* gr = ::getgrnam(group.c_str());
  if (gr == nullptr) throw ConfigError("NONAXIS_GROUP: group '" + group + "' does not exist; create it or set NONAXIS_GROUP");
  if (pw->pw_uid == 0) throw ConfigError("NONAXIS_USER: refusing to run a role as root");
  return RunAs{pw->pw_uid, gr->gr_gid, user};
}

namespace {

// A directory handed to a role's user is created under a temporary name and renamed
// into place (never over an existing one) only once its owner and mode are final.
// Created in place, it would exist for a moment as root's, and another role's daemon
// starting at that moment (the Arbiter opens the CISO's assessments/) would be
// refused and stop.
void create_handed_over(const std::string& path, mode_t mode, const RunAs& run_as) {
  const std::string temp = path + ".new-" + std::to_string(::getpid());
  if (::mkdir(temp.c_str(), mode) != 0) {
    if (errno == EEXIST) return;  // a leftover of a crashed start: the in-place path below takes over
    throw IoError("mkdir " + temp, errno);
  }
  {
    UniqueFd fd = open_dir(temp);
    if (::fchown(fd.get(), run_as.uid, run_as.gid) != 0 || ::fchmod(fd.get(), mode) != 0) {
      const int err = errno;
      ::rmdir(temp.c_str());
      throw IoError("chown " + temp, err);
    }
  }
  if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
    const int err = errno;
    ::rmdir(temp.c_str());
    if (err != EEXIST) throw IoError("rename " + temp, err);
  }
}

void ensure_dir(const std::string& path, mode_t mode, const std::optional<RunAs>& run_as, bool hand_over) {
  struct stat st {};
  if (run_as && hand_over && ::lstat(path.c_str(), &st) != 0 && errno == ENOENT) create_handed_over(path, mode, *run_as);
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) throw IoError("mkdir " + path, errno);
  UniqueFd fd = open_dir(path);  // O_NOFOLLOW: a planted symlink is refused, not followed
  if (run_as && hand_over) {
    if (::fchown(fd.get(), run_as->uid, run_as->gid) != 0) throw IoError("chown " + path, errno);
    if (::fchmod(fd.get(), mode) != 0) throw IoError("chmod " + path, errno);
  }
}

std::string parent_of(const std::string& p) { return p.substr(0, p.find_last_of('/')); }

}  // namespace

void prepare_role_dirs(const Layout& l, Role role, const std::optional<RunAs>& run_as) {
  // Shared parents stay root-owned (or the invoking user's) and world-traversable.
  for (const std::string& p : {l.base, l.base + "/dead-letter", l.base + "/private"}) {
    if (::mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) throw IoError("mkdir " + p, errno);
  }
  for (const auto& d : owned_dirs(l, role)) {
    const bool is_private = parent_of(d) == l.base + "/private";
    ensure_dir(d, is_private ? 0700 : 0750, run_as, true);
  }
}

void wait_for_dirs(const std::vector<std::string>& dirs, long long timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (const auto& d : dirs) {
    struct stat st {};
    while (::stat(d.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      if (std::chrono::steady_clock::now() >= deadline) {
        throw ConfigError("peer directory " + d + " does not exist; is GOVERNANCE_BASE_DIR shared with the peer roles?");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

void drop_privileges(const RunAs& r) {
  if (::setgroups(1, &r.gid) != 0) throw IoError("setgroups", errno);
  if (::setresgid(r.gid, r.gid, r.gid) != 0) throw IoError("setresgid", errno);
  if (::setresuid(r.uid, r.uid, r.uid) != 0) throw IoError("setresuid", errno);
  if (::setuid(0) == 0 || ::geteuid() == 0) throw ConfigError("privilege drop failed: root could be regained");
}

}  // namespace nonaxis::bus
