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

enum class Kind { kRequest, kAssessment };

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

}  // namespace nonaxis::bus
