#pragma once
// State events (state-event.schema.json), hash-chained like the ledger.
#include <string>

#include "nonaxis/bus/canonical_json.hpp"

namespace nonaxis::bus {

// The schema's nine lifecycle event types.
inline constexpr const char* kEventTypes[] = {"PROPOSED", "REVIEWED",      "APPROVED",   "REJECTED", "ESCALATED",
                                              "EXECUTED", "ROLLED_BACK", "STATE_PATCHED", "RECONCILED"};

// A complete event whose chain_hash = SHA-256(prev || canonical(event without chain_hash)).
Json make_event(const std::string& prev_chain_hash, const std::string& event_type, const std::string& source,
                const Json& references, const Json& payload);

}  // namespace nonaxis::bus
