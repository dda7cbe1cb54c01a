#pragma once
// Sandbox events (refusals, incidents, completions): one JSON object per line, on
// stderr for the caller and appended to <state>/events.jsonl for the Arbiter's
// collector. Events never carry the content, its output, or a secret.
#include <filesystem>
#include <string>

#include "nonaxis/bus/canonical_json.hpp"

namespace nonaxis::sandbox {

class EventSink {
 public:
  // `log_path` empty: stderr only. `echo_stderr` false: file only (tests, --quiet).
  EventSink(std::filesystem::path log_path, bool echo_stderr);
  // Also append each line to `*capture` (the resident supervisor hands a request's
  // events to its client, which prints them on its stderr as the one-shot CLI does).
  void capture_into(std::string* capture) { capture_ = capture; }

  // Adds "ts" and "event" and writes the line. Never throws: an event that cannot be
  // written is reported on stderr, and the refusal it describes stands regardless.
  void emit(const std::string& event, bus::Json fields) const;

 private:
  std::filesystem::path log_path_;
  bool echo_stderr_;
  std::string* capture_ = nullptr;
};

}  // namespace nonaxis::sandbox
