#pragma once
// Deterministic risk-tier classification by action type. The Operator uses it to
// route an action; the Arbiter recomputes it and never trusts the Operator's tier.
#include <optional>
#include <string_view>

namespace nonaxis::bus {

// 0: read/search, runs without review. 1: workspace writes and the like, run now and
// audited afterwards. 2: synchronous review. 3: synchronous review plus a human.
std::optional<int> tier_of(std::string_view action_type);

// True for the spec's eight review-request action types (tiers 2 and 3).
bool is_reviewed_action(std::string_view action_type);

}  // namespace nonaxis::bus
