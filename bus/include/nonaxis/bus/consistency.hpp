#pragma once
// The three consistency checks a session runs at boot (docs/PROTOCOL.md#boot):
//   constraint_check  constraints are well-formed, unique and not stale;
//   dependency_check  every id the state or the last handoff refers to exists;
//   drift_check       every change since the last handoff's snapshot has a recorded
//                     reason (a ledger entry of the Arbiter that made it).
// Each yields pass, warning or error; details say why.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nonaxis/bus/canonical_json.hpp"

namespace nonaxis::bus {

struct BootFacts {
  const Json* snapshot = nullptr;      // null when there is no trusted snapshot
  std::string snapshot_problem;        // why, when it is null
  const Json* last_handoff = nullptr;  // null when none
  const std::vector<Json>* ledger = nullptr;
  std::function<std::optional<Json>(const std::string&)> load_snapshot;  // by id; nullopt when absent
  std::chrono::system_clock::time_point now;
};

// {"constraint_check", "dependency_check", "drift_check": "pass|warning|error",
//  "details": [{"check", "status", "detail"}...]}
Json consistency_checks(const BootFacts& facts);

}  // namespace nonaxis::bus
