#include "decider.hpp"

#include <algorithm>

#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/tiers.hpp"
#include "nonaxis/bus/token.hpp"

namespace nonaxis::arbiter {

using nlohmann::json;

namespace {

std::string clip(const std::string& s, std::size_t n) { return s.size() <= n ? s : s.substr(0, n - 3) + "..."; }

// The Operator reads decisions but not assessments: carry the findings it needs.
json findings_summary(const json* assessment) {
  json out = json::array();
  if (assessment == nullptr) return out;
  const json& p = (*assessment)["payload"];
  if (p.contains("findings") && p["findings"].is_array()) {
    for (const auto& f : p["findings"]) {
      if (out.size() >= 20 || !f.is_object()) break;
      json item = json::object();
      for (const char* k : {"rule_id", "category", "severity", "line", "column", "message"}) {
        if (f.contains(k) && (f[k].is_string() || f[k].is_number())) item[k] = f[k];
      }
      out.push_back(item);
    }
  }
  return out;
}

}  // namespace

Decider::Decider(const Policy& policy, bus::Key arbiter_key, bus::Key token_key, DeciderConfig cfg)
    : policy_(policy), arbiter_key_(std::move(arbiter_key)), token_key_(std::move(token_key)), cfg_(cfg) {}

int Decider::effective_tier(const json& request) {
  const int claimed = request["risk_tier"].get<int>();
  const int by_type = bus::tier_of(request["payload"]["action_type"].get<std::string>()).value_or(3);
  return std::max(claimed, by_type);
}

Outcome Decider::on_assessment(const json& request, const json& assessment) const {
  const json ctx = {{"assessment", assessment["payload"]},
                    {"review_request",
                     {{"risk_tier", effective_tier(request)},
                      {"action_type", request["payload"]["action_type"]},
                      {"outbound_hosts", request["payload"].value("outbound_hosts", json::array())},
                      {"type", request["type"]}}}};
  const PolicyOutcome po = policy_.evaluate(ctx);
  std::string decision = po.decision;
  std::string reasoning = po.reasoning;
  // A tier-1 audit concerns an action that already ran: there is nothing to
  // authorise, only something to flag to a human.
  if (request["type"] == "audit_request" && decision == "reject") decision = "escalate";
  if (request["type"] == "audit_request") reasoning = "Post-hoc audit of a tier 1 action: " + reasoning;
  return build(request, &assessment, decision, "deterministic", po.rule_id, reasoning, po.rules_applied, nullptr, "arbiter");
}

Outcome Decider::on_assessment_timeout(const json& request) const {
  const json applied = json::array({{{"rule_id", "assessment_timeout"}, {"rule_name", "No CISO assessment in time"},
                                     {"matched", true}, {"result", "escalate"}}});
  return build(request, nullptr, "escalate", "timeout_escalation", "assessment_timeout",
               "No CISO assessment arrived within the configured timeout; escalating to a human (fail closed)", applied,
               nullptr, "arbiter");
}

Outcome Decider::on_human_verdict(const json& request, const Escalation& esc, bool approve, const std::string& by,
                                  const std::string& reason) const {
  const std::string d = approve ? "approve" : "reject";
  const json applied = json::array({{{"rule_id", "human_verdict"}, {"rule_name", "Human reviewer: " + clip(by, 64)},
                                     {"matched", true}, {"result", d}}});
  json assessment;
  const json* ap = nullptr;
  if (!esc.assessment_payload.is_null()) {
    assessment = {{"id", esc.assessment_id}, {"payload", esc.assessment_payload}};
    ap = &assessment;
  }
  return build(request, ap, d, "human_escalation", "human_verdict",
               std::string(approve ? "Approved" : "Denied") + " by " + clip(by, 64) + (reason.empty() ? "" : ": " + clip(reason, 300)),
               applied, &esc, by);
}

Outcome Decider::on_human_timeout(const json& request, const Escalation& esc) const {
  const json applied = json::array({{{"rule_id", "human_timeout"}, {"rule_name", "No human answer in time"},
                                     {"matched", true}, {"result", "reject"}}});
  return build(request, nullptr, "reject", "timeout_escalation", "human_timeout",
               "No human answered the escalation within the configured timeout; rejected (fail closed)", applied, &esc,
               "arbiter");
}

Outcome Decider::build(const json& request, const json* assessment, const std::string& decision, const std::string& method,
                       const std::string& rule_id, const std::string& reasoning, const json& rules_applied,
                       const Escalation* superseded, const std::string& decided_by) const {
  const json& rp = request["payload"];
  const std::string rid = request["id"].get<std::string>();
  const std::string action = rp["action_type"].get<std::string>();
  const bool final = decision != "escalate";
  const json findings = findings_summary(assessment);

  std::string full_reasoning = reasoning;
  if (assessment != nullptr) {
    const json& ap = (*assessment)["payload"];
    full_reasoning += " [CISO risk score " + ap["risk_score"].dump() + ", recommendation " + ap["recommendation"].get<std::string>();
    if (!findings.empty()) {
      full_reasoning += "; findings:";
      for (std::size_t i = 0; i < findings.size() && i < 5; ++i) {
        full_reasoning += " " + findings[i].value("rule_id", std::string("?"));
      }
    }
    full_reasoning += "]";
  }

  json payload = {{"review_request_id", rid},
                  {"assessment_id", assessment != nullptr ? (*assessment)["id"] : json(std::string(bus::kNilUuid))},
                  {"decision", decision},
                  {"decision_method", method},
                  {"reasoning", full_reasoning},
                  {"policy_rules_applied", rules_applied},
                  {"policy_hash", policy_.sha256()},
                  {"risk_tier", effective_tier(request)},
                  {"decided_by", decided_by}};
  if (assessment != nullptr) payload["risk_score"] = (*assessment)["payload"]["risk_score"];
  if (!findings.empty()) payload["findings"] = findings;
  if (!final) {
    payload["escalation"] = {{"reason", clip(reasoning, 500)},
                             {"context_for_human", clip(rp.value("context", std::string()), 500)},
                             {"timeout_minutes", cfg_.human_timeout_minutes}};
  }
  std::optional<json> token;
  if (decision == "approve" && request["type"] == "review_request") {
    bus::TokenGrant g;
    g.action_type = action;
    g.content_hash = rp["content_hash"].get<std::string>();
    g.allowed_hosts = rp.value("outbound_hosts", std::vector<std::string>{});
    g.max_duration_seconds = cfg_.max_duration_seconds;
    g.ttl = cfg_.token_ttl;
    token = bus::issue_token(token_key_, g, std::chrono::system_clock::now());
    payload["token"] = *token;
  }
  const std::string chain = assessment != nullptr && assessment->contains("signature") ? bus::envelope_hash(*assessment)
                                                                                        : bus::envelope_hash(request);
  Outcome o;
  o.request_id = rid;
  o.final = final;
  o.decision = bus::make_envelope(bus::MessageType::kDecision, payload, chain, arbiter_key_);
  o.token = token;
  o.message_type = request["type"].get<std::string>();
  o.rule_id = rule_id;
  o.submitted_at = request["timestamp"].get<std::string>();

  const std::string verb = decision == "approve" ? "Approved" : decision == "reject" ? "Rejected" : "Escalated";
  json rationale = json::array({clip(reasoning, 400)});
  rationale.push_back("Effective risk tier " + std::to_string(effective_tier(request)) + "; decided by " + method +
                      " (rule " + rule_id + ")");
  rationale.push_back("Content " + rp["content_hash"].get<std::string>());
  o.ledger_entry = {{"decision_id", o.decision["id"]},
                    {"timestamp", o.decision["timestamp"]},
                    {"statement", clip(verb + " " + action + " request " + rid + " by rule " + rule_id, 200)},
                    {"rationale", rationale},
                    {"constraints_referenced", json::array()},
                    {"artifacts", json::array({{{"type", "policy"}, {"path", policy_.origin()}, {"hash", policy_.sha256()}}})},
                    {"tags", json::array({"request:" + rid, "outcome:" + decision, "method:" + method})},
                    {"supersedes", superseded != nullptr ? json(superseded->decision_id) : json(nullptr)}};

  const json base_payload = {{"action_type", action}, {"content_hash", rp["content_hash"]}, {"risk_tier", effective_tier(request)}};
  if (superseded == nullptr) o.events.push_back({"PROPOSED", "operator", json::object(), base_payload});
  if (assessment != nullptr && superseded == nullptr) {
    json p = base_payload;
    p["risk_score"] = static_cast<int>((*assessment)["payload"]["risk_score"].get<double>());
    p["verdict"] = (*assessment)["payload"]["recommendation"];
    o.events.push_back({"REVIEWED", "ciso", {{"assessment_id", (*assessment)["id"]}}, p});
  }
  const std::string etype = decision == "approve" ? "APPROVED" : decision == "reject" ? "REJECTED" : "ESCALATED";
  json ep = base_payload;
  ep["verdict"] = decision;
  ep["result"] = method;
  json refs = json::object();
  if (token) refs["token_id"] = (*token)["token_id"];
  o.events.push_back({etype, method == "human_escalation" ? "human" : "arbiter", refs, ep});
  return o;
}

}  // namespace nonaxis::arbiter
