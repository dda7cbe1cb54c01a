#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "nonaxis/sandbox/egress.hpp"

namespace nonaxis::sandbox {
namespace {

bool is_v4(const std::string& s) {
  in_addr a{};
  return ::inet_pton(AF_INET, s.c_str(), &a) == 1;
}
bool is_v6(const std::string& s) {
  in6_addr a{};
  return ::inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

// Host names are plain DNS labels; anything else (spaces, newlines) could smuggle
// lines into /etc/hosts.
bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 253) return false;
  for (char c : n) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v) {
    if (x == s) return;
  }
  v.push_back(s);
}

void resolve_from_file(const std::filesystem::path& file, AllowedHost& h) {
  if (file.empty()) return;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream ls(line);
    std::string addr, name;
    ls >> addr;
    while (ls >> name) {
      if (name != h.name) continue;
      if (is_v4(addr)) add_unique(h.ipv4, addr);
      if (is_v6(addr)) add_unique(h.ipv6, addr);
    }
  }
}

void resolve_system(AllowedHost& h) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(h.name.c_str(), nullptr, &hints, &res) != 0) return;
  for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (p->ai_family == AF_INET) {
      sockaddr_in sa{};
      std::memcpy(&sa, p->ai_addr, sizeof sa);
      ::inet_ntop(AF_INET, &sa.sin_addr, buf, sizeof buf);
      add_unique(h.ipv4, buf);
    } else if (p->ai_family == AF_INET6) {
      sockaddr_in6 sa{};
      std::memcpy(&sa, p->ai_addr, sizeof sa);
      ::inet_ntop(AF_INET6, &sa.sin6_addr, buf, sizeof buf);
      add_unique(h.ipv6, buf);
    }
  }
  ::freeaddrinfo(res);
}

}  // namespace

std::string plan_egress(const std::vector<std::string>& allowed_hosts, const std::filesystem::path& hosts_file,
                        EgressPlan& out) {
  for (const auto& entry : allowed_hosts) {
    if (entry.rfind("resolver:", 0) == 0) {
      const std::string ip = entry.substr(9);
      if (!is_v4(ip) && !is_v6(ip)) return "resolver must be an IP literal: " + entry;
      out.resolver = ip;
      continue;
    }
    AllowedHost h;
    std::string host = entry;
    std::string port;
    if (!host.empty() && host.front() == '[') {
      const auto close = host.find(']');
      if (close == std::string::npos) return "bad host entry: " + entry;
      if (close + 1 < host.size()) {
        if (host[close + 1] != ':') return "bad host entry: " + entry;
        port = host.substr(close + 2);
      }
      host = host.substr(1, close - 1);
    } else if (std::count(host.begin(), host.end(), ':') == 1) {
      port = host.substr(host.find(':') + 1);
      host = host.substr(0, host.find(':'));
    }
    if (!port.empty()) {
      if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return "bad port: " + entry;
      const unsigned long p = std::stoul(port);
      if (p == 0 || p > 65535) return "bad port: " + entry;
      h.port = static_cast<std::uint16_t>(p);
    }
    h.name = host;
    if (is_v4(host)) {
      h.ipv4.push_back(host);
    } else if (is_v6(host)) {
      h.ipv6.push_back(host);
    } else {
      if (!valid_name(host)) return "bad host name: " + entry;
      resolve_from_file(hosts_file, h);
      if (h.ipv4.empty() && h.ipv6.empty()) resolve_system(h);
    }
    if (h.ipv4.empty() && h.ipv6.empty()) return "cannot resolve allowed host " + host;
    out.hosts.push_back(std::move(h));
  }
  return "";
}

std::string pinned_etc_hosts(const EgressPlan& plan) {
  std::string s = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n";
  for (const auto& h : plan.hosts) {
    if (is_v4(h.name) || is_v6(h.name)) continue;
    for (const auto& a : h.ipv4) s += a + " " + h.name + "\n";
    for (const auto& a : h.ipv6) s += a + " " + h.name + "\n";
  }
  return s;
}

std::string resolv_conf(const EgressPlan& plan) {
  return plan.resolver ? "nameserver " + *plan.resolver + "\noptions attempts:1 timeout:2\n" : std::string();
}

}  // namespace nonaxis::sandbox
