// AppArmor layer. Parse-only on the host (every profile); and, because this machine's
// kernel has no AppArmor, enforce mode in Debian's stock kernel under qemu TCG
// (apparmor_vm/run-vm-test.sh), with apparmor=0 as the negative control.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "nonaxis/sandbox/content.hpp"
#include "privileged.hpp"
#include "sandbox_harness.hpp"

namespace nonaxis::sandbox {
namespace {

const std::filesystem::path kProfiles = NONAXIS_PROFILES_DIR;

bool have(const char* path) { return ::access(path, X_OK) == 0; }

int run_cmd(const std::string& cmd, std::string* output) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) output->append(buf);
  const int st = ::pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(SandboxAppArmorProfiles, EveryProfileParses) {
  // A missing package is no missing privilege: scripts/install-deps installs it.
  ASSERT_TRUE(have("/sbin/apparmor_parser")) << "apparmor_parser (Debian package apparmor) not installed (scripts/install-deps)";
  int count = 0;
  for (const auto& e : std::filesystem::directory_iterator(kProfiles / "apparmor")) {
    // nonaxis.d/ holds rules the profiles include, not profiles.
    if (!e.is_regular_file() || e.path().filename().string().rfind("nonaxis", 0) != 0) continue;
    std::string out;
    // -Q: parse and compile only, never load; -K: no cache.
    EXPECT_EQ(run_cmd("/sbin/apparmor_parser -Q -K -I " + (kProfiles / "apparmor").string() + " " + e.path().string(), &out), 0)
        << e.path() << "\n" << out;
    ++count;
  }
  EXPECT_GE(count, 1);
}

class SandboxAppArmorVm : public ::testing::Test {
 protected:
  void SetUp() override {
    NONAXIS_REQUIRE_ROOT();
    ASSERT_TRUE(have("/usr/bin/qemu-system-x86_64") && have("/bin/busybox") && have("/sbin/apparmor_parser"))
        << "qemu-system-x86, busybox-static and apparmor packages are needed (scripts/install-deps)";
  }
  // Boots the guest once; returns the script's exit status and its result lines.
  int boot(int apparmor, std::string* results) {
    testing::TempDir d;
    const auto tokens = d.path() / "tokens";
    std::filesystem::create_directories(tokens);
    const std::string hash = "sha256:" + seal_content(NONAXIS_PROBE_BIN).sha256_hex;
    for (int i = 1; i <= 3; ++i) {
      testing::write_file(tokens / ("t" + std::to_string(i) + ".json"), testing::issue(hash).dump());
    }
    // t4, t5: a read-only grant of the guest's /srv/in (allowed_paths under AppArmor).
    for (int i = 4; i <= 5; ++i) {
      bus::TokenGrant g;
      g.action_type = "exec_unfamiliar";
      g.content_hash = hash;
      g.allowed_paths = {"ro:/srv/in"};
      testing::write_file(tokens / ("t" + std::to_string(i) + ".json"),
                          bus::issue_token(testing::token_key(), g, std::chrono::system_clock::now()).dump());
    }
    testing::write_file(tokens / "keys.env", "ARBITER_TOKEN_SECRET=" + testing::kTokenSecret +
                                                 "\nGOVERNANCE_SIGNING_KEY_SANDBOX=" + testing::kSandboxKey + "\n");
    const std::string cmd = std::string(NONAXIS_VM_SCRIPT) + " " + NONAXIS_SANDBOX_BIN + " " + NONAXIS_PROBE_BIN + " " +
                            kProfiles.string() + " " + tokens.string() + " " + std::to_string(apparmor) + " " +
                            (d.path() / "vm").string();
    return run_cmd(cmd, results);
  }
};

TEST_F(SandboxAppArmorVm, EnforceModeDeniesAndRecordReportsAppArmor) {
  std::string results;
  const int rc = boot(1, &results);
  EXPECT_EQ(rc, 0) << results;
  for (const char* check : {"profile-in-enforce-mode", "enforce-denies-proc-sys", "record-reports-apparmor",
                            "record-does-not-report-landlock", "enforce-allows-workspace", "apparmor-grant-readable",
                            "record-reports-grant-profile", "apparmor-grant-read-only", "complain-mode-allows"}) {
    EXPECT_NE(results.find(std::string("RESULT ") + check + " PASS"), std::string::npos) << check << "\n" << results;
  }
}

TEST_F(SandboxAppArmorVm, NegativeControlWithoutAppArmorFails) {
  std::string results;
  const int rc = boot(0, &results);
  // The guest must finish (exit 1, not 2 = did not run), and the AppArmor checks fail.
  EXPECT_EQ(rc, 1) << results;
  EXPECT_NE(results.find("RESULT record-reports-apparmor FAIL"), std::string::npos) << results;
  EXPECT_NE(results.find("RESULT enforce-denies-proc-sys FAIL"), std::string::npos) << results;
}

}  // namespace
}  // namespace nonaxis::sandbox
