#pragma once
// One decision ready to be committed: everything the commit log turns into the
// journal record, ledger entry, events and published files.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nonaxis::arbiter {

struct PendingEvent {
  std::string event_type;  // one of the schema's nine
  std::string source;      // operator | ciso | arbiter | human
  nlohmann::json references = nlohmann::json::object();
  nlohmann::json payload = nlohmann::json::object();
};

// A file under state/ the commit publishes with the decision: a new snapshot or
// handoff (created once, immutable), or a pointer file (replaced).
struct StateWrite {
  std::string subdir;  // "snapshots", "handoffs", or "" for state/ itself
  std::string name;
  std::string bytes;
  bool replace = false;  // pointer files are replaced; snapshots and handoffs never are
};

struct Outcome {
  std::string request_id;  // empty for a change with no request (seeding the state)
  bool final = true;                    // false: an escalation awaiting a human
  nlohmann::json decision;              // signed decision envelope; null when nothing is published
  std::optional<nlohmann::json> token;  // present only on approval of a review request
  nlohmann::json ledger_entry;          // unsealed: no chain_hash / arbiter_signature / event_links yet
  std::vector<PendingEvent> events;
  std::vector<StateWrite> state_writes;  // published after the ledger is durable, before the decision
  // For metrics only.
  std::string message_type;  // review_request, audit_request, state_proposal, session_handoff; empty for seeding
  std::string rule_id;       // the rule that decided
  std::string submitted_at;  // the request's own timestamp (RFC 3339)
};

// decisions/<id>.json is final; decisions/<id>.escalation.json is the interim notice.
std::string decision_file_name(const std::string& request_id, bool final);

}  // namespace nonaxis::arbiter
