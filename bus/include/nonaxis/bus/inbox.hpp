#pragma once
// Reading and authenticating one bus file from a peer's directory. Anything that
// fails goes to the reader's dead-letter area with its reason, exactly once.
#include <optional>
#include <string>

#include "nonaxis/bus/dead_letter.hpp"
#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/bus/fd.hpp"
#include "nonaxis/bus/keys.hpp"

namespace nonaxis::bus {

// What a queue file holds. Requests and assessments are <uuid>.json; the Operator's
// state messages share pending-review/ under their own suffixes, so a reader that
// does not handle them can skip them by name alone.
enum class Kind { kRequest, kAssessment, kProposal, kHandoff, kExecution };

class Inbox {
 public:
  Inbox(std::string dir, const KeyRing& ring, Kind kind, DeadLetter& dead);

  // The verified envelope in `name`, or nullopt when missing or refused.
  // `expected_id` is the id the file name promises.
  std::optional<nlohmann::json> read(const std::string& name, const std::string& expected_id);

  const std::string& dir() const { return dir_; }
  int fd() const { return fd_.get(); }

 private:
  std::string dir_;
  UniqueFd fd_;
  const KeyRing& ring_;
  Kind kind_;
  DeadLetter& dead_;
};

// "<uuid>.json" -> uuid; anything else -> nullopt.
std::optional<std::string> id_from_name(const std::string& name);

struct QueueName {
  std::string id;
  Kind kind;  // kRequest for "<uuid>.json"; kProposal, kHandoff, kExecution for their suffixes
};
// Parses a pending-review/ name: "<uuid>.json", "<uuid>.proposal.json", "<uuid>.handoff.json"
// or "<uuid>.execution.json" (a sandbox execution record the Operator relays).
std::optional<QueueName> parse_queue_name(const std::string& name);
// The file name a message of `kind` with `id` is filed under.
std::string queue_name(const std::string& id, Kind kind);

}  // namespace nonaxis::bus
