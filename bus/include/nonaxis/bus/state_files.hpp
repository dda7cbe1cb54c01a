#pragma once
// Where the Arbiter keeps session state under state/ (docs/PROTOCOL.md#session-state),
// and careful reads of it. Only the Arbiter writes these files; every reader still
// treats them as untrusted (bounded, regular files owned by the directory's owner).
//   state/current.json            {"snapshot_id", "state_hash"}: the authoritative snapshot
//   state/snapshots/<id>.json     immutable snapshots, each linked to its predecessor
//   state/handoffs/<id>.json      session handoffs as received
//   state/last_handoff.json       {"handoff_id"}: the newest handoff
#include <optional>
#include <string>
#include <vector>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/layout.hpp"

namespace nonaxis::bus {

inline constexpr const char* kCurrentSnapshotFile = "current.json";
inline constexpr const char* kLastHandoffFile = "last_handoff.json";

class StateFiles {
 public:
  explicit StateFiles(const Layout& layout) : layout_(layout) {}

  // nullopt when the file does not exist; throws std::runtime_error when it exists but
  // cannot be trusted (not a regular file, wrong owner, too large, not JSON).
  std::optional<Json> current_pointer() const;
  std::optional<Json> snapshot(const std::string& snapshot_id) const;
  std::optional<Json> handoff(const std::string& handoff_id) const;
  std::optional<Json> last_handoff() const;

  // The snapshot current.json names, checked against its schema and its state_hash.
  std::optional<Json> current_snapshot() const;

 private:
  std::optional<Json> read(const std::string& dir, const std::string& name) const;
  Layout layout_;
};

// JSON lines of an append-only file (ledger, events); empty when it does not exist.
std::vector<Json> read_jsonl(const std::string& path);

}  // namespace nonaxis::bus
