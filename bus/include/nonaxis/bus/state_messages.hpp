#pragma once
// Payloads of the two state messages the Operator files (docs/PROTOCOL.md):
//   session_handoff  - session-handoff.schema.json, stored under state/handoffs/;
//   state_proposal   - {base_snapshot_id, patch: RFC 6902 ops, rationale, session_id?}.
// Both travel as signed envelopes, in pending-review/ as <id>.handoff.json and
// <id>.proposal.json, or through the Arbiter's State API.
#include <optional>
#include <string>

#include "nonaxis/bus/canonical_json.hpp"

namespace nonaxis::bus {

inline constexpr std::size_t kMaxRationaleBytes = 2000;

// Error text, or nullopt when acceptable.
std::optional<std::string> check_handoff(const Json& payload);
std::optional<std::string> check_state_proposal(const Json& payload);

Json make_proposal_payload(const std::string& base_snapshot_id, const Json& patch, const std::string& rationale,
                           const std::string& session_id);

// What a state message asks the Arbiter to apply: the operations and the snapshot
// they were written against (a handoff's state_updates_proposed count as a proposal).
struct StateChange {
  std::string base_snapshot_id;
  Json patch = Json::array();
  std::string rationale;
};
StateChange state_change_of(const std::string& type, const Json& payload);

}  // namespace nonaxis::bus
