#pragma once
// Canonical state (canonical-state.schema.json): the Arbiter-owned facts a session
// resumes from. A snapshot is the state's body (identity, objectives, constraints...)
// plus meta fields the Arbiter manages (ids, hashes, timestamp). Every change is an
// RFC 6902 patch applied to the body, never to the meta fields.
#include <optional>
#include <string>
#include <vector>

#include "nonaxis/bus/canonical_json.hpp"

namespace nonaxis::bus {

inline constexpr std::size_t kMaxStateBytes = 1 << 20;  // canonical form of one snapshot
inline constexpr std::size_t kMaxPatchOps = 256;

// Fields the Arbiter manages; a patch may not touch them and state_hash excludes them.
inline constexpr const char* kSnapshotMetaFields[] = {"version", "snapshot_id", "prev_snapshot_id", "state_hash",
                                                      "arbiter_policy_hash", "timestamp"};

// Error text naming the offending field, or nullopt. Mirrors the schema's required
// fields, types and enums (bounded checks, no regex engine); the body alone.
std::optional<std::string> check_state_body(const Json& body);
// A whole snapshot: meta fields present and well-formed, state_hash matching the body.
std::optional<std::string> check_snapshot(const Json& snapshot);

// The snapshot without its meta fields.
Json state_body(const Json& snapshot);
// SHA-256 (hex) of the canonical form of the body.
std::string state_hash(const Json& body);

// A new snapshot of `body` with a fresh id, linked to `prev_snapshot_id` (null for genesis).
Json make_snapshot(const Json& body, const Json& prev_snapshot_id, const std::string& policy_hash);

// Shape of an RFC 6902 operation list (ops, paths, bounds). Error names the operation.
std::optional<std::string> check_patch_shape(const Json& ops);

struct PatchResult {
  std::optional<Json> body;  // set on success
  std::string error;         // names the failing operation, e.g. "operation 2 (remove /constraints/7): ..."
};
// Applies `ops` to `body` with nlohmann/json's RFC 6902 implementation, one operation
// at a time so that a failure names its operation; then checks the result's schema.
PatchResult apply_state_patch(const Json& body, const Json& ops);

// Top-level body fields the operations touch (source and target of move/copy too).
std::vector<std::string> touched_fields(const Json& ops);

}  // namespace nonaxis::bus
