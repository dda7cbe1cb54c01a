#pragma once
// Signed requests and assessments for Arbiter unit tests.
#include <nlohmann/json.hpp>

#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/messages.hpp"

namespace nonaxis::arbiter::testing {

inline const bus::KeyRing& op_keys() {
  static const auto k = bus::KeyRing::from_secret("OP", std::string(32, 'o'));
  return k;
}
inline const bus::KeyRing& ciso_keys() {
  static const auto k = bus::KeyRing::from_secret("CISO", std::string(32, 'c'));
  return k;
}
inline const bus::KeyRing& arbiter_keys() {
  static const auto k = bus::KeyRing::from_secret("ARB", std::string(32, 'a'));
  return k;
}
inline const bus::KeyRing& token_keys() {
  static const auto k = bus::KeyRing::from_secret("TOK", std::string(32, 't'));
  return k;
}

inline nlohmann::json request(const std::string& action = "exec_unfamiliar", int tier = 2, const std::string& type = "review_request") {
  return bus::make_envelope(type == "audit_request" ? bus::MessageType::kAuditRequest : bus::MessageType::kReviewRequest,
                            bus::make_request_payload(action, {"echo hi", true}, {"example.org"}, "ctx"),
                            bus::kGenesisHash, op_keys().current(), {{"risk_tier", tier}});
}

inline nlohmann::json assessment(const nlohmann::json& req, int score, const std::string& rec = "approve") {
  nlohmann::json p = {{"review_request_id", req["id"]},
                      {"risk_score", score},
                      {"recommendation", rec},
                      {"checklist",
                       {{"outbound_connections", nlohmann::json::array()},
                        {"filesystem_writes", nlohmann::json::array()},
                        {"permission_requests", nlohmann::json::array()},
                        {"obfuscation_detected", false},
                        {"known_vuln_patterns", nlohmann::json::array()},
                        {"prompt_injection_vectors", nlohmann::json::array()},
                        {"data_exfiltration_risk", "none"},
                        {"privilege_escalation_risk", "none"}}},
                      {"findings", nlohmann::json::array({{{"rule_id", "R1"}, {"severity", "low"}, {"message", "m"}}})}};
  return bus::make_envelope(bus::MessageType::kAssessment, p, bus::envelope_hash(req), ciso_keys().current());
}

}  // namespace nonaxis::arbiter::testing
