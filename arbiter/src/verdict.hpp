#pragma once
// A human reviewer's answer to an escalation, written by `nonaxis-arbiter approvals`
// into the Arbiter's private verdicts directory and consumed by the daemon, which
// alone writes decisions. One verdict per request (the file is created NOREPLACE).
#include <optional>
#include <string>

#include "nonaxis/bus/keys.hpp"
#include "nonaxis/bus/layout.hpp"

namespace nonaxis::arbiter {

struct Verdict {
  bool approve = false;
  std::string by;
  std::string reason;
};

std::string verdicts_dir(const bus::Layout& layout);

// Signs and writes the verdict. Returns false if a verdict for the request already exists.
bool write_verdict(const bus::Layout& layout, const std::string& request_id, const Verdict& v, const bus::Key& key);

// Reads and verifies a verdict file; nullopt if missing, malformed or unsigned.
std::optional<Verdict> read_verdict(int dirfd, const std::string& name, const std::string& request_id, const bus::KeyRing& ring);

// A human's order to roll the canonical state back to an earlier snapshot, written by
// `nonaxis-arbiter state rollback` beside the verdicts as <id>.rollback.json.
struct Rollback {
  std::string id;  // the order's own id: its ledger entry's decision_id
  std::string to_snapshot_id;
  std::string by;
  std::string reason;
};
inline constexpr const char* kRollbackSuffix = ".rollback.json";
std::string write_rollback(const bus::Layout& layout, const std::string& to_snapshot_id, const std::string& by,
                           const std::string& reason, const bus::Key& key);
std::optional<Rollback> read_rollback(int dirfd, const std::string& name, const bus::KeyRing& ring);

}  // namespace nonaxis::arbiter
