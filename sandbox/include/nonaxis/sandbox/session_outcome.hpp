#pragma once
// What one use of one token produced, as the CLI prints it: the exit code, the
// refusal if any, the signed record, the captured output and the request's events.
// Shared by the one-shot CLI, the resident supervisor and its clients.
#include <optional>
#include <string>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/sandbox/exit_codes.hpp"

namespace nonaxis::sandbox {

struct SessionOutcome {
  int exit_code = 0;
  std::optional<Refusal> refusal;
  std::string detail;
  bus::Json record;                 // signed envelope; null when nothing ran
  std::string stdout_data;          // captured (capped) program output
  std::string stderr_data;
  std::string events;               // event lines, when SessionRequest::capture_events
};

// The outcome of a refusal: nothing ran, so no record and no output.
SessionOutcome refused_outcome(Refusal r, std::string detail);

// Prints `o` as `run` does (one JSON document with --json; else the program's output,
// then the refusal and the record on stderr). Returns the exit code.
int print_outcome(const SessionOutcome& o, bool json);

}  // namespace nonaxis::sandbox
