// Every rule's YAML examples run through the whole analyzer: each positive example must
// produce a finding of that rule, and no negative example may.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace nonaxis::ciso::testing {
namespace {

bool context_rule(const RuleInfo& r) {
  for (const auto& s : r.scopes) {
    if (s == "context") return true;
  }
  return false;
}

bool fires(const RuleInfo& r, const std::string& example) {
  if (has_rule(run(example, example_is_command(example)), r.id)) return true;
  return context_rule(r) && has_rule(run("", true, {}, example), r.id);
}

class RuleExamples : public ::testing::TestWithParam<RuleInfo> {};

TEST_P(RuleExamples, PositiveExamplesFire) {
  const RuleInfo& r = GetParam();
  ASSERT_FALSE(r.positive_examples.empty());
  for (const auto& ex : r.positive_examples) {
    EXPECT_TRUE(fires(r, ex)) << r.id << " missed positive example:\n" << ex << "\nfound: "
                              << rule_ids(run(ex, example_is_command(ex)));
  }
}

TEST_P(RuleExamples, NegativeExamplesDoNotFire) {
  const RuleInfo& r = GetParam();
  ASSERT_FALSE(r.negative_examples.empty());
  for (const auto& ex : r.negative_examples) {
    EXPECT_FALSE(fires(r, ex)) << r.id << " fired on negative example:\n" << ex;
  }
}

std::string rule_name(const ::testing::TestParamInfo<RuleInfo>& info) {
  std::string n;
  for (char c : info.param.id) n.push_back(std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(AllRules, RuleExamples, ::testing::ValuesIn(analyzer().rules()), rule_name);

TEST(RuleSet, LoadsFromDirectoryLikeEmbedded) {
  const Analyzer from_dir = Analyzer::load(NONAXIS_CISO_RULES_DIR);
  EXPECT_EQ(from_dir.rules().size(), analyzer().rules().size());
}

TEST(RuleSet, EveryRuleHasDescriptionAndKnownSeverity) {
  for (const auto& r : analyzer().rules()) {
    EXPECT_FALSE(r.description.empty()) << r.id;
    EXPECT_TRUE(r.severity == "low" || r.severity == "medium" || r.severity == "high" || r.severity == "critical") << r.id;
    EXPECT_NE(r.id.find('.'), std::string::npos) << r.id << " should be category.name";
  }
}

}  // namespace
}  // namespace nonaxis::ciso::testing
