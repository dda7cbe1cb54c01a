#include <gtest/gtest.h>

#include "policy.hpp"

namespace nonaxis::arbiter {
namespace {

using nlohmann::json;

Policy parse(const std::string& y) { return Policy::parse(y, "test"); }

json ctx(int score, const std::string& rec = "approve", int tier = 2) {
  return {{"assessment",
           {{"risk_score", score},
            {"recommendation", rec},
            {"checklist",
             {{"obfuscation_detected", false},
              {"data_exfiltration_risk", "none"},
              {"privilege_escalation_risk", "none"},
              {"known_vuln_patterns", json::array()},
              {"prompt_injection_vectors", json::array()},
              {"outbound_connections", json::array()}}}}},
          {"review_request", {{"risk_tier", tier}}}};
}

TEST(Policy, EqualityMatchesLiteralsOfTheRightType) {
  const auto p = parse(R"(rules:
  - {id: a, condition: {assessment.recommendation: "escalate"}, decision: escalate}
  - {id: b, condition: {review_request.risk_tier: 3}, decision: reject}
  - {id: c, condition: {assessment.checklist.obfuscation_detected: false}, decision: approve})");
  EXPECT_EQ(p.evaluate(ctx(0, "escalate")).rule_id, "a");
  EXPECT_EQ(p.evaluate(ctx(0, "approve", 3)).rule_id, "b");
  EXPECT_EQ(p.evaluate(ctx(0)).rule_id, "c");
}

TEST(Policy, QuotedTrueIsAStringNotABoolean) {
  const auto p = parse(R"(rules:
  - {id: a, condition: {assessment.checklist.obfuscation_detected: "false"}, decision: approve})");
  EXPECT_EQ(p.evaluate(ctx(0)).rule_id, "implicit_human_escalation");
}

TEST(Policy, GteAndLtBoundariesAreExact) {
  const auto p = parse(R"(rules:
  - {id: hi, condition: {assessment.risk_score: {gte: 90}}, decision: reject}
  - {id: lo, condition: {assessment.risk_score: {lt: 30}}, decision: approve})");
  EXPECT_EQ(p.evaluate(ctx(90)).rule_id, "hi");
  EXPECT_EQ(p.evaluate(ctx(89)).decision, "escalate");
  EXPECT_EQ(p.evaluate(ctx(29)).rule_id, "lo");
  EXPECT_EQ(p.evaluate(ctx(30)).rule_id, "implicit_human_escalation");
}

TEST(Policy, AnyMatchesWhenOneElementHasEveryField) {
  const auto p = parse(R"(rules:
  - id: crit
    condition:
      assessment.checklist.known_vuln_patterns:
        any: {severity: "critical"}
    decision: reject)");
  json c = ctx(10);
  EXPECT_NE(p.evaluate(c).rule_id, "crit");
  c["assessment"]["checklist"]["known_vuln_patterns"] = {{{"severity", "low"}}, {{"severity", "critical"}}};
  EXPECT_EQ(p.evaluate(c).rule_id, "crit");
}

TEST(Policy, AlwaysAndContinue) {
  const auto p = parse(R"(rules:
  - {id: note, condition: always, decision: continue}
  - {id: last, condition: always, decision: reject})");
  const auto out = p.evaluate(ctx(0));
  EXPECT_EQ(out.rule_id, "last");
  ASSERT_EQ(out.rules_applied.size(), 2u);
  EXPECT_TRUE(out.rules_applied[0]["matched"].get<bool>());
  EXPECT_TRUE(out.rules_applied[0]["continue"].get<bool>());
}

TEST(Policy, MissingValuesNeverSatisfyAComparison) {
  const auto p = parse(R"(rules:
  - {id: a, condition: {assessment.nonexistent: {lt: 100}}, decision: approve})");
  EXPECT_EQ(p.evaluate(ctx(0)).decision, "escalate");
}

TEST(Policy, BadPoliciesAreRefusedWithTheRuleNamed) {
  EXPECT_THROW(parse("rules: []"), std::runtime_error);
  EXPECT_THROW(parse("rules: [{id: a, condition: always, decision: maybe}]"), std::runtime_error);
  EXPECT_THROW(parse("rules: [{id: a, condition: {x: {regex: '.*'}}, decision: reject}]"), std::runtime_error);
  EXPECT_THROW(parse("rules: [{id: a, condition: always, decision: reject}, {id: a, condition: always, decision: reject}]"), std::runtime_error);
  try {
    parse("rules: [{id: r7, condition: {x: {gte: high}}, decision: reject}]");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("r7"), std::string::npos);
  }
}

// The built-in default policy behaves like the spec's sample.
TEST(Policy, DefaultPolicyFollowsTheSampleBands) {
  const auto p = Policy::load_configured();
  EXPECT_EQ(p.evaluate(ctx(10)).rule_id, "approve_low_risk_ciso_approved");
  EXPECT_EQ(p.evaluate(ctx(60, "escalate")).rule_id, "escalate_medium_risk");
  EXPECT_EQ(p.evaluate(ctx(95, "reject")).rule_id, "reject_risk_score_90");
  EXPECT_EQ(p.evaluate(ctx(10, "approve", 3)).rule_id, "escalate_tier3");
  EXPECT_EQ(p.evaluate(ctx(40, "approve")).rule_id, "fallback_human");
  json c = ctx(10);
  c["assessment"]["checklist"]["obfuscation_detected"] = true;
  EXPECT_EQ(p.evaluate(c).rule_id, "reject_obfuscated");
  c = ctx(10);
  c["assessment"]["checklist"]["outbound_connections"] = {{{"host", "x"}, {"documented", false}}};
  EXPECT_EQ(p.evaluate(c).rule_id, "escalate_undocumented_hosts");
  EXPECT_EQ(p.sha256().size(), 64u);
}

}  // namespace
}  // namespace nonaxis::arbiter
