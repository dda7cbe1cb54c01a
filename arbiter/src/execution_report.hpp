#pragma once
// EXECUTED events: the sandbox signs an execution record for every run; the
// Operator relays it as pending-review/<request id>.execution.json; the Arbiter
// verifies the sandbox's signature, checks that the record matches the token it
// issued for that request (token id and content hash), and records it once: an
// EXECUTED event and a ledger entry whose decision_id is the record's own id.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "outcome.hpp"

namespace nonaxis::arbiter {

// Why `record` (a verified execution_record envelope) does not belong to `token`
// (the token issued for the request it was filed under), or nullopt when it does.
std::optional<std::string> execution_mismatch(const nlohmann::json& record, const nlohmann::json& token);

Outcome execution_outcome(const std::string& request_id, const nlohmann::json& record);

}  // namespace nonaxis::arbiter
