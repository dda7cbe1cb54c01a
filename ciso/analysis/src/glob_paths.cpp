#include "glob_paths.hpp"

#include <fnmatch.h>

namespace nonaxis::ciso::detail {
namespace {

// Files the credential, persistence, privilege and log rules name, and the programs the
// shell, download and exfiltration rules name. A glob is only resolved to one of these.
constexpr std::string_view kKnownPaths[] = {
    "/etc/shadow", "/etc/gshadow", "/etc/passwd", "/etc/group", "/etc/sudoers", "/etc/crontab",
    "/etc/ld.so.preload", "/etc/profile", "/etc/bash.bashrc", "/etc/rc.local", "/etc/hosts",
    "/etc/resolv.conf", "/etc/security/opasswd", "/root/.ssh/authorized_keys", "/root/.ssh/id_rsa",
    "/root/.bash_history", "/root/.bashrc", "/var/log/auth.log", "/var/log/syslog", "/var/log/secure",
    "/var/log/messages", "/var/log/wtmp", "/var/log/btmp", "/var/log/lastlog", "/var/run/docker.sock",
    "/proc/self/environ", "~/.ssh/id_rsa", "~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/authorized_keys",
    "~/.aws/credentials", "~/.kube/config", "~/.docker/config.json", "~/.git-credentials", "~/.netrc",
    "~/.bash_history", "~/.bashrc", "~/.profile", "/bin/sh", "/bin/bash", "/bin/dash", "/bin/cat",
    "/bin/nc", "/bin/netcat", "/bin/rm", "/bin/chmod", "/usr/bin/nc", "/usr/bin/ncat", "/usr/bin/curl",
    "/usr/bin/wget", "/usr/bin/python3", "/usr/bin/perl", "/usr/bin/base64", "/usr/bin/socat",
    "/usr/bin/xxd", "/usr/bin/ssh", "/usr/bin/id", "/usr/bin/whoami", "/usr/bin/sudo", "/sbin/insmod",
    "/usr/sbin/useradd", "/usr/bin/crontab",
};

bool is_wild(char c) { return c == '*' || c == '?' || c == '['; }

// libc's pathname matcher: FNM_PATHNAME keeps wildcards off '/', FNM_NOESCAPE reads '\' as
// itself (the shell reader has already removed escapes). Inputs are short: a word of at most
// 128 bytes against the listed paths.
bool fn_matches(const std::string& pattern, const char* path) {
  return ::fnmatch(pattern.c_str(), path, FNM_PATHNAME | FNM_NOESCAPE) == 0;
}

}  // namespace

bool glob_matches(std::string_view pattern, std::string_view path) {
  return fn_matches(std::string(pattern), std::string(path).c_str());
}

std::string_view known_path_for_glob(std::string_view word) {
  if (word.size() > 128 || !(word.rfind('/', 0) == 0 || word.rfind("~/", 0) == 0)) return {};
  bool wild = false;
  for (char c : word) wild = wild || is_wild(c);
  if (!wild) return {};
  const std::string pattern(word);
  std::string_view found;
  for (std::string_view p : kKnownPaths) {  // string literals: NUL-terminated
    if (!fn_matches(pattern, p.data())) continue;
    if (!found.empty()) return {};
    found = p;
  }
  return found;
}

bool glob_hides_name(std::string_view word) {
  std::size_t wild_segments = 0, questions = 0;
  bool in_segment = false;
  for (char c : word) {
    if (c == '/') in_segment = false;
    if (is_wild(c) && !in_segment) {
      ++wild_segments;
      in_segment = true;
    }
    if (c == '?') ++questions;
  }
  return wild_segments >= 2 || questions >= 3;
}

std::vector<GlobResolution> resolve_known_globs(Command& c) {
  std::vector<GlobResolution> out;
  auto resolve = [&](std::string& w) {
    const std::string_view p = known_path_for_glob(w);
    if (p.empty()) return;
    out.push_back({w, std::string(p)});
    w = std::string(p);
  };
  for (Word& w : c.words) resolve(w.text);
  for (Redirect& r : c.redirects) {
    if (r.body.empty()) resolve(r.target);
  }
  return out;
}

}  // namespace nonaxis::ciso::detail
