#include "policy.hpp"

#include <cstdlib>
#include <set>
#include <stdexcept>

#include "nonaxis/bus/append_log.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/keys.hpp"
#include "yaml_json.hpp"

namespace nonaxis::arbiter {

extern const std::string_view kDefaultPolicyYaml;  // generated from profiles/policy/default.yaml

namespace {

using nlohmann::json;

const std::set<std::string> kOperators = {"gte", "gt", "lt", "lte", "any"};
const std::set<std::string> kDecisions = {"approve", "reject", "escalate", "continue"};

void validate_matcher(const json& m, const std::string& rule_id) {
  if (!m.is_object()) return;  // literal: equality
  for (const auto& [op, arg] : m.items()) {
    if (kOperators.count(op) == 0) throw std::runtime_error("rule " + rule_id + ": unknown operator '" + op + "'");
    if (op == "any") {
      if (arg.is_object()) {
        for (const auto& [field, sub] : arg.items()) validate_matcher(sub, rule_id);
      }
    } else if (!arg.is_number()) {
      throw std::runtime_error("rule " + rule_id + ": operator '" + op + "' needs a number");
    }
  }
}

const json* lookup(const json& ctx, const std::string& path) {
  const json* cur = &ctx;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object() || !cur->contains(key)) return nullptr;
    cur = &(*cur)[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

bool matches(const json* value, const json& m);

bool any_element(const json* value, const json& arg) {
  if (value == nullptr || !value->is_array()) return false;
  for (const auto& el : *value) {
    bool all = true;
    if (arg.is_object()) {
      for (const auto& [field, sub] : arg.items()) {
        const json* fv = el.is_object() && el.contains(field) ? &el[field] : nullptr;
        all = all && matches(fv, sub);
      }
    } else {
      all = el == arg;
    }
    if (all) return true;
  }
  return false;
}

bool matches(const json* value, const json& m) {
  if (!m.is_object()) return value != nullptr && *value == m;
  for (const auto& [op, arg] : m.items()) {
    if (op == "any") {
      if (!any_element(value, arg)) return false;
      continue;
    }
    // A missing or non-numeric value never satisfies a comparison: fail closed.
    if (value == nullptr || !value->is_number()) return false;
    const double v = value->get<double>(), a = arg.get<double>();
    const bool ok = op == "gte" ? v >= a : op == "gt" ? v > a : op == "lt" ? v < a : v <= a;
    if (!ok) return false;
  }
  return true;
}

bool rule_matches(const Rule& r, const json& ctx) {
  if (r.condition.is_string()) return true;  // "always", checked at parse time
  for (const auto& [path, m] : r.condition.items()) {
    if (!matches(lookup(ctx, path), m)) return false;
  }
  return true;
}

std::vector<Rule> parse_rules(const json& list, const std::string& origin, std::set<std::string>& ids) {
  std::vector<Rule> rules;
  for (const auto& r : list) {
    if (!r.is_object() || !r.contains("id") || !r["id"].is_string()) throw std::runtime_error("policy " + origin + ": a rule has no id");
    Rule rule;
    rule.id = r["id"].get<std::string>();
    if (!ids.insert(rule.id).second) throw std::runtime_error("policy " + origin + ": duplicate rule id " + rule.id);
    rule.name = r.value("name", rule.id);
    rule.reasoning = r.value("reasoning", std::string());
    rule.decision = r.value("decision", std::string());
    if (kDecisions.count(rule.decision) == 0) throw std::runtime_error("rule " + rule.id + ": unknown decision '" + rule.decision + "'");
    if (!r.contains("condition")) throw std::runtime_error("rule " + rule.id + ": no condition");
    rule.condition = r["condition"];
    if (rule.condition.is_string()) {
      if (rule.condition != "always") throw std::runtime_error("rule " + rule.id + ": condition must be a map or 'always'");
    } else if (rule.condition.is_object() && !rule.condition.empty()) {
      for (const auto& [path, m] : rule.condition.items()) validate_matcher(m, rule.id);
    } else {
      throw std::runtime_error("rule " + rule.id + ": condition must be a non-empty map or 'always'");
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

PolicyOutcome evaluate_rules(const std::vector<Rule>& rules, const json& ctx, const char* what) {
  PolicyOutcome out;
  for (const auto& r : rules) {
    const bool hit = rule_matches(r, ctx);
    json applied = {{"rule_id", r.id}, {"rule_name", r.name}, {"matched", hit}, {"result", "no_match"}};
    if (hit && r.decision == "continue") {
      applied["continue"] = true;
      out.rules_applied.push_back(applied);
      continue;
    }
    if (hit) {
      applied["result"] = r.decision;
      out.rules_applied.push_back(applied);
      out.decision = r.decision;
      out.rule_id = r.id;
      out.reasoning = r.reasoning;
      return out;
    }
    out.rules_applied.push_back(applied);
  }
  // ADR-002: nothing decided it, so a human does.
  out.decision = "escalate";
  out.rule_id = "implicit_human_escalation";
  out.reasoning = std::string("No policy rule decided this ") + what + "; escalating to a human (ADR-002)";
  return out;
}

}  // namespace

Policy Policy::parse(const std::string& yaml_text, const std::string& origin) {
  Policy p;
  p.origin_ = origin;
  p.sha256_ = bus::sha256_hex(yaml_text);
  json doc;
  try {
    doc = yaml_to_json(YAML::Load(yaml_text));
  } catch (const YAML::Exception& e) {
    throw std::runtime_error("policy " + origin + " is not valid YAML: " + e.what());
  }
  if (!doc.is_object() || !doc.contains("rules") || !doc["rules"].is_array() || doc["rules"].empty()) {
    throw std::runtime_error("policy " + origin + " must have a non-empty 'rules' list");
  }
  std::set<std::string> ids;
  p.rules_ = parse_rules(doc["rules"], origin, ids);
  // Without a state_rules section no state change is decided automatically: each
  // goes to a human (ADR-002); the policy never invents approvals.
  if (doc.contains("state_rules")) {
    if (!doc["state_rules"].is_array()) throw std::runtime_error("policy " + origin + ": 'state_rules' must be a list");
    p.state_rules_ = parse_rules(doc["state_rules"], origin, ids);
  }
  for (const auto& [k, v] : doc.items()) {
    if (k != "rules" && k != "state_rules") throw std::runtime_error("policy " + origin + ": unknown section '" + k + "'");
  }
  return p;
}

Policy Policy::load_configured() {
  const char* path = std::getenv("ARBITER_POLICY_FILE");
  if (path == nullptr || *path == '\0') return parse(std::string(kDefaultPolicyYaml), "builtin:profiles/policy/default.yaml");
  std::string text;
  try {
    text = bus::read_whole_file(path, 1u << 20);
  } catch (const std::exception& e) {
    throw bus::ConfigError(std::string("ARBITER_POLICY_FILE: ") + e.what());
  }
  try {
    return parse(text, path);
  } catch (const std::exception& e) {
    throw bus::ConfigError(std::string("ARBITER_POLICY_FILE: ") + e.what());
  }
}

PolicyOutcome Policy::evaluate(const json& ctx) const { return evaluate_rules(rules_, ctx, "request"); }

PolicyOutcome Policy::evaluate_state(const json& ctx) const { return evaluate_rules(state_rules_, ctx, "state change"); }

}  // namespace nonaxis::arbiter
