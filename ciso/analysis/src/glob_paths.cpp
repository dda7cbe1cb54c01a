#include "glob_paths.hpp"

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

// `[...]` at pat[i]: sets `end` past the closing ']' and returns whether `c` is in the class;
// false with end == i when there is no closing ']' (then '[' is an ordinary character).
bool match_class(std::string_view pat, std::size_t i, char c, std::size_t& end) {
  std::size_t k = i + 1;
  const bool negate = k < pat.size() && (pat[k] == '!' || pat[k] == '^');
  if (negate) ++k;
  bool in = false;
  bool first = true;
  for (; k < pat.size() && (pat[k] != ']' || first); ++k, first = false) {
    if (k + 2 < pat.size() && pat[k + 1] == '-' && pat[k + 2] != ']') {
      in = in || (c >= pat[k] && c <= pat[k + 2]);
      k += 2;
    } else {
      in = in || c == pat[k];
    }
  }
  if (k >= pat.size()) {
    end = i;
    return false;
  }
  end = k + 1;
  return in != negate;
}

// One path segment (no '/'): the classic linear wildcard match, retrying only the last '*'.
bool segment_matches(std::string_view pat, std::string_view s) {
  std::size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
      continue;
    }
    if (p < pat.size()) {
      if (pat[p] == '?') {
        ++p;
        ++i;
        continue;
      }
      if (pat[p] == '[') {
        std::size_t end = p;
        const bool in = match_class(pat, p, s[i], end);
        if (end > p && in) {
          p = end;
          ++i;
          continue;
        }
        if (end == p && s[i] == '[') {  // no closing ']': an ordinary '['
          ++p;
          ++i;
          continue;
        }
      } else if (pat[p] == s[i]) {
        ++p;
        ++i;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    p = star + 1;
    i = ++mark;
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace

bool glob_matches(std::string_view pattern, std::string_view path) {
  for (;;) {
    const std::size_t a = pattern.find('/');
    const std::size_t b = path.find('/');
    if ((a == std::string_view::npos) != (b == std::string_view::npos)) return false;
    if (!segment_matches(pattern.substr(0, a), path.substr(0, b))) return false;
    if (a == std::string_view::npos) return true;
    pattern.remove_prefix(a + 1);
    path.remove_prefix(b + 1);
  }
}

std::string_view known_path_for_glob(std::string_view word) {
  if (word.size() > 128 || !(word.rfind('/', 0) == 0 || word.rfind("~/", 0) == 0)) return {};
  bool wild = false;
  for (char c : word) wild = wild || is_wild(c);
  if (!wild) return {};
  std::string_view found;
  for (std::string_view p : kKnownPaths) {
    if (!glob_matches(word, p)) continue;
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
