// The seccomp policy is data; these tests hold the data to the issue's list.
#include <gtest/gtest.h>
#include <seccomp.h>

#include <fstream>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/sandbox/seccomp_policy.hpp"
#include "sandbox_harness.hpp"

namespace nonaxis::sandbox {
namespace {

const std::filesystem::path kProfile = std::filesystem::path(NONAXIS_PROFILES_DIR) / "seccomp" / "default.json";

bus::Json profile() { return bus::Json::parse(std::ifstream(kProfile)); }

TEST(SandboxSeccompProfile, CompilesForNativeArch) {
  const auto c = compile_seccomp_profile(kProfile);
  EXPECT_EQ(c.name, "default");
  EXPECT_GT(c.allowed_syscalls, 200U);
  EXPECT_FALSE(c.program.empty());
}

TEST(SandboxSeccompProfile, IssueDenyListIsNeverAllowed) {
  const auto p = profile();
  std::set<std::string> allowed;
  for (const auto& n : p["allow"]) allowed.insert(n.get<std::string>());
  for (const auto& r : p["rules"]) {
    if (r["action"] == "allow" && !r.contains("args")) allowed.insert(r["syscall"].get<std::string>());
  }
  for (const char* s : {"io_uring_setup", "io_uring_enter", "io_uring_register", "bpf", "userfaultfd",
                        "perf_event_open", "keyctl", "add_key", "request_key", "ptrace", "process_vm_readv",
                        "process_vm_writev", "mount", "umount2", "unshare", "setns", "kexec_load",
                        "kexec_file_load", "init_module", "finit_module", "delete_module", "open_by_handle_at",
                        "pivot_root", "chroot", "swapon", "reboot", "acct", "clock_settime", "settimeofday",
                        "fsopen", "move_mount", "open_tree", "clone3"}) {
    EXPECT_EQ(allowed.count(s), 0U) << s << " must not be allowed";
  }
  EXPECT_EQ(p["default_action"], "errno");
  EXPECT_EQ(p["foreign_arch_action"], "kill_process");
}

TEST(SandboxSeccompProfile, LoaderRefusesProfileAllowingMustDeny) {
  testing::TempDir d;
  auto p = profile();
  p["allow"].push_back("bpf");
  testing::write_file(d.path() / "bad.json", p.dump());
  EXPECT_THROW(compile_seccomp_profile(d.path() / "bad.json"), SeccompPolicyError);
  auto q = profile();
  q["default_action"] = "allow";
  testing::write_file(d.path() / "open.json", q.dump());
  EXPECT_THROW(compile_seccomp_profile(d.path() / "open.json"), SeccompPolicyError);
}

}  // namespace
}  // namespace nonaxis::sandbox
