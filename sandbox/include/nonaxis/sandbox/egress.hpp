#pragma once
// Egress (issue 5 §4): the sandbox's network namespace gets one nftables table,
// built with libnftnl/libmnl in a single batch: default drop for IPv4 and IPv6 in
// both directions, loopback allowed, and one counted accept rule per address of each
// allowed host (resolved here, on the trusted side, and pinned into /etc/hosts).
// DNS is reachable only if the token names a resolver ("resolver:<ip>").
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace nonaxis::sandbox {

struct AllowedHost {
  std::string name;                   // as in the token
  std::optional<std::uint16_t> port;  // "host:port" restricts to one TCP/UDP port
  std::vector<std::string> ipv4;      // dotted quads
  std::vector<std::string> ipv6;
};

struct EgressPlan {
  std::vector<AllowedHost> hosts;
  std::optional<std::string> resolver;  // IPv4 or IPv6 literal
};

// Parses the token's allowed_hosts ("name", "name:port", "[v6]:port", "resolver:<ip>")
// and resolves names: first from `hosts_file` (a trusted static map, /etc/hosts
// syntax), then via getaddrinfo on the host. Returns "" or an error.
std::string plan_egress(const std::vector<std::string>& allowed_hosts, const std::filesystem::path& hosts_file,
                        EgressPlan& out);

// /etc/hosts for the sandbox: localhost plus each allowed host's pinned addresses.
std::string pinned_etc_hosts(const EgressPlan& plan);
std::string resolv_conf(const EgressPlan& plan);

// Installs the table in the namespace `netns_fd` (one batch). Returns "" or an error.
std::string install_egress_table(int netns_fd, const EgressPlan& plan);

struct RuleCounter {
  std::string label;  // e.g. "allow 198.51.100.10", "refused ipv4 out"
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
};

// Per-rule counters of the table in `netns_fd`, in rule order.
std::vector<RuleCounter> read_egress_counters(int netns_fd);

struct UplinkLink {
  std::string host_ifname;     // veth end in the uplink namespace
  std::string sandbox_addr;    // 169.254.x.y
  std::string uplink_addr;
  std::string sandbox_addr6;   // fd6e:7861:7873:x::b (a /127; IPv6 default route via ::a)
  std::string uplink_addr6;
};

// Connects the sandbox namespace to the uplink namespace /run/netns/<uplink> with a
// veth pair: a /31 of 169.254.0.0/16 and a /127 of fd6e:7861:7873::/48, default
// routes (IPv4 and IPv6) via the uplink side. Returns ""
// or an error. The link disappears with the sandbox's namespace.
std::string attach_uplink(int netns_fd, const std::string& uplink, UplinkLink& out);

}  // namespace nonaxis::sandbox
