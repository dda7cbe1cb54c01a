#pragma once
// Turns a verified request (and its assessment, or a timeout, or a human verdict)
// into an Outcome: the signed decision, the token on approval, the ledger entry and
// the events. Pure apart from the clock and the CSPRNG; writes nothing.
#include <chrono>
#include <string>

#include "nonaxis/bus/keys.hpp"
#include "outcome.hpp"
#include "policy.hpp"

namespace nonaxis::arbiter {

struct DeciderConfig {
  std::chrono::seconds token_ttl{300};
  long long max_duration_seconds = 60;
  long long human_timeout_minutes = 30;
};

struct Escalation {
  std::string decision_id;    // id of the interim escalation decision
  std::string assessment_id;  // nil UUID when it escalated on an assessment timeout
  nlohmann::json assessment_payload;  // null when none
};

class Decider {
 public:
  Decider(const Policy& policy, bus::Key arbiter_key, bus::Key token_key, DeciderConfig cfg);

  Outcome on_assessment(const nlohmann::json& request, const nlohmann::json& assessment) const;
  Outcome on_assessment_timeout(const nlohmann::json& request) const;
  Outcome on_human_verdict(const nlohmann::json& request, const Escalation& esc, bool approve, const std::string& by,
                           const std::string& reason) const;
  Outcome on_human_timeout(const nlohmann::json& request, const Escalation& esc) const;

  // Tier the Arbiter enforces: the higher of the Operator's claim and the action type's tier.
  static int effective_tier(const nlohmann::json& request);

 private:
  Outcome build(const nlohmann::json& request, const nlohmann::json* assessment, const std::string& decision,
                const std::string& method, const std::string& rule_id, const std::string& reasoning,
                const nlohmann::json& rules_applied, const Escalation* superseded, const std::string& decided_by) const;

  const Policy& policy_;
  bus::Key arbiter_key_;
  bus::Key token_key_;
  DeciderConfig cfg_;
};

}  // namespace nonaxis::arbiter
