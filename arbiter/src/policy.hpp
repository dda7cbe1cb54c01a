#pragma once
// The deterministic rule engine (ADR-002). Rules are evaluated in order and the
// first match wins; `continue` records a match and falls through. Conditions map
// dotted paths into {assessment, review_request} to matchers: a literal (equality),
// {gte|gt|lt|lte: n}, {any: {field: matcher, ...}} over an array, or `always`.
// A request no rule decides escalates to a human.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nonaxis::arbiter {

struct Rule {
  std::string id;
  std::string name;
  nlohmann::json condition;  // object of path -> matcher, or the string "always"
  std::string decision;      // approve | reject | escalate | continue
  std::string reasoning;
};

struct PolicyOutcome {
  std::string decision;  // approve | reject | escalate
  std::string rule_id;
  std::string reasoning;
  nlohmann::json rules_applied = nlohmann::json::array();  // decision.schema.json policy_rules_applied
};

class Policy {
 public:
  // Parses and validates (unknown operators, decisions or duplicate ids are errors).
  // Throws std::runtime_error naming the rule at fault.
  static Policy parse(const std::string& yaml_text, const std::string& origin);
  // ARBITER_POLICY_FILE if set, else the built-in default (profiles/policy/default.yaml).
  static Policy load_configured();

  PolicyOutcome evaluate(const nlohmann::json& context) const;
  // State changes (proposals, handoff patches) against the `state_rules` section;
  // context {"proposal": {...}} as built by the state reviewer.
  PolicyOutcome evaluate_state(const nlohmann::json& context) const;

  const std::string& sha256() const { return sha256_; }
  const std::string& origin() const { return origin_; }
  const std::vector<Rule>& rules() const { return rules_; }

 private:
  std::vector<Rule> rules_;
  std::vector<Rule> state_rules_;
  std::string sha256_;
  std::string origin_;
};

}  // namespace nonaxis::arbiter
