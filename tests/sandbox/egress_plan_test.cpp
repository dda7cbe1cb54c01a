// Parsing and trusted-side resolution of allowed_hosts.
#include <gtest/gtest.h>

#include "nonaxis/sandbox/egress.hpp"
#include "sandbox_harness.hpp"

namespace nonaxis::sandbox {
namespace {

TEST(SandboxEgressPlan, LiteralsPortsResolverAndHostsFile) {
  testing::TempDir d;
  testing::write_file(d.path() / "hosts", "198.51.100.20 api.test other.test\n2001:db8::20 api.test\n");
  EgressPlan p;
  ASSERT_EQ(plan_egress({"198.51.100.10", "api.test:443", "[2001:db8::30]:80", "resolver:198.51.100.53"},
                        d.path() / "hosts", p),
            "");
  ASSERT_EQ(p.hosts.size(), 3U);
  EXPECT_EQ(p.hosts[0].ipv4, std::vector<std::string>{"198.51.100.10"});
  EXPECT_EQ(p.hosts[1].ipv4, std::vector<std::string>{"198.51.100.20"});
  EXPECT_EQ(p.hosts[1].ipv6, std::vector<std::string>{"2001:db8::20"});
  EXPECT_EQ(p.hosts[1].port, 443);
  EXPECT_EQ(p.hosts[2].ipv6, std::vector<std::string>{"2001:db8::30"});
  EXPECT_EQ(*p.resolver, "198.51.100.53");
  const std::string hosts = pinned_etc_hosts(p);
  EXPECT_NE(hosts.find("198.51.100.20 api.test\n"), std::string::npos);
  EXPECT_NE(resolv_conf(p).find("nameserver 198.51.100.53"), std::string::npos);
}

TEST(SandboxEgressPlan, NoResolverMeansNoResolvConf) {
  EgressPlan p;
  ASSERT_EQ(plan_egress({"198.51.100.10"}, {}, p), "");
  EXPECT_TRUE(resolv_conf(p).empty());
}

TEST(SandboxEgressPlan, RejectsInjectionAndUnresolvable) {
  EgressPlan p;
  EXPECT_NE(plan_egress({"evil\n127.0.0.1 bank.test"}, {}, p), "");
  EXPECT_NE(plan_egress({"host.test:99999"}, {}, p), "");
  EXPECT_NE(plan_egress({"resolver:not-an-ip"}, {}, p), "");
  EXPECT_NE(plan_egress({"no-such-host.invalid"}, {}, p), "");
}

}  // namespace
}  // namespace nonaxis::sandbox
