// The pattern prefilter (pattern_prefilter.hpp) may only ever report too many rules, never
// too few: a rule it leaves out is a missed finding. These tests check that superset
// property for the databases compiled at build time, and that every way of not having a
// usable database falls back to the literal pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "nonaxis/ciso/analyzer.hpp"
#include "pattern_prefilter.hpp"
#include "rule.hpp"
#include "scratch_dir.hpp"

namespace nonaxis::ciso::detail {
namespace {

const RuleSet& embedded() {
  static const auto set = compile_rules(embedded_rule_files());
  return *set;
}

std::vector<int> find(const PatternPrefilter& p, const std::string& text) {
  static HsScratch scratch;
  std::vector<int> found = {-7};  // find() replaces what was there
  p.find(text, found, scratch);
  return found;
}

// Rule examples and hard cases, each also upper-cased, and neighbours joined into slices of
// several documents as MatchBatch builds them.
std::vector<std::string> texts() {
  std::vector<std::string> base;
  for (const Rule& r : embedded().rules) {
    base.insert(base.end(), r.positive.begin(), r.positive.end());
    base.insert(base.end(), r.negative.begin(), r.negative.end());
  }
  for (const auto& e : std::filesystem::directory_iterator(NONAXIS_CISO_CASES_DIR)) {
    std::ifstream f(e.path());
    std::string line;
    while (std::getline(f, line)) {
      if (!line.empty()) base.push_back(nlohmann::json::parse(line)["content"]);
    }
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < base.size(); ++i) {
    if (!PatternPrefilter::usable_for(base[i])) continue;
    out.push_back(base[i]);
    std::string upper = base[i];
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    out.push_back(upper);
    if (i + 1 < base.size()) out.push_back(base[i] + "\n" + base[i + 1] + "\n");
  }
  return out;
}

TEST(CisoPatternPrefilter, EveryScopeOfTheEmbeddedRulesHasItsBuildTimeDatabase) {
  for (std::size_t s = 0; s < kScopeCount; ++s) {
    const auto& idx = embedded().by_scope[s];
    if (idx.rule_of.empty()) continue;
    EXPECT_NE(idx.patterns, nullptr) << to_string(static_cast<Scope>(s))
                                     << ": no prefilter database; the build's generator output does not match the rules";
  }
  EXPECT_TRUE(Analyzer::load().uses_build_time_prefilter());
}

// The property the analyzer relies on, checked rule by rule on every text and scope: when a
// rule's scan pattern matches, the prefilter reports that rule.
TEST(CisoPatternPrefilter, ReportsEveryRuleWhosePatternMatches) {
  const std::vector<std::string> all = texts();
  ASSERT_GT(all.size(), 1000u);
  std::size_t checked = 0;
  for (std::size_t s = 0; s < kScopeCount; ++s) {
    const auto& idx = embedded().by_scope[s];
    if (!idx.patterns) continue;
    for (const std::string& text : all) {
      const std::vector<int> found = find(*idx.patterns, text);
      ASSERT_TRUE(std::is_sorted(found.begin(), found.end()));
      for (std::size_t i = 0; i < idx.rule_of.size(); ++i) {
        const Rule& rule = embedded().rules[idx.rule_of[i]];
        if (!re2::RE2::PartialMatch(text, *rule.scan)) continue;
        ++checked;
        EXPECT_TRUE(std::binary_search(found.begin(), found.end(), static_cast<int>(i)))
            << rule.id << " (" << to_string(static_cast<Scope>(s)) << ") matches but was not reported for:\n"
            << text;
      }
    }
  }
  EXPECT_GT(checked, 1000u);
}

TEST(CisoPatternPrefilter, RulesFromOtherFilesUseTheLiteralPassAndStillMatch) {
  const std::string yaml = R"(rules:
  - id: test.only_here
    category: destructive
    severity: critical
    description: a rule no build-time database was compiled for
    scope: command
    pattern: '^wipe-everything\b'
    examples:
      positive: ["wipe-everything now"]
      negative: ["wipe-nothing"]
)";
  const auto set = compile_rules({{"custom.yaml", yaml}});
  EXPECT_EQ(set->by_scope[static_cast<std::size_t>(Scope::Command)].patterns, nullptr);
  const nonaxis::testing::ScratchDir dir{"nonaxis-rules"};
  std::ofstream(dir.path() / "custom.yaml") << yaml;
  const Analyzer a = Analyzer::load(dir.str());
  EXPECT_FALSE(a.uses_build_time_prefilter());
  AnalysisInput in;
  in.content = "wipe-everything now";
  in.is_command = true;
  const auto out = a.analyze(in, false);
  ASSERT_EQ(out["findings"].size(), 1u) << out.dump();
  EXPECT_EQ(out["findings"][0]["rule_id"], "test.only_here");
}

TEST(CisoPatternPrefilter, NonAsciiPatternsAndRefusedPatternsAreAlwaysCandidates) {
  // RE2 folds the KELVIN SIGN onto 'k' under (?i); Hyperscan would not, so that pattern
  // must never be filtered out. An unbalanced group stands in for any construct Hyperscan
  // cannot compile (the rule loader has already accepted every rule pattern with RE2).
  const PatternPrefilter p = PatternPrefilter::compile({"(?i)ssh-keygen", "(?i)\xE2\x84\xAAill", "a(c", "\\bdd\\b"});
  EXPECT_EQ(p.always(), (std::vector<int>{1, 2}));
  EXPECT_EQ(find(p, "nothing here"), (std::vector<int>{1, 2}));
  EXPECT_EQ(find(p, "SSH-KEYGEN -t ed25519 && dd"), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_FALSE(PatternPrefilter::usable_for("kill \xE2\x84\xAA"));
  EXPECT_TRUE(PatternPrefilter::usable_for("kill -9 1"));
}

TEST(CisoPatternPrefilter, ASerializedDatabaseLoadsAndADamagedOneIsRefused) {
  const PatternPrefilter p = PatternPrefilter::compile({"curl .*\\| *sh", "nc -e"});
  const std::string bytes = p.serialize();
  ASSERT_FALSE(bytes.empty());
  const auto loaded = PatternPrefilter::load(bytes, p.always());
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(find(*loaded, "curl x | sh"), (std::vector<int>{0}));
  EXPECT_EQ(PatternPrefilter::load(bytes.substr(0, bytes.size() / 2), {}), nullptr);
  EXPECT_EQ(PatternPrefilter::load("not a database", {}), nullptr);
  EXPECT_EQ(PatternPrefilter::load(bytes, {2, 1}), nullptr);  // always-candidates must be ascending
}

TEST(CisoPatternPrefilter, TheKeyNamesExactlyOnePatternList) {
  const std::string k = PatternPrefilter::key({"a", "b"});
  EXPECT_EQ(k, PatternPrefilter::key({"a", "b"}));
  EXPECT_NE(k, PatternPrefilter::key({"b", "a"}));
  EXPECT_NE(k, PatternPrefilter::key({"ab"}));
  EXPECT_NE(k, PatternPrefilter::key({"a", "b", ""}));
}

}  // namespace
}  // namespace nonaxis::ciso::detail
