#pragma once
// A small valid canonical-state body for the state tests.
#include "nonaxis/bus/canonical_json.hpp"

namespace nonaxis::bus::testing {

inline Json sample_state_body() {
  return Json::parse(R"({
    "identity": {"agent_id": "a", "role": "r"},
    "active_objectives": [{"id": "o1", "statement": "s", "status": "active"}],
    "constraints": [{"id": "c1", "name": "Peace Mode", "active": true}],
    "known_systems": [], "approved_skills": [],
    "open_tasks": [{"id": "t1", "title": "x", "status": "pending", "blocking": ["o1"]}],
    "last_decisions": []})");
}

}  // namespace nonaxis::bus::testing
