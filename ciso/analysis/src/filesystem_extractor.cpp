#include "filesystem_extractor.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <memory>
#include <set>
#include <unordered_set>

namespace nonaxis::ciso::detail {
namespace {

bool ignorable_target(const std::string& t) {
  return t.empty() || t == "/dev/null" || t == "/dev/stdout" || t == "/dev/stderr" || t == "/dev/tty" || t == "-" ||
         t.rfind("/dev/fd/", 0) == 0 || t.find_first_not_of("0123456789-") == std::string::npos;
}

std::vector<std::string> file_operands(const std::vector<std::string>& argv, std::size_t from,
                                       const std::set<std::string>& with_arg) {
  std::vector<std::string> out;
  bool options_done = false;
  for (std::size_t i = from; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (!options_done && a == "--") {
      options_done = true;
      continue;
    }
    if (!options_done && a.size() > 1 && a[0] == '-') {
      if (with_arg.count(a) != 0) ++i;
      continue;
    }
    out.push_back(a);
  }
  return out;
}

void push(std::vector<FsWrite>& out, const std::string& path, const char* op, std::size_t off) {
  if (ignorable_target(path)) return;
  out.push_back({path, op, off});
}

std::string url_basename(const std::string& url) {
  auto q = url.find_first_of("?#");
  std::string u = url.substr(0, q);
  const auto slash = u.find_last_of('/');
  return slash == std::string::npos ? std::string() : u.substr(slash + 1);
}

}  // namespace

std::string path_concern(std::string_view p) {
  struct PathClass {
    const char* re;
    const char* concern;
  };
  static const PathClass rules[] = {
      {R"re(^/etc/(?:sudoers|passwd|shadow|group|gshadow))re", "account or sudo database"},
      {R"re(^/etc/(?:cron|crontab)|^/var/spool/cron|crontab$)re", "scheduled task (persistence)"},
      {R"re(/etc/systemd/|/lib/systemd/|\.config/systemd/|/etc/init\.d/|/etc/rc\.local)re", "service definition (persistence)"},
      {R"re((?:^|/)\.(?:bashrc|bash_profile|profile|zshrc|zprofile|bash_login|bash_logout)$|^/etc/(?:profile|bash\.bashrc|environment))re", "shell startup file (runs at every login)"},
      {R"re(\.ssh/)re", "SSH keys or configuration"},
      {R"re(^/etc/ld\.so\.preload)re", "global library preload"},
      {R"re(^/etc/pam\.d/)re", "authentication stack"},
      {R"re(^/var/log/|_history$|^/var/spool/mail)re", "logs or history (evidence)"},
      {R"re(^/dev/(?:sd|nvme|hd|vd|xvd|mmcblk|disk|mapper|md))re", "raw block device"},
      {R"re(^/proc/|^/sys/)re", "kernel interface"},
      {R"re(^/(?:etc|usr|bin|sbin|lib|lib64|boot|opt)(?:/|$))re", "system path"},
      {R"re(^(?:/|~|\$HOME|\$\{HOME\})/?\*?$)re", "root or home directory"},
  };
  static const std::vector<std::unique_ptr<re2::RE2>> compiled = [] {
    std::vector<std::unique_ptr<re2::RE2>> v;
    for (const PathClass& r : rules) v.push_back(std::make_unique<re2::RE2>(r.re));
    return v;
  }();
  for (std::size_t i = 0; i < compiled.size(); ++i) {
    if (re2::RE2::PartialMatch(re2::StringPiece(p.data(), p.size()), *compiled[i])) return rules[i].concern;
  }
  return "";
}

void writes_from_command(const EffectiveCommand& ec, const std::vector<Redirect>& redirects, std::size_t off,
                         std::vector<FsWrite>& out) {
  for (const Redirect& r : redirects) {
    const std::string& op = r.op;
    if (op.find('<') != std::string::npos || op.find(">&") != std::string::npos) continue;
    push(out, r.target, op.find(">>") != std::string::npos ? "append" : "write", off);
  }
  const auto& a = ec.argv;
  const std::string& n = ec.name;
  // One hash lookup turns away the many commands that write nothing by their arguments.
  static const std::unordered_set<std::string_view> kWriters = {"adduser", "chattr", "chflags", "chgrp", "chmod", "chown", "chpasswd", "chsh", "cp", "crontab", "curl", "dd", "gpasswd", "groupadd", "install", "ln", "mkdir", "mkfifo", "mknod", "mv", "passwd", "perl", "rm", "rmdir", "rsync", "sed", "setcap", "setfacl", "shred", "srm", "systemctl", "tee", "touch", "truncate", "unlink", "useradd", "userdel", "usermod", "wget", "wipe"};
  if (a.empty() || kWriters.count(n) == 0) return;
  if (n == "tee") {
    const bool app = std::find(a.begin(), a.end(), "-a") != a.end() || std::find(a.begin(), a.end(), "--append") != a.end();
    for (const auto& f : file_operands(a, 1, {})) push(out, f, app ? "append" : "write", off);
  } else if (n == "cp" || n == "install" || n == "mv" || n == "ln" || n == "rsync") {
    const auto ops = file_operands(a, 1, {"-t", "-m", "-o", "-g", "-S", "--target-directory", "-e"});
    if (ops.size() >= 2 && ops.back().find(':') == std::string::npos) {
      push(out, ops.back(), n == "mv" ? "modify" : "create", off);
    }
    if (n == "mv" && ops.size() >= 2) {
      for (std::size_t i = 0; i + 1 < ops.size(); ++i) push(out, ops[i], "delete", off);
    }
  } else if (n == "touch" || n == "mkdir" || n == "mkfifo" || n == "mknod") {
    for (const auto& f : file_operands(a, 1, {"-m", "-d", "-r", "-t", "--date", "--reference", "--mode"})) {
      push(out, f, "create", off);
      if (n == "mknod") break;
    }
  } else if (n == "rm" || n == "unlink" || n == "rmdir" || n == "shred" || n == "srm" || n == "wipe") {
    for (const auto& f : file_operands(a, 1, {"-n", "-s", "--iterations", "--size"})) push(out, f, "delete", off);
  } else if (n == "chmod" || n == "chown" || n == "chgrp" || n == "chattr" || n == "setfacl" || n == "setcap" ||
             n == "chflags") {
    const auto ops = file_operands(a, 1, {"--reference", "-m", "-x", "-M", "-X"});
    for (std::size_t i = 1; i < ops.size(); ++i) push(out, ops[i], "chmod", off);
  } else if (n == "truncate") {
    for (const auto& f : file_operands(a, 1, {"-s", "--size", "-r", "--reference"})) push(out, f, "modify", off);
  } else if (n == "sed" || n == "perl") {
    bool inplace = false;
    for (std::size_t i = 1; i < a.size(); ++i) {
      if (a[i].rfind("-i", 0) == 0 || a[i] == "--in-place" || (n == "perl" && a[i].rfind("-pi", 0) == 0)) inplace = true;
    }
    if (inplace) {
      const auto ops = file_operands(a, 1, {"-e", "-f", "--expression", "--file"});
      bool script_is_operand = true;
      for (const auto& s : a) {
        if (s == "-e" || s == "-f" || s == "--expression") script_is_operand = false;
      }
      for (std::size_t i = script_is_operand ? 1 : 0; i < ops.size(); ++i) push(out, ops[i], "modify", off);
    }
  } else if (n == "dd") {
    for (const auto& s : a) {
      if (s.rfind("of=", 0) == 0) push(out, s.substr(3), "write", off);
    }
  } else if (n == "curl" || n == "wget") {
    for (const auto& f : downloaded_files(ec)) push(out, f, "create", off);
  } else if (n == "crontab") {
    const auto ops = file_operands(a, 1, {"-u"});
    if (!ops.empty()) push(out, "/var/spool/cron/crontabs (user crontab)", "modify", off);
  } else if (n == "useradd" || n == "adduser" || n == "usermod" || n == "userdel" || n == "chpasswd" || n == "passwd" ||
             n == "chsh" || n == "groupadd" || n == "gpasswd") {
    push(out, "/etc/passwd, /etc/shadow (account database)", "modify", off);
  } else if (n == "systemctl" && a.size() > 1 && (a[1] == "enable" || a[1] == "disable" || a[1] == "mask")) {
    push(out, "/etc/systemd/system (unit links)", "modify", off);
  }
}

namespace {

// tftp has no URL, so the file it fetches is named by its own syntax: `tftp HOST -c get
// REMOTE [LOCAL]` (tftp-hpa) and `tftp -g -r REMOTE [-l LOCAL] HOST` (busybox).
std::vector<std::string> tftp_downloads(const std::vector<std::string>& a) {
  std::vector<std::string> out;
  for (std::size_t i = 1; i + 2 < a.size(); ++i) {
    if (a[i] == "-c" && a[i + 1] == "get") {
      out.push_back(i + 3 < a.size() ? a[i + 3] : a[i + 2]);
      return out;
    }
  }
  std::string remote;
  std::string local;
  for (std::size_t i = 1; i + 1 < a.size(); ++i) {
    if (a[i] == "-r") remote = a[i + 1];
    if (a[i] == "-l") local = a[i + 1];
  }
  if (!local.empty()) out.push_back(local);
  else if (!remote.empty()) out.push_back(remote);
  return out;
}

}  // namespace

std::vector<std::string> downloaded_files(const EffectiveCommand& ec, const std::vector<Redirect>& redirects) {
  const auto& a = ec.argv;
  if (ec.name == "tftp") return tftp_downloads(a);
  if (ec.name != "curl" && ec.name != "wget") return {};
  const bool curl = ec.name == "curl";
  // One pass over the options: an explicit output file, a file named after the URL, or
  // stdout (curl's default; wget only with `-O -`, `-qO-`, `--output-document=-`).
  std::vector<std::string> named;
  bool remote_name = false;
  bool explicit_output = false;
  bool to_stdout = curl;
  // Short options that take a value: in a cluster (`-sLo FILE`, `-qO-`, `-XPOST`) the rest
  // of the cluster, or else the next word, is that value and no further option letters.
  const std::string_view with_value = curl ? "AbcCdDeEFHKmoPQrtTuUwxXyYz" : "aABDeiIlOoPQRtTUwX";
  const char output = curl ? 'o' : 'O';
  auto set_output = [&](const std::string& file) {
    explicit_output = true;
    to_stdout = file == "-";
    if (!to_stdout) named.push_back(file);
  };
  for (std::size_t i = 1; i < a.size(); ++i) {
    const std::string& s = a[i];
    if (s == (curl ? "--output" : "--output-document")) {
      if (i + 1 < a.size()) set_output(a[++i]);
    } else if (s.rfind(curl ? "--output=" : "--output-document=", 0) == 0) {
      set_output(s.substr(s.find('=') + 1));
    } else if (curl && (s == "--remote-name" || s == "--remote-name-all")) {
      remote_name = true;
      to_stdout = false;
    } else if (s.size() > 1 && s[0] == '-' && s[1] != '-') {
      for (std::size_t k = 1; k < s.size(); ++k) {
        if (curl && s[k] == 'O') {
          remote_name = true;
          to_stdout = false;
          continue;
        }
        if (with_value.find(s[k]) == std::string_view::npos) continue;
        const bool last = k + 1 == s.size();
        if (last && i + 1 >= a.size()) break;
        const std::string value = last ? a[++i] : s.substr(k + 1);
        if (s[k] == output) set_output(value);
        break;
      }
    }
  }
  std::vector<std::string> out;
  if (to_stdout) {
    for (const Redirect& r : redirects) {
      if ((r.op == ">" || r.op == ">>" || r.op == "1>" || r.op == ">|") && !r.target.empty() && r.target[0] != '&') {
        out.push_back(r.target);
      }
    }
  }
  out.insert(out.end(), named.begin(), named.end());
  if (!curl && !explicit_output) remote_name = true;
  if (remote_name) {
    for (std::size_t i = 1; i < a.size(); ++i) {
      if (a[i].find("://") == std::string::npos) continue;
      const std::string b = url_basename(a[i]);
      if (!b.empty()) out.push_back(b);
    }
  }
  return out;
}

}  // namespace nonaxis::ciso::detail
