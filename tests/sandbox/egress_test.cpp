// Egress through nftables: only the token's allowed hosts are reachable, refused
// packets are counted in the record. The "internet" is a network namespace this test
// creates, holding 198.51.100.10 (allowed) and 198.51.100.20 (not allowed); no test
// traffic goes anywhere else.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>

#include <atomic>
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
          sh("ip -n " + name_ + " addr add 198.51.100.20/32 dev lo") == 0;
    if (!ok_) return;
    std::thread t([this] {
      const int ns = ::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) return;
      ::close(ns);
      for (const char* ip : {"198.51.100.10", "198.51.100.20"}) {
        const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(8080);
        ::inet_pton(AF_INET, ip, &sa.sin_addr);
        if (::bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && ::listen(s, 8) == 0) listeners_.push_back(s);
      }
    });
    t.join();
    ok_ = listeners_.size() == 2;
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
    net_ = std::make_unique<SimulatedInternet>();
    NONAXIS_REQUIRE_CAPABILITY(net_->ok(), "cannot create a test network namespace with ip netns");
    testing::write_file(probe_.dir.path() / "hosts", "198.51.100.10 allowed.test\n");
  }
  testing::RunResult run(const std::vector<std::string>& probe_args) {
    return probe_.run(probe_args, {"allowed.test:8080"}, 20,
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

TEST_F(SandboxEgress, Ipv6DefaultDrop) {
  const auto r = run({"net-external", "2001:db8::20", "8080"});
  EXPECT_EQ(out(r).rfind("BLOCKED net-external", 0), 0U) << out(r);
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
