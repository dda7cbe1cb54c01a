#pragma once
// The spec's directory layout under GOVERNANCE_BASE_DIR, which role owns which
// directory, and the start-up step that prepares a role's directories and drops
// root privileges to the role's own user.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "nonaxis/bus/envelope.hpp"

namespace nonaxis::bus {

inline constexpr const char* kDefaultBaseDir = "/var/lib/governance";

struct Layout {
  std::string base;

  static Layout from_env();  // GOVERNANCE_BASE_DIR, default /var/lib/governance

  std::string pending_review() const { return base + "/pending-review"; }
  std::string assessments() const { return base + "/assessments"; }
  std::string decisions() const { return base + "/decisions"; }
  std::string tokens() const { return base + "/tokens"; }
  std::string state() const { return base + "/state"; }
  std::string snapshots() const { return state() + "/snapshots"; }
  std::string handoffs() const { return state() + "/handoffs"; }
  std::string proposals() const { return state() + "/proposals"; }
  std::string ledger_file() const { return state() + "/decision_ledger.jsonl"; }
  std::string ledger_head_file() const { return state() + "/decision_ledger.head.json"; }
  std::string events_file() const { return state() + "/events.jsonl"; }
  // Refused input, one area per consumer role (each role writes only its own).
  std::string dead_letter(Role r) const { return base + "/dead-letter/" + to_string(r); }
  // Role-private working state (0700): e.g. the Arbiter's write-ahead journal.
  std::string private_dir(Role r) const { return base + "/private/" + to_string(r); }
};

// Directories `role` creates and may write, parents first.
std::vector<std::string> owned_dirs(const Layout& layout, Role role);

struct RunAs {
  uid_t uid;
  gid_t gid;
  std::string user;
};

// When running as root: the role's user (NONAXIS_USER, default "nonaxis-<role>") and
// the shared read group (NONAXIS_GROUP, default "nonaxis"). nullopt when not root.
// Throws ConfigError if root and the user or group does not exist.
std::optional<RunAs> resolve_run_as(Role role);

// Creates the role's directories (0750, private 0700, group-readable by the other
// roles via the shared group) and, as root, hands them to the role's user.
void prepare_role_dirs(const Layout& layout, Role role, const std::optional<RunAs>& run_as);

// Waits until every directory in `dirs` exists (peers create their own at start-up,
// in any order). Throws ConfigError naming the first missing one after `timeout_s`.
void wait_for_dirs(const std::vector<std::string>& dirs, long long timeout_s);

// setgroups/setgid/setuid to the role's user and checks root cannot be regained.
void drop_privileges(const RunAs& run_as);

}  // namespace nonaxis::bus
