#include "network_extractor.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_set>

namespace nonaxis::ciso::detail {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

int to_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return 0;
  int v = 0;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return 0;
    v = v * 10 + (c - '0');
  }
  return v <= 65535 ? v : 0;
}

// A destination must look like a DNS name or an IP literal (or be a script variable).
bool plausible_host(const std::string& h) {
  if (h.empty() || h.size() > 253) return false;
  if (h[0] == '$') return true;
  static const re2::RE2 name(R"re((?i)^(?:[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*\.?$|^\d{1,3}(?:\.\d{1,3}){3}$|^\[?[0-9a-f:]+:[0-9a-f:]*\]?$|^localhost$)re");
  return re2::RE2::FullMatch(h, name);
}

// `aGVsbG8=.x.evil.example`, `cm9vdDp4+Lz0.evil.example`: data spelled into leading labels
// that no DNS name may carry. The name that is actually resolved, and so the destination, is
// what follows the last such label; it must still be a plausible name of two labels or more.
std::string destination_under_data_labels(const std::string& h) {
  std::size_t cut = std::string::npos;
  std::size_t label = 0;
  for (std::size_t i = 0; i <= h.size(); ++i) {
    if (i == h.size() || h[i] == '.') {
      label = i + 1;
      continue;
    }
    const unsigned char c = static_cast<unsigned char>(h[i]);
    if (std::isalnum(c) == 0 && c != '-' && c != '_') {
      cut = h.find('.', label);
      i = cut == std::string::npos ? h.size() - 1 : cut;
      label = i + 1;
    }
  }
  if (cut == std::string::npos || cut + 1 >= h.size()) return {};
  std::string rest = h.substr(cut + 1);
  return rest.find('.') != std::string::npos && plausible_host(rest) ? rest : std::string();
}

}  // namespace

void add_connection(std::vector<Connection>& out, std::string host, int port, std::string proto, std::string purpose,
                    std::size_t offset) {
  if (!host.empty() && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  host = lower(host);
  while (!host.empty() && host.back() == '.') host.pop_back();
  if (!plausible_host(host)) {
    host = destination_under_data_labels(host);
    if (host.empty()) return;
    purpose += " (leading labels carry data no DNS name may hold)";
  }
  if (is_loopback(host)) return;
  if (port == 0) port = default_port(proto);
  out.push_back({std::move(host), port, std::move(proto), std::move(purpose), offset});
}

namespace {

// "user@host:path" / "host:path" / "user@host" -> host
std::string host_of_remote(std::string_view arg) {
  auto at = arg.find('@');
  if (at != std::string_view::npos) arg.remove_prefix(at + 1);
  auto colon = arg.find(':');
  if (colon != std::string_view::npos) arg = arg.substr(0, colon);
  auto slash = arg.find('/');
  if (slash != std::string_view::npos) arg = arg.substr(0, slash);
  return std::string(arg);
}

// The non-option arguments of a command, skipping values of options that take one.
std::vector<std::string> operands(const std::vector<std::string>& argv, const std::set<std::string>& with_arg) {
  std::vector<std::string> out;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() > 1 && a[0] == '-') {
      if (with_arg.count(a) != 0) ++i;
      continue;
    }
    out.push_back(a);
  }
  return out;
}

bool has_flag(const std::vector<std::string>& argv, std::string_view letter_set, std::string_view long_opt = {}) {
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (!long_opt.empty() && a == long_opt) return true;
    if (a.size() > 1 && a[0] == '-' && a[1] != '-' && a.find_first_of(letter_set) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

bool is_loopback(std::string_view h) {
  return h == "localhost" || h == "::1" || h == "0.0.0.0" || h.rfind("127.", 0) == 0 || h == "ip6-localhost" ||
         (h.size() > 10 && h.substr(h.size() - 10) == ".localhost");
}

int default_port(std::string_view p) {
  if (p == "http" || p == "ws") return 80;
  if (p == "https" || p == "wss") return 443;
  if (p == "ssh" || p == "sftp" || p == "scp" || p == "git+ssh") return 22;
  if (p == "ftp") return 21;
  if (p == "dns") return 53;
  if (p == "git") return 9418;
  if (p == "smtp") return 25;
  if (p == "telnet") return 23;
  if (p == "rsync") return 873;
  return 0;
}

void connections_from_text(std::string_view text, std::size_t offset, bool fixed, std::vector<Connection>& out) {
  static const re2::RE2 url(R"re((?i)\b([a-z][a-z0-9+.-]{1,15})://(?:[^\s/@'"]*@)?(\[[0-9a-f:]+\]|[a-z0-9_.$=+%-]+)(?::(\d{1,5}))?)re");
  static const re2::RE2 devtcp(R"re(/dev/(tcp|udp)/([^/\s'"]+)/(\d{1,5}))re");
  static const re2::RE2 pysock(R"re((?:connect|connect_ex|create_connection|sendto)\(\s*(?:[^()]*,\s*)?\(\s*['"]([^'"]+)['"]\s*,\s*(\d{1,5})\s*\))re");
  re2::StringPiece in(text.data(), text.size());
  std::string scheme, host, port;
  re2::StringPiece whole;
  auto where = [&](const re2::StringPiece& p) {
    return fixed ? offset : offset + static_cast<std::size_t>(p.data() - text.data());
  };
  // Each pattern needs a literal that a plain search finds much faster than RE2 can start.
  const bool has_url = text.find("://") != std::string_view::npos;
  const bool has_dev = text.find("/dev/") != std::string_view::npos;
  const bool has_sock = text.find("connect") != std::string_view::npos || text.find("sendto(") != std::string_view::npos;
  while (has_url && re2::RE2::FindAndConsume(&in, url, &scheme, &host, &port)) {
    scheme = lower(scheme);
    if (scheme == "file") continue;
    add_connection(out, host, to_port(port), scheme, "URL " + scheme, where(in));
  }
  in = re2::StringPiece(text.data(), text.size());
  std::string proto;
  while (has_dev && re2::RE2::FindAndConsume(&in, devtcp, &proto, &host, &port)) {
    add_connection(out, host, to_port(port), proto, "raw socket via /dev/" + proto, where(in));
  }
  in = re2::StringPiece(text.data(), text.size());
  while (has_sock && re2::RE2::FindAndConsume(&in, pysock, &host, &port)) {
    add_connection(out, host, to_port(port), "tcp", "socket connection", where(in));
  }
}

void connections_from_command(const EffectiveCommand& ec, std::size_t off, std::vector<Connection>& out) {
  const auto& a = ec.argv;
  const std::string& n = ec.name;
  // One hash lookup turns away the many commands that name no destination.
  static const std::unordered_set<std::string_view> kNetworkTools = {"aria2c", "autossh", "curl", "dig", "drill", "fping", "ftp", "git", "host", "hping3", "http", "https", "kdig", "lftp", "mongo", "mongosh", "mosh", "mtr", "mysql", "nc", "nc.openbsd", "nc.traditional", "ncat", "netcat", "nslookup", "openssl", "ping", "ping6", "psql", "rdesktop", "redis-cli", "rsync", "scp", "sftp", "socat", "ssh", "ssh-copy-id", "sshpass", "telnet", "tftp", "traceroute", "vncviewer", "wget", "xfreerdp", "xh"};
  if (a.empty() || kNetworkTools.count(n) == 0) return;
  if (n == "curl" || n == "wget" || n == "aria2c" || n == "http" || n == "https" || n == "xh") {
    const bool upload = has_flag(a, "dFT", "--data") || has_flag(a, "", "--upload-file") ||
                        has_flag(a, "", "--post-file") || has_flag(a, "", "--post-data") || has_flag(a, "", "--data-binary");
    for (const std::string& o : operands(a, {"-o", "-O", "-H", "-d", "-X", "-u", "-A", "-e", "-F", "-T", "-m", "-x",
                                              "--output", "--header", "--data", "--user", "--connect-timeout",
                                              "--max-time", "-P", "--directory-prefix", "--output-document", "-w",
                                              "--data-binary", "--data-raw", "-b", "-c", "--retry", "--proxy"})) {
      if (o.find("://") != std::string::npos) continue;  // URLs are taken by connections_from_text
      // A bare operand is a host only when spelled like one ("example.com/x", "10.0.0.1", or
      // data labels before a name); otherwise it is more likely a file name such as notes.txt.
      static const re2::RE2 ipv4(R"re(^\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?:/.*)?$)re");
      if (o.find('/') == std::string::npos && !re2::RE2::FullMatch(o, ipv4) && destination_under_data_labels(lower(o)).empty()) {
        continue;
      }
      add_connection(out, host_of_remote(o), 0, "https", upload ? "upload" : "download", off);
    }
  } else if (n == "nc" || n == "ncat" || n == "netcat" || n == "nc.traditional" || n == "nc.openbsd" || n == "telnet") {
    if (has_flag(a, "l", "--listen")) return;  // a listener, not an outbound connection
    const auto ops = operands(a, {"-p", "-s", "-w", "-i", "-e", "-c", "-x", "-X", "-q", "-I", "-O", "-T", "-V"});
    if (!ops.empty()) {
      add_connection(out, ops[0], ops.size() > 1 ? to_port(ops[1]) : 0, has_flag(a, "u") ? "udp" : (n == "telnet" ? "telnet" : "tcp"),
          "raw socket via " + n, off);
    }
  } else if (n == "ssh" || n == "mosh" || n == "ssh-copy-id" || n == "autossh" || n == "sshpass") {
    std::size_t start = 0;
    if (n == "sshpass") {  // sshpass -p pw ssh user@host
      for (std::size_t i = 1; i < a.size(); ++i) {
        if (a[i] == "ssh" || a[i] == "scp" || a[i] == "rsync") {
          start = i;
          break;
        }
      }
      if (start == 0) return;
    }
    std::vector<std::string> sub(a.begin() + static_cast<std::ptrdiff_t>(start), a.end());
    const auto ops = operands(sub, {"-p", "-i", "-l", "-o", "-L", "-R", "-D", "-F", "-J", "-W", "-b", "-c", "-E",
                                    "-e", "-m", "-O", "-Q", "-S", "-w", "-B", "-I", "-P"});
    if (!ops.empty()) {
      int port = 0;
      for (std::size_t i = 1; i + 1 < sub.size(); ++i) {
        if (sub[i] == "-p") port = to_port(sub[i + 1]);
      }
      add_connection(out, host_of_remote(ops[0]), port, "ssh", "remote shell", off);
    }
  } else if (n == "scp" || n == "rsync" || n == "sftp") {
    for (const std::string& o : operands(a, {"-P", "-i", "-o", "-e", "-F", "-l", "-S", "--port", "--rsh"})) {
      if (o.find("://") != std::string::npos) continue;
      const auto colon = o.find(':');
      if (colon == std::string::npos && n != "sftp") continue;
      add_connection(out, host_of_remote(o), 0, n == "rsync" && o.find("::") != std::string::npos ? "rsync" : "ssh",
          "file transfer via " + n, off);
    }
  } else if (n == "git") {
    for (const std::string& o : operands(a, {"-C", "-c", "-b", "--branch", "--depth", "-o", "--origin"})) {
      static const re2::RE2 scp_like(R"re(^[\w.-]+@([\w.-]+):)re");
      std::string h;
      if (re2::RE2::PartialMatch(o, scp_like, &h)) add_connection(out, h, 22, "ssh", "git remote", off);
    }
  } else if (n == "ping" || n == "ping6" || n == "traceroute" || n == "mtr" || n == "hping3" || n == "fping") {
    const auto ops = operands(a, {"-c", "-i", "-s", "-p", "-W", "-w", "-t", "-I", "-l", "-Q", "-m", "-q", "-d", "-E"});
    if (!ops.empty()) add_connection(out, ops.back(), 0, "icmp", "ICMP via " + n, off);
  } else if (n == "dig" || n == "nslookup" || n == "host" || n == "drill" || n == "kdig") {
    for (const std::string& o : operands(a, {"-t", "-c", "-p", "-q", "-x", "-b", "-k", "-y", "-type"})) {
      if (o.empty() || o[0] == '@' || o[0] == '+') continue;
      std::string h = o;
      if (h.find('.') == std::string::npos && h[0] != '$') continue;  // record types like MX, ANY
      add_connection(out, h, 53, "dns", "DNS lookup", off);
      break;
    }
  } else if (n == "socat") {
    static const re2::RE2 addr(R"re((?i)^(?:tcp|tcp4|tcp6|udp|udp4|udp6|openssl|ssl)(?:-connect)?:([^:,]+):(\d{1,5}))re");
    for (std::size_t i = 1; i < a.size(); ++i) {
      std::string h, p;
      if (re2::RE2::PartialMatch(a[i], addr, &h, &p)) add_connection(out, h, to_port(p), "tcp", "socket relay via socat", off);
    }
  } else if (n == "openssl" && a.size() > 1 && a[1] == "s_client") {
    for (std::size_t i = 2; i + 1 < a.size(); ++i) {
      if (a[i] == "-connect") {
        const auto colon = a[i + 1].rfind(':');
        add_connection(out, a[i + 1].substr(0, colon), colon == std::string::npos ? 443 : to_port(a[i + 1].substr(colon + 1)), "tls",
            "TLS connection", off);
      }
    }
  } else if (n == "ftp" || n == "lftp" || n == "tftp" || n == "rdesktop" || n == "xfreerdp" || n == "vncviewer") {
    const auto ops = operands(a, {"-u", "-p", "-d", "-g", "-P"});
    if (!ops.empty()) add_connection(out, host_of_remote(ops[0]), 0, n, "remote session via " + n, off);
  } else if (n == "mysql" || n == "psql" || n == "redis-cli" || n == "mongo" || n == "mongosh") {
    for (std::size_t i = 1; i + 1 < a.size(); ++i) {
      if (a[i] == "-h" || a[i] == "--host") add_connection(out, a[i + 1], 0, n, "database client", off);
    }
  }
}

}  // namespace nonaxis::ciso::detail
