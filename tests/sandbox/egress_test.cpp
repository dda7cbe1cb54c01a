// Egress through nftables: only the token's allowed hosts are reachable, refused
// packets are counted in the record. The "internet" is a network namespace this test
// creates, holding 198.51.100.10 and 2001:db8::10 (allowed) and 198.51.100.20 and
// 2001:db8::20 (not allowed); no test traffic goes anywhere else.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <cstdlib>
#include <thread>

#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/sandbox/exit_codes.hpp"
#include "privileged.hpp"
#include "sandbox_harness.hpp"

namespace nonaxis::sandbox {
namespace {

int sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

// A namespace with two test hosts, each answering HTTP on port 8080.
class SimulatedInternet {
 public:
  SimulatedInternet() : name_("nxtest-" + bus::uuid_v4().substr(0, 8)) {
    ok_ = sh("ip netns add " + name_) == 0 && sh("ip -n " + name_ + " link set lo up") == 0 &&
          sh("ip -n " + name_ + " addr add 198.51.100.10/32 dev lo") == 0 &&
          sh("ip -n " + name_ + " addr add 198.51.100.20/32 dev lo") == 0 &&
          sh("ip -n " + name_ + " addr add 2001:db8::10/128 dev lo nodad") == 0 &&
          sh("ip -n " + name_ + " addr add 2001:db8::20/128 dev lo nodad") == 0;
    if (!ok_) return;
    std::thread t([this] {
      const int ns = ::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) return;
      ::close(ns);
      // One listener on port 8080 per peer address, IPv4 and IPv6 alike.
      auto listen_on = [this](const char* ip) {
        sockaddr_storage ss{};
        socklen_t len = 0;
        const bool v6 = std::strchr(ip, ':') != nullptr;
        if (v6) {
          auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
          sa->sin6_family = AF_INET6;
          sa->sin6_port = htons(8080);
          ::inet_pton(AF_INET6, ip, &sa->sin6_addr);
          len = sizeof *sa;
        } else {
          auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
          sa->sin_family = AF_INET;
          sa->sin_port = htons(8080);
          ::inet_pton(AF_INET, ip, &sa->sin_addr);
          len = sizeof *sa;
        }
        const int s = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(s, reinterpret_cast<sockaddr*>(&ss), len) == 0 && ::listen(s, 8) == 0) listeners_.push_back(s);
      };
      for (const char* ip : {"198.51.100.10", "198.51.100.20", "2001:db8::10", "2001:db8::20"}) listen_on(ip);
    });
    t.join();
    ok_ = listeners_.size() == 4;
    server_ = std::thread([this] { serve(); });
  }
  ~SimulatedInternet() {
    stop_ = true;
    if (server_.joinable()) server_.join();
    for (int s : listeners_) ::close(s);
    sh("ip netns del " + name_);
  }
  SimulatedInternet(const SimulatedInternet&) = delete;
  SimulatedInternet& operator=(const SimulatedInternet&) = delete;
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }

 private:
  void serve() {
    // Bounded: stops when the test ends; answers at most a few hundred connections.
    for (int served = 0; !stop_ && served < 500;) {
      std::vector<pollfd> fds;
      for (int s : listeners_) fds.push_back({s, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
      for (const auto& f : fds) {
        if ((f.revents & POLLIN) == 0) continue;
        const int c = ::accept4(f.fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        char buf[256];
        (void)!::read(c, buf, sizeof buf);
        const char resp[] = "HTTP/1.0 200 OK\r\n\r\nhello\n";
        (void)!::write(c, resp, sizeof resp - 1);
        ::close(c);
        ++served;
      }
    }
  }
  std::string name_;
  bool ok_ = false;
  std::vector<int> listeners_;
  std::atomic<bool> stop_{false};
  std::thread server_;
};

class SandboxEgress : public ::testing::Test {
 protected:
  void SetUp() override {
    NONAXIS_REQUIRE_ROOT();
    // iproute2 is installed by scripts/install-deps: its absence is a broken setup, not
    // a missing privilege, so it fails instead of skipping.
    ASSERT_TRUE(::access("/usr/sbin/ip", X_OK) == 0 || ::access("/sbin/ip", X_OK) == 0) << "ip(8) missing: install iproute2";
    net_ = std::make_unique<SimulatedInternet>();
    NONAXIS_REQUIRE_CAPABILITY(net_->ok(), "cannot create a test network namespace with ip netns");
    testing::write_file(probe_.dir.path() / "hosts", "198.51.100.10 allowed.test\n");
  }
  testing::RunResult run(const std::vector<std::string>& probe_args,
                         std::vector<std::string> hosts = {"allowed.test:8080"}) {
    return probe_.run(probe_args, std::move(hosts), 20,
                      {"--uplink-netns", net_->name(), "--hosts-file", (probe_.dir.path() / "hosts").string()});
  }
  static std::string out(const testing::RunResult& r) {
    return r.doc.is_object() ? r.doc["stdout"].get<std::string>() : r.out_raw;
  }
  std::unique_ptr<SimulatedInternet> net_;
  testing::ProbeRun probe_;
};

TEST_F(SandboxEgress, AllowedHostReachable) {
  const auto r = run({"net-allowed", "198.51.100.10", "8080"});
  EXPECT_EQ(out(r).rfind("OK net-allowed", 0), 0U) << out(r) << r.err_raw;
  const std::string counters = r.doc["record"]["payload"]["egress"]["counters"].dump();
  EXPECT_NE(counters.find("allow tcp allowed.test 198.51.100.10:8080 out"), std::string::npos) << counters;
  EXPECT_TRUE(r.doc["record"]["payload"]["layers"]["egress"]["uplink"].get<bool>());
}

TEST_F(SandboxEgress, OtherHostRefusedAndCounted) {
  const auto r = run({"net-external", "198.51.100.20", "8080"});
  EXPECT_EQ(out(r).rfind("BLOCKED net-external", 0), 0U) << out(r) << r.err_raw;
  const auto& payload = r.doc["record"]["payload"];
  bool counted = false;
  for (const auto& c : payload["egress"]["counters"]) {
    if (c["rule"] == "refused ipv4 out" && c["packets"].get<std::uint64_t>() > 0) counted = true;
  }
  EXPECT_TRUE(counted) << payload["egress"].dump();
  EXPECT_NE(payload["violations"].dump().find("egress_refused"), std::string::npos);
}

TEST_F(SandboxEgress, AllowedHostOtherPortRefused) {
  const auto r = run({"net-external", "198.51.100.10", "8081"});
  EXPECT_EQ(out(r).rfind("BLOCKED net-external", 0), 0U) << out(r);
}

std::uint64_t counter(const testing::RunResult& r, const std::string& rule) {
  for (const auto& c : r.doc["record"]["payload"]["egress"]["counters"]) {
    if (c["rule"] == rule) return c["packets"].get<std::uint64_t>();
  }
  return 0;
}

// IPv6 is routed to the simulated internet (the uplink gives the sandbox an IPv6
// default route), so what stops an unlisted IPv6 peer is the nftables drop rule, not
// a missing route: the allowed IPv6 peer on the same route answers, the refused one
// times out instead of failing with ENETUNREACH, and the IPv6 drop counter moves.
TEST_F(SandboxEgress, Ipv6RoutedButRefusedByTheDropRule) {
  const std::vector<std::string> hosts = {"allowed.test:8080", "[2001:db8::10]:8080"};
  const auto allowed6 = run({"net-allowed", "2001:db8::10", "8080"}, hosts);
  ASSERT_EQ(out(allowed6).rfind("OK net-allowed", 0), 0U) << out(allowed6) << allowed6.err_raw;
  std::uint64_t allowed_packets = 0;
  for (const auto& c : allowed6.doc["record"]["payload"]["egress"]["counters"]) {
    const std::string rule = c["rule"];
    if (rule.rfind("allow tcp ", 0) == 0 && rule.find("2001:db8::10") != std::string::npos &&
        rule.size() > 4 && rule.substr(rule.size() - 4) == " out") {
      allowed_packets += c["packets"].get<std::uint64_t>();
    }
  }
  EXPECT_GT(allowed_packets, 0U) << allowed6.doc["record"]["payload"]["egress"].dump();
  const auto allowed4 = run({"net-allowed", "198.51.100.10", "8080"}, hosts);
  EXPECT_EQ(out(allowed4).rfind("OK net-allowed", 0), 0U) << out(allowed4) << allowed4.err_raw;

  const auto refused = run({"net-external", "2001:db8::20", "8080"}, hosts);
  EXPECT_EQ(out(refused).rfind("BLOCKED net-external", 0), 0U) << out(refused);
  EXPECT_EQ(out(refused).find("ENETUNREACH"), std::string::npos) << "no route: not the rule under test";
  EXPECT_GT(counter(refused, "refused ipv6 out"), 0U) << refused.doc["record"]["payload"]["egress"].dump();
  EXPECT_EQ(counter(refused, "refused ipv4 out"), 0U);
  EXPECT_NE(refused.doc["record"]["payload"]["violations"].dump().find("refused ipv6 out"), std::string::npos);
}

TEST_F(SandboxEgress, NamesPinnedAndNoDns) {
  const auto pinned = run({"resolve-pinned", "allowed.test"});
  EXPECT_EQ(out(pinned).rfind("OK resolve-pinned", 0), 0U) << out(pinned);
  const auto resolv = run({"read-host-file", "/etc/resolv.conf"});
  EXPECT_EQ(out(resolv).rfind("BLOCKED read-host-file", 0), 0U) << out(resolv);
}

TEST(SandboxEgressConfig, AllowedHostsWithoutUplinkRefused) {
  NONAXIS_REQUIRE_ROOT();
  testing::ProbeRun p;
  const auto r = p.run({"exit", "0"}, {"198.51.100.10"});
  EXPECT_EQ(r.exit_code, code(Refusal::kScopeNotAllowed)) << r.err_raw;
}

}  // namespace
}  // namespace nonaxis::sandbox
