// Globs that stand for one well-known path: the matcher and the rendering it feeds.
// `?\?` keeps runs of question marks from reading as trigraphs.
#include <gtest/gtest.h>

#include "glob_paths.hpp"
#include "test_support.hpp"

namespace nonaxis::ciso::detail {
namespace {

TEST(GlobPaths, MatchesLikePathnameExpansion) {
  EXPECT_TRUE(glob_matches("/e*c/sh*w", "/etc/shadow"));
  EXPECT_TRUE(glob_matches("/?\?\?/p?\?s?\?", "/etc/passwd"));
  EXPECT_TRUE(glob_matches("/[a-f]tc/[!x]hadow", "/etc/shadow"));
  EXPECT_TRUE(glob_matches("/etc/sh*", "/etc/shadow"));
  EXPECT_TRUE(glob_matches("/tmp/[x", "/tmp/[x"));  // no closing ']': an ordinary '['
  EXPECT_FALSE(glob_matches("/*", "/etc/shadow"));  // '*' does not cross '/'
  EXPECT_FALSE(glob_matches("/e*c/sh*w", "/etc/shadow.bak"));
  EXPECT_FALSE(glob_matches("/[!e]tc/shadow", "/etc/shadow"));
}

TEST(GlobPaths, ResolvesOnlyToOneListedPath) {
  EXPECT_EQ(known_path_for_glob("/?\?\?/?\?t"), "/bin/cat");
  EXPECT_EQ(known_path_for_glob("~/.ss?/id_rs?"), "~/.ssh/id_rsa");
  EXPECT_EQ(known_path_for_glob("/etc/s*"), "");  // shadow and sudoers: ambiguous
  EXPECT_EQ(known_path_for_glob("/etc/shadow"), "");  // not a glob
  EXPECT_EQ(known_path_for_glob("*.log"), "");
  EXPECT_TRUE(glob_hides_name("/e*c/sh*w"));
  EXPECT_TRUE(glob_hides_name("/etc/sha?\?\?"));
  EXPECT_FALSE(glob_hides_name("/var/log/sys*"));
}

TEST(GlobPaths, TheCommandIsReadWithThePathSpelledOut) {
  using nonaxis::ciso::testing::has_rule;
  using nonaxis::ciso::testing::rule_ids;
  using nonaxis::ciso::testing::run;
  const auto a = run("/?\?\?/?\?t /e*c/sh*w", true);
  EXPECT_TRUE(has_rule(a, "credential_access.shadow_file")) << rule_ids(a);
  EXPECT_TRUE(has_rule(a, "obfuscation.glob_spelled_path")) << rule_ids(a);
  const auto b = run("tail -n 50 /var/log/sys*", true);
  EXPECT_LT(b["risk_score"].get<int>(), 30) << rule_ids(b);
}

}  // namespace
}  // namespace nonaxis::ciso::detail
