#pragma once
// The session boot payload (docs/PROTOCOL.md#boot), built from the Arbiter's state/
// directory. The Arbiter serves it on GET /v1/boot; the Operator builds the same
// payload from its read-only view of state/ when it has no State API to call.
#include <chrono>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/layout.hpp"

namespace nonaxis::bus {

inline constexpr std::size_t kBootLedgerEntries = 30;
inline constexpr std::size_t kBootEvents = 20;

// {snapshot (null when none can be trusted), ledger (last 30 + every entry tagged
//  always_include), recent_events (last 20), last_handoff, consistency_checks}
Json build_boot(const Layout& layout, std::chrono::system_clock::time_point now);

}  // namespace nonaxis::bus
