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

struct Outcome {
  std::string request_id;
  bool final = true;                    // false: an escalation awaiting a human
  nlohmann::json decision;              // signed decision envelope
  std::optional<nlohmann::json> token;  // present only on approval of a review request
  nlohmann::json ledger_entry;          // unsealed: no chain_hash / arbiter_signature / event_links yet
  std::vector<PendingEvent> events;
};

// decisions/<id>.json is final; decisions/<id>.escalation.json is the interim notice.
std::string decision_file_name(const std::string& request_id, bool final);

}  // namespace nonaxis::arbiter
