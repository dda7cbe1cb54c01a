// scope.allowed_paths: checked on the trusted side, bound into the view, and opened
// in the MAC layer exactly as granted (read-only or read-write, never executable);
// an unlisted path stays unreachable.
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "nonaxis/sandbox/content.hpp"
#include "nonaxis/sandbox/exit_codes.hpp"
#include "nonaxis/sandbox/mac.hpp"
#include "nonaxis/sandbox/path_grants.hpp"
#include "privileged.hpp"
#include "sandbox_harness.hpp"

namespace nonaxis::sandbox {
namespace {

// Host directories for grants. Not under /tmp: that is the sandbox's own mount, and
// a grant there is refused.
class HostTree {
 public:
  HostTree() {
    std::string tmpl = "/var/tmp/nonaxis-grants-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
    root_ = tmpl;
    ::chmod(root_.c_str(), 0755);
    for (const char* d : {"in", "out", "secret"}) std::filesystem::create_directory(root_ / d);
    testing::write_file(root_ / "in" / "data.txt", "granted input\n");
    testing::write_file(root_ / "secret" / "key.txt", "not granted\n");
    testing::write_file(root_ / "out" / "tool.sh", "#!/bin/sh\necho ran\n");
    ::chmod((root_ / "out" / "tool.sh").c_str(), 0755);
    // The sandbox uid (65534) owns the writable grant, as an operator would arrange.
    ::chown((root_ / "out").c_str(), 65534, 65534);
    ::chown((root_ / "out" / "tool.sh").c_str(), 65534, 65534);
  }
  ~HostTree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  std::string operator/(const std::string& rel) const { return (root_ / rel).string(); }
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

std::string plan(const std::vector<std::string>& entries, std::vector<PathGrant>& out,
                 const std::filesystem::path& state = "/var/lib/nonaxis/sandbox") {
  return plan_path_grants(entries, state, out);
}

TEST(SandboxPathGrants, ParsesModesAndSortsParentsFirst) {
  HostTree t;
  std::vector<PathGrant> g;
  ASSERT_EQ(plan({"rw:" + (t / "out"), t / "in", "ro:" + t.root().string()}, g), "");
  ASSERT_EQ(g.size(), 3U);
  EXPECT_EQ(g[0].path, t.root().string());
  EXPECT_FALSE(g[0].writable);
  EXPECT_EQ(g[1].path, t / "in");
  EXPECT_FALSE(g[1].writable);  // a bare path is read-only
  EXPECT_EQ(g[2].path, t / "out");
  EXPECT_TRUE(g[2].writable);
  ASSERT_EQ(plan({"ro:" + (t / "in/data.txt")}, g), "");
  EXPECT_FALSE(g[0].is_dir);
}

TEST(SandboxPathGrants, RefusesWhatCannotBeGrantedSafely) {
  HostTree t;
  std::filesystem::create_directory_symlink(t / "secret", t.root() / "link");
  std::vector<PathGrant> g;
  const std::vector<std::string> refused = {"relative/path", "/", t / "in/../secret", t / "in/", t / "in//x",
                                            t / "link", t / "in/missing", t / "in/da*a.txt", "/proc/1", "/tmp",
                                            "/work", "/dev/null", "/sys/kernel", "rw:/usr/local", "rw:/etc",
                                            "/var/lib/nonaxis/sandbox/nonces", "/var"};
  for (const auto& bad : refused) {
    EXPECT_NE(plan({bad}, g), "") << bad << " must be refused";
  }
  EXPECT_NE(plan({t / "in", "ro:" + (t / "in")}, g), "") << "duplicates";
  std::vector<std::string> many(kMaxPathGrants + 1, t / "in");
  EXPECT_NE(plan(many, g), "");
}

TEST(SandboxPathGrants, GeneratedAppArmorProfileParses) {
  HostTree t;
  std::vector<PathGrant> g;
  ASSERT_EQ(plan({"ro:" + (t / "in"), "rw:" + (t / "out"), t / "in/data.txt"}, g), "");
  std::string name;
  const std::string text = apparmor_profile_for_grants("nonaxis-sandbox-exec", g, name);
  EXPECT_EQ(name.rfind("nonaxis-sandbox-exec-p", 0), 0U);
  EXPECT_NE(text.find(t / "in" + "/** r,"), std::string::npos) << text;
  EXPECT_NE(text.find(t / "out" + "/** rwlk,"), std::string::npos) << text;
  EXPECT_EQ(text.find(" x"), std::string::npos) << "nothing under a grant may execute";
  std::string other;
  std::vector<PathGrant> g2;
  ASSERT_EQ(plan({"ro:" + (t / "out")}, g2), "");
  apparmor_profile_for_grants("nonaxis-sandbox-exec", g2, other);
  EXPECT_NE(name, other) << "different grants, different profiles";
  // A missing package is no missing privilege: scripts/install-deps installs it.
  ASSERT_EQ(::access("/sbin/apparmor_parser", X_OK), 0) << "apparmor_parser not installed (scripts/install-deps)";
  testing::TempDir d;
  testing::write_file(d.path() / name, text);
  const std::string cmd = "/sbin/apparmor_parser -Q -K -I " + std::string(NONAXIS_PROFILES_DIR) + "/apparmor " +
                          (d.path() / name).string() + " >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << text;
}

// Landlock on its own (no mounts involved): in a forked child with no_new_privs, a
// read-only grant can be read but not written, and an unlisted directory cannot
// even be read.
TEST(SandboxPathGrants, LandlockEnforcesGrantModes) {
  const int abi = landlock_abi_version();
  NONAXIS_REQUIRE_CAPABILITY(abi > 0, "kernel without Landlock");
  HostTree t;
  const std::string in = t / "in", out = t / "out", tool = t / "out/tool.sh";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    const LandlockGrant grants[] = {{in.c_str(), false, true}, {out.c_str(), true, true}};
    int used = 0;
    if (apply_landlock(abi, &used, grants, 2) != 0) ::_exit(10);
    if (::open((t / "in/data.txt").c_str(), O_RDONLY) < 0) ::_exit(11);           // read granted
    if (::open((t / "in/new.txt").c_str(), O_WRONLY | O_CREAT, 0600) >= 0) ::_exit(12);  // not write
    if (::open((t / "out/new.txt").c_str(), O_WRONLY | O_CREAT, 0600) < 0) ::_exit(13);  // write granted
    if (::open((t / "secret/key.txt").c_str(), O_RDONLY) >= 0) ::_exit(14);         // unlisted
    char* args[] = {const_cast<char*>(tool.c_str()), nullptr};
    ::execv(args[0], args);
    ::_exit(errno == EACCES ? 0 : 15);  // never executable
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0) << "step " << WEXITSTATUS(st) << " failed";
}

// The real binary: a token with allowed_paths runs, each grant works as granted and
// no further, and the record lists the grants.
class SandboxPathGrantsCli : public ::testing::Test {
 protected:
  void SetUp() override { NONAXIS_REQUIRE_ROOT(); }
  testing::RunResult probe(const std::vector<std::string>& paths, const std::vector<std::string>& args) {
    testing::set_test_keys();
    const std::string hash = "sha256:" + seal_content(NONAXIS_PROBE_BIN).sha256_hex;
    bus::TokenGrant g;
    g.action_type = "exec_unfamiliar";
    g.content_hash = hash;
    g.allowed_paths = paths;
    const auto tok = testing::write_token(dir.path(), bus::issue_token(testing::token_key(), g, std::chrono::system_clock::now()));
    std::vector<std::string> a = {"run", "--json", "--token", tok.string(), "--file", NONAXIS_PROBE_BIN,
                                  "--state-dir", (dir.path() / "state").string(), "--"};
    a.insert(a.end(), args.begin(), args.end());
    return testing::run_sandbox(a);
  }
  testing::TempDir dir;
  HostTree t;
};

TEST_F(SandboxPathGrantsCli, ReadOnlyGrantReadsButNeverWrites) {
  const std::vector<std::string> paths = {"ro:" + (t / "in")};
  auto r = probe(paths, {"read-path", t / "in/data.txt"});
  ASSERT_EQ(r.exit_code, 0) << r.out_raw << r.err_raw;
  EXPECT_NE(r.doc["stdout"].get<std::string>().find("OK read-path"), std::string::npos) << r.out_raw;
  const auto& fs = r.doc["record"]["payload"]["layers"]["filesystem"]["allowed_paths"];
  ASSERT_EQ(fs.size(), 1U) << r.out_raw;
  EXPECT_EQ(fs[0]["path"], t / "in");
  EXPECT_EQ(fs[0]["access"], "read-only");
  r = probe(paths, {"write-host-file", t / "in/new.txt"});
  EXPECT_NE(r.doc["stdout"].get<std::string>().find("BLOCKED write-host-file"), std::string::npos) << r.out_raw;
  EXPECT_FALSE(std::filesystem::exists(t / "in/new.txt"));
}

TEST_F(SandboxPathGrantsCli, ReadWriteGrantWritesToTheHostButNeverExecutes) {
  const std::vector<std::string> paths = {"rw:" + (t / "out")};
  auto r = probe(paths, {"write-path", t / "out/result.txt"});
  ASSERT_EQ(r.exit_code, 0) << r.out_raw << r.err_raw;
  EXPECT_NE(r.doc["stdout"].get<std::string>().find("OK write-path"), std::string::npos) << r.out_raw;
  std::ifstream in(t / "out/result.txt");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "granted\n");
  r = probe(paths, {"exec-path", t / "out/tool.sh"});
  EXPECT_NE(r.doc["stdout"].get<std::string>().find("BLOCKED exec-path"), std::string::npos) << r.out_raw;
}

TEST_F(SandboxPathGrantsCli, UnlistedPathStaysUnreachable) {
  const std::vector<std::string> paths = {"ro:" + (t / "in"), "rw:" + (t / "out")};
  auto r = probe(paths, {"read-host-file", t / "secret/key.txt"});
  EXPECT_NE(r.doc["stdout"].get<std::string>().find("BLOCKED read-host-file"), std::string::npos) << r.out_raw;
  r = probe(paths, {"write-host-file", t / "secret/new.txt"});
  EXPECT_NE(r.doc["stdout"].get<std::string>().find("BLOCKED write-host-file"), std::string::npos) << r.out_raw;
}

TEST_F(SandboxPathGrantsCli, UnsafeGrantIsRefusedBeforeAnythingRuns) {
  auto r = probe({"rw:/usr/local"}, {"exit", "0"});
  EXPECT_EQ(r.exit_code, code(Refusal::kScopeNotAllowed)) << r.out_raw;
  r = probe({(dir.path() / "state" / "nonces").string()}, {"exit", "0"});
  EXPECT_EQ(r.exit_code, code(Refusal::kScopeNotAllowed)) << r.out_raw;
}

}  // namespace
}  // namespace nonaxis::sandbox
