// Escape probes (each must fail inside) and positive controls (each must work),
// run through the real binary with every layer on.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <csignal>
#include <gtest/gtest.h>

#include "nonaxis/sandbox/exit_codes.hpp"
#include "privileged.hpp"
#include "sandbox_harness.hpp"

namespace nonaxis::sandbox {
namespace {

using testing::ProbeRun;

std::string stdout_of(const testing::RunResult& r) {
  return r.doc.is_object() && r.doc["stdout"].is_string() ? r.doc["stdout"].get<std::string>() : r.out_raw;
}

class SandboxEscape : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(SandboxEscape, ProbeIsBlocked) {
  NONAXIS_REQUIRE_ROOT();
  ProbeRun p;
  const auto r = p.run(GetParam());
  const std::string out = stdout_of(r);
  EXPECT_EQ(r.exit_code, 0) << out << r.err_raw;
  EXPECT_EQ(out.rfind("BLOCKED " + GetParam()[0], 0), 0U) << out << r.err_raw;
}

INSTANTIATE_TEST_SUITE_P(
    Classes, SandboxEscape,
    ::testing::Values(std::vector<std::string>{"read-host-file", "/etc/shadow"},
                      std::vector<std::string>{"read-host-file", "/root"},
                      std::vector<std::string>{"write-system"}, std::vector<std::string>{"write-etc"},
                      std::vector<std::string>{"exec-from-workspace"}, std::vector<std::string>{"ptrace"},
                      std::vector<std::string>{"ptrace-attach"}, std::vector<std::string>{"process-vm-readv"},
                      std::vector<std::string>{"mount"}, std::vector<std::string>{"unshare-user"},
                      std::vector<std::string>{"unshare-net"}, std::vector<std::string>{"setns"},
                      std::vector<std::string>{"clone-newns"}, std::vector<std::string>{"io-uring"},
                      std::vector<std::string>{"bpf"}, std::vector<std::string>{"userfaultfd"},
                      std::vector<std::string>{"perf-event-open"}, std::vector<std::string>{"keyctl"},
                      std::vector<std::string>{"kexec"}, std::vector<std::string>{"init-module"},
                      std::vector<std::string>{"open-by-handle"}, std::vector<std::string>{"af-alg"},
                      std::vector<std::string>{"af-vsock"}, std::vector<std::string>{"af-packet"},
                      std::vector<std::string>{"tiocsti"}, std::vector<std::string>{"tiocsti-high-bit"},
                      std::vector<std::string>{"tioclinux"}, std::vector<std::string>{"net-external"},
                      std::vector<std::string>{"setuid-gain"}),
    [](const auto& param_info) {
      std::string n = param_info.param[0] + (param_info.param.size() > 1 ? "_" + std::to_string(param_info.index) : "");
      for (auto& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
      return n;
    });

// An ordinary seccomp denial (EPERM, the program carries on) is listed in the record:
// the supervisor answers the default denial through the user-notification listener
// and names the syscall. Allowed calls never reach it, so /bin/true records nothing.
class SandboxSeccompDenialRecorded : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(SandboxSeccompDenialRecorded, ViolationNamesTheSyscall) {
  NONAXIS_REQUIRE_ROOT();
  ProbeRun p;
  const auto& [probe, syscall] = GetParam();
  const auto r = p.run({probe});
  const std::string out = stdout_of(r);
  // The bpf, keyctl and tiocsti probes count as BLOCKED only if they saw EPERM.
  ASSERT_EQ(out.rfind("BLOCKED " + probe, 0), 0U) << out << r.err_raw;
  bool listed = false;
  for (const auto& v : r.doc["record"]["payload"]["violations"]) {
    if (v["kind"] == "seccomp_denied" && v["syscall"] == syscall && v["count"].get<int>() >= 1) listed = true;
  }
  EXPECT_TRUE(listed) << r.doc["record"]["payload"]["violations"].dump();
  EXPECT_EQ(r.doc["record"]["payload"]["layers"]["seccomp"]["denials"], "answered by the supervisor, recorded");
}

INSTANTIATE_TEST_SUITE_P(Probes, SandboxSeccompDenialRecorded,
                         ::testing::Values(std::pair<std::string, std::string>{"bpf", "bpf"},
                                           std::pair<std::string, std::string>{"keyctl", "keyctl"},
                                           std::pair<std::string, std::string>{"af-alg", "socket"},
                                           std::pair<std::string, std::string>{"tiocsti", "ioctl"}),
                         [](const auto& param_info) {
                           std::string n = param_info.param.first;
                           for (auto& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           return n;
                         });

TEST(SandboxConfinement, AllowedCallsRecordNoSeccompDenial) {
  NONAXIS_REQUIRE_ROOT();
  ProbeRun p;
  const auto r = p.run({"exit", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.out_raw << r.err_raw;
  EXPECT_EQ(r.doc["record"]["payload"]["violations"].dump().find("seccomp_denied"), std::string::npos)
      << r.doc["record"]["payload"]["violations"].dump();
}

class SandboxPositive : public ::testing::TestWithParam<std::string> {};

TEST_P(SandboxPositive, ControlWorks) {
  NONAXIS_REQUIRE_ROOT();
  ProbeRun p;
  const auto r = p.run({GetParam()});
  const std::string out = stdout_of(r);
  EXPECT_EQ(r.exit_code, 0) << out << r.err_raw;
  EXPECT_EQ(out.rfind("OK " + GetParam(), 0), 0U) << out << r.err_raw;
}

INSTANTIATE_TEST_SUITE_P(Controls, SandboxPositive,
                         ::testing::Values("write-workspace", "read-system-lib", "spawn-child"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (auto& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           return n;
                         });

TEST(SandboxConfinement, HostLoopbackServiceUnreachable) {
  NONAXIS_REQUIRE_ROOT();
  // A server on the host's loopback must not be reachable from the sandbox's own lo.
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(s, 4), 0);
  socklen_t len = sizeof sa;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&sa), &len);
  ProbeRun p;
  const auto r = p.run({"net-external", "127.0.0.1", std::to_string(ntohs(sa.sin_port))});
  ::close(s);
  EXPECT_EQ(stdout_of(r).rfind("BLOCKED net-external", 0), 0U) << stdout_of(r);
}

TEST(SandboxConfinement, HostProcessesInvisible) {
  NONAXIS_REQUIRE_ROOT();
  ProbeRun p;
  const auto r = p.run({"host-signal", std::to_string(::getpid())});
  EXPECT_EQ(stdout_of(r).rfind("BLOCKED host-signal", 0), 0U) << stdout_of(r);
}

TEST(SandboxConfinement, ForeignArchitectureSyscallKills) {
  NONAXIS_REQUIRE_ROOT();
  ProbeRun p;
  const auto r = p.run({"foreign-arch"});
  EXPECT_EQ(r.exit_code, 128 + SIGSYS) << stdout_of(r) << r.err_raw;
  EXPECT_EQ(stdout_of(r).find("ESCAPED"), std::string::npos);
  const auto& v = r.doc["record"]["payload"]["violations"];
  EXPECT_NE(v.dump().find("seccomp_kill"), std::string::npos) << v.dump();
}

TEST(SandboxConfinement, PrivilegesDescriptorsEnvironmentAndLayers) {
  NONAXIS_REQUIRE_ROOT();
  // An inheritable descriptor in the caller must not reach the content.
  const int leak = ::open("/etc/hostname", O_RDONLY);
  ASSERT_GE(leak, 0);
  ProbeRun p;
  const auto r = p.run({"self-state"}, {}, std::nullopt, {}, {"NONAXIS_LEAK_CHECK=1"});
  ::close(leak);
  const std::string out = stdout_of(r);
  ASSERT_EQ(r.exit_code, 0) << out << r.err_raw;
  EXPECT_NE(out.find("CapEff=0000000000000000"), std::string::npos) << out;
  EXPECT_NE(out.find("CapBnd=0000000000000000"), std::string::npos) << out;
  EXPECT_NE(out.find("CapPrm=0000000000000000"), std::string::npos) << out;
  EXPECT_NE(out.find("NoNewPrivs=1"), std::string::npos) << out;
  EXPECT_NE(out.find("SigBlk=0000000000000000"), std::string::npos) << out;
  EXPECT_NE(out.find("SigIgn=0000000000000000"), std::string::npos) << out;
  EXPECT_NE(out.find("Seccomp=2"), std::string::npos) << out;
  EXPECT_NE(out.find("extra_fds=\n"), std::string::npos) << out;
  EXPECT_NE(out.find("hostname=nonaxis-sandbox"), std::string::npos) << out;
  EXPECT_NE(out.find("pid=1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("sid_is_pid=1"), std::string::npos) << out;
  EXPECT_NE(out.find("secret_env=0"), std::string::npos) << out;
  EXPECT_NE(out.find("sandbox_key_env=0"), std::string::npos) << out;
  EXPECT_EQ(out.find("rlimit_cpu=18446744073709551615"), std::string::npos) << out;
  EXPECT_EQ(out.find("rlimit_as=18446744073709551615"), std::string::npos) << out;
  EXPECT_EQ(out.find("rlimit_fsize=18446744073709551615"), std::string::npos) << out;
  EXPECT_EQ(out.find("rlimit_nproc=18446744073709551615"), std::string::npos) << out;
  const auto& layers = r.doc["record"]["payload"]["layers"];
  // Through a resident supervisor the child was prepared before the request; the
  // probes of this suite then test that prepared child, not a fresh launch.
  const bool prepared = r.doc["record"]["payload"]["timing_ms"]["prepared_before_request"].get<bool>();
  EXPECT_EQ(prepared, testing::served_mode()) << r.doc["record"]["payload"]["timing_ms"].dump();
  EXPECT_EQ(layers["egress"]["net_namespace"] ==
                "prepared for this execution before the request, single-use",
            testing::served_mode())
      << layers["egress"].dump();
  for (const char* l : {"namespaces", "filesystem_view", "no_new_privs", "capabilities_dropped", "setsid",
                        "descriptors_closed", "environment_cleared", "seccomp", "rlimits"}) {
    EXPECT_NE(layers["active"].dump().find(l), std::string::npos) << l << " " << layers.dump();
  }
  // This machine has Landlock and no AppArmor; the record says which MAC layer ran.
  const std::string mac = layers["mac"]["kind"];
  EXPECT_TRUE(mac == "landlock" || mac == "apparmor") << layers.dump();
}

TEST(SandboxConfinement, TimeoutKillsWholeProcessTree) {
  NONAXIS_REQUIRE_ROOT();
  ProbeRun p;
  const auto r = p.run({"sleep-tree"}, {}, 1, {"--keep-workspace"});
  EXPECT_EQ(r.exit_code, code(Refusal::kTimeout)) << r.err_raw;
  EXPECT_TRUE(r.doc["record"]["payload"]["exit"]["timed_out"].get<bool>());
  EXPECT_NE(r.doc["record"]["payload"]["violations"].dump().find("timeout"), std::string::npos);
  // The grandchild would have written /work/late after 2 s had it survived the kill.
  const auto id = r.doc["record"]["payload"]["execution_id"].get<std::string>();
  const auto work = p.state() / "run" / id / "work";
  ASSERT_TRUE(std::filesystem::exists(work));
  ::sleep(3);
  EXPECT_FALSE(std::filesystem::exists(work / "late"));
}

TEST(SandboxConfinement, OutputIsCapped) {
  NONAXIS_REQUIRE_ROOT();
  ProbeRun p;
  const auto r = p.run({"flood"});
  ASSERT_EQ(r.exit_code, 0) << r.err_raw;
  const auto& o = r.doc["record"]["payload"]["output"];
  EXPECT_EQ(o["stdout_bytes"], 3 * 1024 * 1024);
  EXPECT_TRUE(o["stdout_truncated"].get<bool>());
  EXPECT_EQ(r.doc["stdout"].get<std::string>().size(), 1024U * 1024U);
}

TEST(SandboxConfinement, CanaryTouchIsAnIncident) {
  NONAXIS_REQUIRE_ROOT();
  ProbeRun p;
  const auto r = p.run({"read-canary"});
  ASSERT_EQ(r.exit_code, 0) << r.err_raw;
  const std::string v = r.doc["record"]["payload"]["violations"].dump();
  EXPECT_NE(v.find("canary_touched"), std::string::npos) << v;
  EXPECT_NE(v.find("passwords.txt"), std::string::npos) << v;
  EXPECT_NE(r.err_raw.find("sandbox.incident"), std::string::npos);
  // And an untouched run reports none.
  ProbeRun q;
  const auto clean = q.run({"write-workspace"});
  EXPECT_EQ(clean.doc["record"]["payload"]["violations"].dump().find("canary"), std::string::npos);
}

TEST(SandboxConfinement, WorkspaceIsFreshPerExecution) {
  NONAXIS_REQUIRE_ROOT();
  ProbeRun p;
  const auto a = p.run({"write-workspace"}, {}, std::nullopt, {"--keep-workspace"});
  const auto b = p.run({"self-state"}, {}, std::nullopt, {"--keep-workspace"});
  const auto ida = a.doc["record"]["payload"]["execution_id"].get<std::string>();
  const auto idb = b.doc["record"]["payload"]["execution_id"].get<std::string>();
  EXPECT_TRUE(std::filesystem::exists(p.state() / "run" / ida / "work" / "out.txt"));
  EXPECT_FALSE(std::filesystem::exists(p.state() / "run" / idb / "work" / "out.txt"));
  struct stat st {};
  ASSERT_EQ(::stat((p.state() / "run" / idb / "work").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700U);
}

// Without --keep-workspace, the execution's directory (workspace, canaries, view
// mount point) is gone when the sandbox returns.
TEST(SandboxConfinement, ExecutionDirectoryIsRemovedAfterTheRun) {
  NONAXIS_REQUIRE_ROOT();
  ProbeRun p;
  const auto r = p.run({"write-workspace"});
  ASSERT_EQ(r.exit_code, 0) << r.err_raw;
  const auto id = r.doc["record"]["payload"]["execution_id"].get<std::string>();
  // A resident supervisor answers first and removes the directory right after.
  if (testing::served_mode()) {
    EXPECT_TRUE(ProbeRun::eventually_gone(p.state() / "run" / id));
  } else {
    EXPECT_FALSE(std::filesystem::exists(p.state() / "run" / id));
  }
}

}  // namespace
}  // namespace nonaxis::sandbox
