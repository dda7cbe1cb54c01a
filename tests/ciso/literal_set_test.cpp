// The prefilter's literal matcher must find exactly what RE2::Set (literal, case-insensitive)
// finds, or rules would be skipped; exact_for() must refuse text where RE2 folds further.
#include <gtest/gtest.h>
#include <re2/set.h>

#include <algorithm>
#include <random>

#include "literal_set.hpp"

namespace nonaxis::ciso::detail {
namespace {

std::vector<int> with_re2(const std::vector<std::string>& literals, const std::string& text) {
  re2::RE2::Options o;
  o.set_literal(true);
  o.set_case_sensitive(false);
  re2::RE2::Set set(o, re2::RE2::UNANCHORED);
  for (const std::string& l : literals) set.Add(l, nullptr);
  EXPECT_TRUE(set.Compile());
  std::vector<int> found;
  set.Match(text, &found);
  std::sort(found.begin(), found.end());
  return found;
}

std::vector<int> with_literal_set(const LiteralSet& set, const std::string& text) {
  static HsScratch scratch;       // shared by every call and set, as in MatchBatch
  std::vector<int> found = {42};       // find() replaces what was there
  set.find(text, found, scratch);
  std::sort(found.begin(), found.end());
  return found;
}

TEST(CisoLiteralSet, FindsOverlappingAndSuffixLiteralsOnce) {
  const std::vector<std::string> lits = {"/etc/", "etc/shadow", "sh", "/", "shadow", " -", "\n/tmp/"};
  const LiteralSet set(lits);
  for (const std::string text : {"cat /ETC/Shadow", "ls -la\n/tmp/x", "echo", "", "shshsh /", "x -", "/etc/shado"}) {
    EXPECT_EQ(with_literal_set(set, text), with_re2(lits, text)) << text;
  }
}

TEST(CisoLiteralSet, AgreesWithRe2SetOnRandomText) {
  const std::vector<std::string> lits = {"nc", "rm", "su", "curl", "base64", "-e", "/dev/tcp/", "bash -i", "\\x", "ab", "aab", "b"};
  const LiteralSet set(lits);
  std::mt19937 rng(7);
  const std::string alphabet = "abBcCnNrRmMsSuUlLe-/\\x46 \tdvtp";
  for (int i = 0; i < 2000; ++i) {
    std::string text;
    const auto len = rng() % 40;
    for (unsigned k = 0; k < len; ++k) text.push_back(alphabet[rng() % alphabet.size()]);
    ASSERT_TRUE(set.exact_for(text));
    ASSERT_EQ(with_literal_set(set, text), with_re2(lits, text)) << text;
  }
}

TEST(CisoLiteralSet, DefersToRe2WhereUnicodeFoldingReachesAscii) {
  const std::vector<std::string> lits = {"sh", "kill"};
  const LiteralSet set(lits);
  const std::string kelvin = "\xE2\x84\xAAill";  // KELVIN SIGN + "ill": RE2 folds it to "kill"
  const std::string long_s = "\xC5\xBFh";        // LONG S + "h"
  EXPECT_EQ(with_re2(lits, kelvin), std::vector<int>{1});
  EXPECT_EQ(with_re2(lits, long_s), std::vector<int>{0});
  EXPECT_FALSE(set.exact_for(kelvin));
  EXPECT_FALSE(set.exact_for(long_s));
  EXPECT_TRUE(set.exact_for("caf\xC3\xA9 kill"));  // other non-ASCII text folds to nothing ASCII
  EXPECT_FALSE(LiteralSet({"caf\xC3\xA9"}).exact_for("x"));  // non-ASCII literals always defer
}

}  // namespace
}  // namespace nonaxis::ciso::detail
