#pragma once
// Refused input goes to the consumer's own dead-letter area with the reason. The
// record's name is derived from the refused file's location, so a refusal is
// recorded once and a rescan does not refuse the same file again.
#include <string>

#include "nonaxis/bus/fd.hpp"
#include "nonaxis/bus/layout.hpp"

namespace nonaxis::bus {

class DeadLetter {
 public:
  DeadLetter(const Layout& layout, Role consumer);

  // True if `source_dir`/`name` was already refused by this consumer.
  bool already_refused(const std::string& source_dir, const std::string& name) const;

  // Records the refusal durably (reason code, detail, size and SHA-256 of what was
  // read; a copy of the bytes when they are within the message size limit) and logs it.
  void refuse(const std::string& source_dir, const std::string& name, const std::string& reason,
              const std::string& detail, const std::string& data = {});

  const std::string& dir() const { return dir_; }

 private:
  std::string record_name(const std::string& source_dir, const std::string& name) const;
  std::string dir_;
  UniqueFd fd_;
};

}  // namespace nonaxis::bus
