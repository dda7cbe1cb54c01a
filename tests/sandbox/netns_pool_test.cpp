// Pre-created network namespaces: each is complete before it is offered (loopback up,
// the default-drop table), handed out once, and confinement is the same through one.
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <thread>

#include "nonaxis/sandbox/egress.hpp"
#include "nonaxis/sandbox/netns_pool.hpp"
#include "nonaxis/sandbox/netns_socket.hpp"
#include "privileged.hpp"
#include "sandbox_harness.hpp"

namespace nonaxis::sandbox {
namespace {

TEST(SandboxNetnsPool, EntriesAreCompleteAndSingleUse) {
  NONAXIS_REQUIRE_ROOT();
  testing::TempDir d;
  NetnsPool pool(d.path() / "netns-pool");
  // refill() moves its caller into each namespace it makes (the helper is disposable);
  // here a child process does it.
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(NetnsPool(d.path() / "netns-pool").refill(3) == 3 ? 0 : 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(pool.ready_count(), 3U);
  std::set<ino_t> seen;
  for (int i = 0; i < 3; ++i) {
    UniqueFd ns = pool.claim();
    ASSERT_TRUE(ns.valid());
    struct statfs sf {};
    ASSERT_EQ(::fstatfs(ns.get(), &sf), 0);
    EXPECT_EQ(sf.f_type, static_cast<decltype(sf.f_type)>(NSFS_MAGIC));
    struct stat st {};
    ASSERT_EQ(::fstat(ns.get(), &st), 0);
    EXPECT_TRUE(seen.insert(st.st_ino).second) << "a namespace was handed out twice";
    // The table a launch would otherwise install, untouched.
    bool v4 = false, v6 = false;
    for (const auto& c : read_egress_counters(ns.get())) {
      EXPECT_EQ(c.packets, 0U) << c.label;
      v4 = v4 || c.label == "refused ipv4 out";
      v6 = v6 || c.label == "refused ipv6 out";
    }
    EXPECT_TRUE(v4 && v6);
  }
  EXPECT_FALSE(pool.claim().valid()) << "the pool is empty now";
  EXPECT_EQ(pool.drain(), 3U);  // the three claimed entries, unmounted and removed
  for (const auto& e : std::filesystem::directory_iterator(d.path() / "netns-pool")) {
    EXPECT_EQ(e.path().filename(), ".lock");
  }
}

// The counters and tables are read through sockets opened this way, on the launching
// thread: the socket must belong to the sandbox's namespace, and the thread must be
// back in its own one afterwards.
TEST(SandboxNetnsPool, SocketInNetnsBelongsThereAndTheCallerStaysHome) {
  NONAXIS_REQUIRE_ROOT();
  testing::TempDir d;
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(NetnsPool(d.path() / "netns-pool").refill(1) == 1 ? 0 : 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  NetnsPool pool(d.path() / "netns-pool");
  UniqueFd ns = pool.claim();
  ASSERT_TRUE(ns.valid());
  auto inode = [](int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
  };
  UniqueFd home_before(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  UniqueFd s = socket_in_netns(ns.get(), AF_INET, SOCK_DGRAM, 0);
  ASSERT_TRUE(s.valid()) << std::strerror(errno);
  UniqueFd home_after(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(inode(home_before.get()), inode(home_after.get()));
  UniqueFd sock_ns(::ioctl(s.get(), SIOCGSKNS));
  ASSERT_TRUE(sock_ns.valid()) << std::strerror(errno);
  EXPECT_EQ(inode(sock_ns.get()), inode(ns.get()));
  EXPECT_NE(inode(sock_ns.get()), inode(home_after.get()));
  EXPECT_EQ(pool.drain(), 1U);
}

// Through the CLI: the first run finds the pool empty and creates its namespace; it
// starts a refill, and a later run gets a pre-created one, with the same table and
// layers.
TEST(SandboxNetnsPool, RunThroughPreCreatedNamespaceIsConfinedTheSame) {
  NONAXIS_REQUIRE_ROOT();
  testing::ProbeRun p;
  const auto first = p.run({"net-external", "198.51.100.1", "80"});
  ASSERT_TRUE(first.doc["record"].is_object()) << first.out_raw << first.err_raw;
  EXPECT_EQ(first.doc["record"]["payload"]["layers"]["egress"]["net_namespace"], "created for this execution");
  NetnsPool pool(p.state() / "netns-pool");
  for (int i = 0; i < 200 && pool.ready_count() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_GT(pool.ready_count(), 0U) << "the background refill made no namespace";
  const auto r = p.run({"net-external", "198.51.100.1", "80"});
  const auto& payload = r.doc["record"]["payload"];
  EXPECT_EQ(payload["layers"]["egress"]["net_namespace"], "pre-created, single-use");
  EXPECT_EQ(r.doc["stdout"].get<std::string>().rfind("BLOCKED net-external", 0), 0U) << r.out_raw;
  // The default-drop table was there (read back after the run, as for any run).
  bool table = false;
  for (const auto& c : payload["egress"]["counters"]) table = table || c["rule"] == "refused ipv4 out";
  EXPECT_TRUE(table) << payload["egress"].dump();
  const auto names = payload["layers"]["active"].dump();
  EXPECT_NE(names.find("loopback"), std::string::npos) << names;
  EXPECT_NE(names.find("seccomp"), std::string::npos) << names;
}

}  // namespace
}  // namespace nonaxis::sandbox
