#pragma once
// `nonaxis-arbiter approvals ...`: the human side of escalation (ADR-009).
#include <string>

#include "nonaxis/bus/keys.hpp"
#include "nonaxis/bus/layout.hpp"

namespace nonaxis::arbiter {

// Escalations without a final decision, newest last. Exit code 0.
int approvals_list(const bus::Layout& layout, bool as_json);

// Records a verdict and waits up to `wait_seconds` for the daemon's final decision.
// Exit codes: 0 decided as asked, 3 not pending (unknown or already final),
// 4 a verdict already exists, 5 the daemon did not decide within the wait.
int approvals_answer(const bus::Layout& layout, const bus::Key& key, const std::string& request_id, bool approve,
                     const std::string& by, const std::string& reason, int wait_seconds, bool as_json);

}  // namespace nonaxis::arbiter
