// veth link from the sandbox's namespace to a configured uplink namespace, made
// with rtnetlink (libmnl), never by running ip(8).
#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>

#include <cstring>
#include <memory>
#include <vector>

#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/sandbox/egress.hpp"
#include "nonaxis/sandbox/netns_thread.hpp"
#include "nonaxis/sandbox/unique_fd.hpp"

namespace nonaxis::sandbox {
namespace {

struct SocketDeleter {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using SocketPtr = std::unique_ptr<mnl_socket, SocketDeleter>;

// One request, one acknowledgement.
std::string rtnl_request(nlmsghdr* nlh) {
  SocketPtr nl(mnl_socket_open(NETLINK_ROUTE));
  if (!nl || mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) return "rtnetlink socket";
  nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = 1;
  if (mnl_socket_sendto(nl.get(), nlh, nlh->nlmsg_len) < 0) return std::string("rtnetlink send: ") + std::strerror(errno);
  std::vector<char> buf(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE));
  const ssize_t n = mnl_socket_recvfrom(nl.get(), buf.data(), buf.size());
  if (n < 0) return "rtnetlink recv";
  const int rc = mnl_cb_run(buf.data(), static_cast<std::size_t>(n), 1, mnl_socket_get_portid(nl.get()), nullptr, nullptr);
  if (rc < 0) return std::string("rtnetlink: ") + std::strerror(errno);
  return "";
}

std::string link_up(const char* ifname) {
  const unsigned idx = ::if_nametoindex(ifname);
  if (idx == 0) return std::string("no interface ") + ifname;
  std::vector<char> buf(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE));
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_NEWLINK;
  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = static_cast<int>(idx);
  ifm->ifi_flags = IFF_UP;
  ifm->ifi_change = IFF_UP;
  return rtnl_request(nlh);
}

template <class Addr>
std::string add_addr(const char* ifname, const Addr& a, unsigned char prefix) {
  const unsigned idx = ::if_nametoindex(ifname);
  if (idx == 0) return std::string("no interface ") + ifname;
  std::vector<char> buf(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE));
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_NEWADDR;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  constexpr bool v6 = sizeof(Addr) == sizeof(in6_addr);
  ifa->ifa_family = v6 ? AF_INET6 : AF_INET;
  ifa->ifa_prefixlen = prefix;
  ifa->ifa_index = idx;
  // No duplicate address detection on a point-to-point veth we just made: otherwise
  // the address stays "tentative" (unusable) for a second or more.
  if (v6) ifa->ifa_flags = IFA_F_NODAD;
  mnl_attr_put(nlh, IFA_LOCAL, sizeof a, &a);
  mnl_attr_put(nlh, IFA_ADDRESS, sizeof a, &a);
  return rtnl_request(nlh);
}

template <class Addr>
std::string add_default_route(const Addr& gw) {
  std::vector<char> buf(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE));
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_NEWROUTE;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  auto* rt = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rt->rtm_family = sizeof(Addr) == sizeof(in6_addr) ? AF_INET6 : AF_INET;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_scope = RT_SCOPE_UNIVERSE;
  rt->rtm_type = RTN_UNICAST;
  mnl_attr_put(nlh, RTA_GATEWAY, sizeof gw, &gw);
  return rtnl_request(nlh);
}

}  // namespace

std::string attach_uplink(int netns_fd, const std::string& uplink, UplinkLink& out) {
  if (uplink.find('/') != std::string::npos || uplink.empty() || uplink[0] == '.') return "bad uplink namespace name";
  UniqueFd up(::open(("/run/netns/" + uplink).c_str(), O_RDONLY | O_CLOEXEC));
  if (!up.valid()) return "cannot open uplink namespace " + uplink;
  const auto rnd = bus::random_bytes(5);
  // A /31 in 169.254.0.0/16: link-local, never routed beyond the uplink namespace.
  const unsigned third = 1U + rnd[0] % 254U;
  const unsigned fourth = (rnd[1] & 0xfeU);
  const std::string base = "169.254." + std::to_string(third) + ".";
  out.uplink_addr = base + std::to_string(fourth);
  out.sandbox_addr = base + std::to_string(fourth + 1);
  out.host_ifname = "nxs" + bus::to_hex(std::span<const std::uint8_t>(rnd.data(), 3));
  // The IPv6 twin: a /127 of a unique-local prefix, so that allowed IPv6 hosts are
  // reachable too (and refused IPv6 traffic meets the drop rule, not a missing route).
  const std::string base6 = "fd6e:7861:7873:" + bus::to_hex(std::span<const std::uint8_t>(rnd.data() + 3, 2)) + "::";
  out.uplink_addr6 = base6 + "a";
  out.sandbox_addr6 = base6 + "b";
  in_addr up_addr{}, sb_addr{};
  in6_addr up6{}, sb6{};
  ::inet_pton(AF_INET, out.uplink_addr.c_str(), &up_addr);
  ::inet_pton(AF_INET, out.sandbox_addr.c_str(), &sb_addr);
  ::inet_pton(AF_INET6, out.uplink_addr6.c_str(), &up6);
  ::inet_pton(AF_INET6, out.sandbox_addr6.c_str(), &sb6);
  const std::string host_if = out.host_ifname;

  std::string err = in_netns(up.get(), [&]() -> std::string {
    std::vector<char> buf(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE));
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = RTM_NEWLINK;
    nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifm->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, host_if.c_str());
    nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
    nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
    nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
    auto* peer_ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    peer_ifm->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
    mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<std::uint32_t>(netns_fd));
    mnl_attr_nest_end(nlh, peer);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, linkinfo);
    std::string e = rtnl_request(nlh);
    if (e.empty()) e = add_addr(host_if.c_str(), up_addr, 31);
    if (e.empty()) e = add_addr(host_if.c_str(), up6, 127);
    if (e.empty()) e = link_up(host_if.c_str());
    return e;
  });
  if (!err.empty()) return "uplink: " + err;
  err = in_netns(netns_fd, [&]() -> std::string {
    std::string e = add_addr("eth0", sb_addr, 31);
    if (e.empty()) e = add_addr("eth0", sb6, 127);
    if (e.empty()) e = link_up("eth0");
    if (e.empty()) e = add_default_route(up_addr);
    if (e.empty()) e = add_default_route(up6);
    return e;
  });
  return err.empty() ? "" : "sandbox link: " + err;
}

}  // namespace nonaxis::sandbox
