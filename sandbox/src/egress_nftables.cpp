// nftables table for one sandbox, built with libnftnl in one netlink batch. Never
// runs nft(8): the table is data we construct, not a script we hand to a parser.
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>

#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "nonaxis/sandbox/egress.hpp"
#include "nonaxis/sandbox/netns_socket.hpp"

namespace nonaxis::sandbox {
namespace {

constexpr const char* kTable = "nonaxis";

struct RuleDeleter {
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};
using RulePtr = std::unique_ptr<nftnl_rule, RuleDeleter>;

struct SocketDeleter {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using SocketPtr = std::unique_ptr<mnl_socket, SocketDeleter>;

// A bound netfilter socket of the namespace `netns_fd`; null (errno set) on failure.
SocketPtr netfilter_socket(int netns_fd) {
  UniqueFd fd = socket_in_netns(netns_fd, AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
  if (!fd.valid()) return nullptr;
  SocketPtr nl(mnl_socket_fdopen(fd.get()));
  if (!nl) return nullptr;
  (void)fd.release();  // owned by nl now
  if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) return nullptr;
  return nl;
}

void add_expr(nftnl_rule* r, nftnl_expr* e) {
  if (e == nullptr) throw std::runtime_error("nftnl_expr_alloc");
  nftnl_rule_add_expr(r, e);
}

// Register 1 == data: the comparison half of every match below.
void cmp_eq(nftnl_rule* r, const void* data, std::uint32_t len) {
  nftnl_expr* c = nftnl_expr_alloc("cmp");
  if (c == nullptr) throw std::runtime_error("nftnl_expr_alloc");
  nftnl_expr_set_u32(c, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(c, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
  nftnl_expr_set(c, NFTNL_EXPR_CMP_DATA, data, len);
  add_expr(r, c);
}

void meta_cmp(nftnl_rule* r, std::uint32_t key, const void* data, std::uint32_t len) {
  nftnl_expr* m = nftnl_expr_alloc("meta");
  if (m == nullptr) throw std::runtime_error("nftnl_expr_alloc");
  nftnl_expr_set_u32(m, NFTNL_EXPR_META_KEY, key);
  nftnl_expr_set_u32(m, NFTNL_EXPR_META_DREG, NFT_REG_1);
  add_expr(r, m);
  cmp_eq(r, data, len);
}

void payload_cmp(nftnl_rule* r, std::uint32_t base, std::uint32_t offset, const void* data, std::uint32_t len) {
  nftnl_expr* p = nftnl_expr_alloc("payload");
  if (p == nullptr) throw std::runtime_error("nftnl_expr_alloc");
  nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_BASE, base);
  nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
  nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_LEN, len);
  nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  add_expr(r, p);
  cmp_eq(r, data, len);
}

void counter_verdict(nftnl_rule* r, int verdict) {
  add_expr(r, nftnl_expr_alloc("counter"));
  nftnl_expr* v = nftnl_expr_alloc("immediate");
  if (v == nullptr) throw std::runtime_error("nftnl_expr_alloc");
  nftnl_expr_set_u32(v, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(v, NFTNL_EXPR_IMM_VERDICT, static_cast<std::uint32_t>(verdict));
  add_expr(r, v);
}

RulePtr new_rule(const char* chain, const std::string& label) {
  RulePtr r(nftnl_rule_alloc());
  if (!r) throw std::runtime_error("nftnl_rule_alloc");
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, kTable);
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, chain);
  nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
  // The label travels as rule user data, so counters can be read back by name.
  nftnl_rule_set_data(r.get(), NFTNL_RULE_USERDATA, label.data(), static_cast<std::uint32_t>(label.size()));
  return r;
}

// One accept rule for address `addr` (daddr when outbound, saddr when inbound),
// optionally narrowed to transport protocol `proto` and `port` (dport/sport).
RulePtr address_rule(const char* chain, bool outbound, const std::string& addr, std::uint8_t proto,
                     std::optional<std::uint16_t> port, const std::string& label) {
  RulePtr r = new_rule(chain, label);
  in_addr a4{};
  in6_addr a6{};
  if (::inet_pton(AF_INET, addr.c_str(), &a4) == 1) {
    const std::uint8_t fam = NFPROTO_IPV4;
    meta_cmp(r.get(), NFT_META_NFPROTO, &fam, 1);
    payload_cmp(r.get(), NFT_PAYLOAD_NETWORK_HEADER, outbound ? 16 : 12, &a4, 4);
  } else if (::inet_pton(AF_INET6, addr.c_str(), &a6) == 1) {
    const std::uint8_t fam = NFPROTO_IPV6;
    meta_cmp(r.get(), NFT_META_NFPROTO, &fam, 1);
    payload_cmp(r.get(), NFT_PAYLOAD_NETWORK_HEADER, outbound ? 24 : 8, &a6, 16);
  } else {
    throw std::runtime_error("not an address: " + addr);
  }
  if (proto != 0) {
    meta_cmp(r.get(), NFT_META_L4PROTO, &proto, 1);
    if (port) {
      const std::uint16_t be = htons(*port);
      payload_cmp(r.get(), NFT_PAYLOAD_TRANSPORT_HEADER, outbound ? 2 : 0, &be, 2);
    }
  }
  counter_verdict(r.get(), NF_ACCEPT);
  return r;
}

void add_host_rules(std::vector<RulePtr>& rules, const char* chain, bool outbound, const std::string& addr,
                    std::optional<std::uint16_t> port, const std::string& what) {
  const std::string dir = outbound ? " out" : " in";
  if (port) {
    // Appended, not "literal" + std::string: GCC 12 warns falsely (-Wrestrict) on that in Release.
    std::string p = ":";
    p += std::to_string(*port);
    rules.push_back(address_rule(chain, outbound, addr, IPPROTO_TCP, port, "allow tcp " + what + p + dir));
    rules.push_back(address_rule(chain, outbound, addr, IPPROTO_UDP, port, "allow udp " + what + p + dir));
  } else {
    rules.push_back(address_rule(chain, outbound, addr, 0, std::nullopt, "allow " + what + dir));
  }
}

std::vector<RulePtr> build_rules(const EgressPlan& plan) {
  std::vector<RulePtr> rules;
  for (const bool outbound : {true, false}) {
    const char* chain = outbound ? "output" : "input";
    const std::string dir = outbound ? " out" : " in";
    // Loopback is the sandbox's own; lo is always ifindex 1 in a new namespace.
    RulePtr lo = new_rule(chain, "loopback" + dir);
    const std::uint32_t lo_index = 1;
    meta_cmp(lo.get(), outbound ? NFT_META_OIF : NFT_META_IIF, &lo_index, 4);
    counter_verdict(lo.get(), NF_ACCEPT);
    rules.push_back(std::move(lo));
    // IPv6 neighbour discovery (solicitation 135, advertisement 136) with the uplink:
    // without it no IPv6 packet, allowed or not, ever leaves. ARP, its IPv4
    // counterpart, does not pass the inet hooks at all. ND is link-local (hop limit
    // 255, never forwarded), so it reaches only the uplink namespace's veth end.
    for (const std::uint8_t type : {std::uint8_t{135}, std::uint8_t{136}}) {
      RulePtr nd = new_rule(chain, std::string("ipv6 neighbour discovery ") + (type == 135 ? "solicit" : "advert") + dir);
      const std::uint8_t fam = NFPROTO_IPV6;
      const std::uint8_t icmpv6 = IPPROTO_ICMPV6;
      meta_cmp(nd.get(), NFT_META_NFPROTO, &fam, 1);
      meta_cmp(nd.get(), NFT_META_L4PROTO, &icmpv6, 1);
      payload_cmp(nd.get(), NFT_PAYLOAD_TRANSPORT_HEADER, 0, &type, 1);
      counter_verdict(nd.get(), NF_ACCEPT);
      rules.push_back(std::move(nd));
    }
    for (const auto& h : plan.hosts) {
      for (const auto& a : h.ipv4) add_host_rules(rules, chain, outbound, a, h.port, h.name + " " + a);
      for (const auto& a : h.ipv6) add_host_rules(rules, chain, outbound, a, h.port, h.name + " " + a);
    }
    if (plan.resolver) add_host_rules(rules, chain, outbound, *plan.resolver, 53, "resolver " + *plan.resolver);
    for (const auto& [fam, name] : {std::pair<std::uint8_t, const char*>{NFPROTO_IPV4, "ipv4"},
                                    std::pair<std::uint8_t, const char*>{NFPROTO_IPV6, "ipv6"}}) {
      RulePtr drop = new_rule(chain, std::string("refused ") + name + dir);
      meta_cmp(drop.get(), NFT_META_NFPROTO, &fam, 1);
      counter_verdict(drop.get(), NF_DROP);
      rules.push_back(std::move(drop));
    }
  }
  return rules;
}

// Sends the batch in `buf` and waits for `acks` acknowledgements; "" or an error.
std::string send_and_ack(mnl_socket* nl, const void* buf, std::size_t len, int acks) {
  if (mnl_socket_sendto(nl, buf, len) < 0) return std::string("netlink send: ") + std::strerror(errno);
  std::vector<char> rbuf(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE) * 4);
  while (acks > 0) {
    const ssize_t n = mnl_socket_recvfrom(nl, rbuf.data(), rbuf.size());
    if (n < 0) return std::string("netlink recv: ") + std::strerror(errno);
    int remaining = static_cast<int>(n);
    for (auto* nlh = static_cast<nlmsghdr*>(static_cast<void*>(rbuf.data())); mnl_nlmsg_ok(nlh, remaining);
         nlh = mnl_nlmsg_next(nlh, &remaining)) {
      if (nlh->nlmsg_type != NLMSG_ERROR) continue;
      const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (err->error != 0) return std::string("nftables refused the batch: ") + std::strerror(-err->error);
      --acks;
    }
  }
  return "";
}

}  // namespace

std::string install_egress_table(int netns_fd, const EgressPlan& plan) {
  try {
    std::vector<RulePtr> rules = build_rules(plan);
    // Sized for the batch (a rule message is well under 1 KiB): zeroing a fixed 1 MiB
    // buffer cost more page faults than building the whole table.
    std::vector<char> buf(std::size_t{16384} + rules.size() * 1024);
    mnl_nlmsg_batch* batch = mnl_nlmsg_batch_start(buf.data(), buf.size());
    std::uint32_t seq = 1;
    int acks = 0;
    auto next = [&]() {
      if (!mnl_nlmsg_batch_next(batch)) throw std::runtime_error("nftables batch too large");
    };
    nftnl_batch_begin(static_cast<char*>(mnl_nlmsg_batch_current(batch)), seq++);
    next();
    {
      nftnl_table* t = nftnl_table_alloc();
      nftnl_table_set_str(t, NFTNL_TABLE_NAME, kTable);
      nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
      nlmsghdr* nlh = nftnl_nlmsg_build_hdr(static_cast<char*>(mnl_nlmsg_batch_current(batch)), NFT_MSG_NEWTABLE,
                                            NFPROTO_INET, NLM_F_CREATE | NLM_F_ACK, seq++);
      nftnl_table_nlmsg_build_payload(nlh, t);
      nftnl_table_free(t);
      next();
      ++acks;
    }
    for (const auto& [name, hook] : {std::pair<const char*, std::uint32_t>{"output", NF_INET_LOCAL_OUT},
                                     std::pair<const char*, std::uint32_t>{"input", NF_INET_LOCAL_IN}}) {
      nftnl_chain* c = nftnl_chain_alloc();
      nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, kTable);
      nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
      nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
      nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
      nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
      nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_DROP);  // default drop, IPv4 and IPv6
      nlmsghdr* nlh = nftnl_nlmsg_build_hdr(static_cast<char*>(mnl_nlmsg_batch_current(batch)), NFT_MSG_NEWCHAIN,
                                            NFPROTO_INET, NLM_F_CREATE | NLM_F_ACK, seq++);
      nftnl_chain_nlmsg_build_payload(nlh, c);
      nftnl_chain_free(c);
      next();
      ++acks;
    }
    for (const auto& r : rules) {
      nlmsghdr* nlh = nftnl_nlmsg_build_hdr(static_cast<char*>(mnl_nlmsg_batch_current(batch)), NFT_MSG_NEWRULE,
                                            NFPROTO_INET, NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK, seq++);
      nftnl_rule_nlmsg_build_payload(nlh, r.get());
      next();
      ++acks;
    }
    nftnl_batch_end(static_cast<char*>(mnl_nlmsg_batch_current(batch)), seq++);
    next();
    SocketPtr nl = netfilter_socket(netns_fd);
    if (!nl) {
      mnl_nlmsg_batch_stop(batch);
      return std::string("netfilter socket: ") + std::strerror(errno);
    }
    std::string err = send_and_ack(nl.get(), mnl_nlmsg_batch_head(batch), mnl_nlmsg_batch_size(batch), acks);
    mnl_nlmsg_batch_stop(batch);
    return err;
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::vector<RuleCounter> read_egress_counters(int netns_fd) {
  std::vector<RuleCounter> out;
  const std::string err = [&]() -> std::string {
    SocketPtr nl = netfilter_socket(netns_fd);
    if (!nl) return "netfilter socket";
    std::vector<char> buf(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE) * 4);
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, 1);
    RulePtr filter(nftnl_rule_alloc());
    nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, kTable);
    nftnl_rule_nlmsg_build_payload(nlh, filter.get());
    if (mnl_socket_sendto(nl.get(), nlh, nlh->nlmsg_len) < 0) return "netlink send";
    const unsigned portid = mnl_socket_get_portid(nl.get());
    auto cb = [](const nlmsghdr* m, void* data) -> int {
      auto* vec = static_cast<std::vector<RuleCounter>*>(data);
      RulePtr r(nftnl_rule_alloc());
      if (nftnl_rule_nlmsg_parse(m, r.get()) < 0) return MNL_CB_OK;
      RuleCounter rc;
      std::uint32_t len = 0;
      if (const void* ud = nftnl_rule_get_data(r.get(), NFTNL_RULE_USERDATA, &len)) {
        rc.label.assign(static_cast<const char*>(ud), len);
      }
      nftnl_expr_iter* it = nftnl_expr_iter_create(r.get());
      for (nftnl_expr* e = nftnl_expr_iter_next(it); e != nullptr; e = nftnl_expr_iter_next(it)) {
        if (std::strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0) {
          rc.packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
          rc.bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
        }
      }
      nftnl_expr_iter_destroy(it);
      vec->push_back(std::move(rc));
      return MNL_CB_OK;
    };
    for (;;) {
      const ssize_t n = mnl_socket_recvfrom(nl.get(), buf.data(), buf.size());
      if (n <= 0) return "netlink recv";
      const int rc = mnl_cb_run(buf.data(), static_cast<std::size_t>(n), 1, portid, cb, &out);
      if (rc <= MNL_CB_STOP) return rc == MNL_CB_STOP ? "" : "netlink dump failed";
    }
  }();
  if (!err.empty()) out.push_back(RuleCounter{"error: " + err, 0, 0});
  return out;
}

}  // namespace nonaxis::sandbox
