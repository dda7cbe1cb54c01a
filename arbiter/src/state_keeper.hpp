#pragma once
// The canonical state the Arbiter owns (issue 3): seeds it once from the deployment's
// ARBITER_INITIAL_STATE, reviews every proposed change (state proposals and the
// patches in session handoffs) with the policy's state rules, and turns each answer
// into an Outcome for the commit log: the decision, the ledger entry, the events and,
// on approval, the next immutable snapshot plus the current.json pointer.
#include <optional>
#include <string>

#include "decider.hpp"
#include "nonaxis/bus/layout.hpp"
#include "outcome.hpp"
#include "policy.hpp"
#include "verdict.hpp"

namespace nonaxis::arbiter {

class StateKeeper {
 public:
  StateKeeper(const bus::Layout& layout, const Policy& policy, bus::Key arbiter_key, long long human_timeout_minutes);

  // The genesis outcome when there is no state yet and `initial_state_path` is set;
  // nullopt when state exists or no file is configured. Throws ConfigError naming
  // ARBITER_INITIAL_STATE when the file is unreadable or not a valid state.
  std::optional<Outcome> seed(const std::string& initial_state_path);

  // Decides a verified state_proposal or session_handoff envelope by policy.
  Outcome review(const nlohmann::json& message);
  Outcome on_human_verdict(const nlohmann::json& message, const Escalation& esc, bool approve, const std::string& by,
                           const std::string& reason);
  Outcome on_human_timeout(const nlohmann::json& message, const Escalation& esc);
  // A human's rollback order: the next snapshot gets the body of an earlier one (the
  // chain only grows). nullopt, with a warning logged, when the target is unknown.
  std::optional<Outcome> rollback(const Rollback& order);

  // The snapshot decisions so far have made current (updated as soon as a change is
  // approved, so a second proposal in the same batch sees the new base).
  const std::optional<nlohmann::json>& current() const { return current_; }

 private:
  struct Verdict {
    std::string decision;  // approve | reject | escalate
    std::string method;    // deterministic | human_escalation | timeout_escalation
    std::string rule_id;
    std::string reasoning;
    nlohmann::json rules_applied = nlohmann::json::array();
    std::string decided_by = "arbiter";
  };
  // Re-checks base and patch (they may have gone stale while a human looked), then builds.
  Outcome decide(const nlohmann::json& message, Verdict v, const Escalation* superseded);
  Outcome build(const nlohmann::json& message, const Verdict& v, const Escalation* superseded, const nlohmann::json& state_change,
                std::optional<nlohmann::json> next_snapshot, const nlohmann::json& drift);

  bus::Layout layout_;
  const Policy& policy_;
  bus::Key arbiter_key_;
  long long human_timeout_minutes_;
  std::optional<nlohmann::json> current_;
};

}  // namespace nonaxis::arbiter
