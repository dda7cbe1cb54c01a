#pragma once
// One use of one token: gate, confine, run, record. The CLI is a thin shell over this.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/sandbox/config.hpp"
#include "nonaxis/sandbox/exit_codes.hpp"
#include "nonaxis/sandbox/token_gate.hpp"

namespace nonaxis::sandbox {

struct SessionRequest {
  Mode mode = Mode::kRun;
  std::string token_path;
  std::string file_path;            // run: the content
  std::vector<std::string> args;    // run: arguments; runner: PROGRAM then its arguments
  std::uint16_t runner_port = 0;    // runner: port the runner listens on inside
  std::uint16_t host_port = 0;      // runner: host loopback port to forward from (0 = pick)
  SandboxConfig config;
  bool echo_events = true;
};

struct SessionOutcome {
  int exit_code = 0;
  std::optional<Refusal> refusal;
  std::string detail;
  bus::Json record;                 // signed envelope; null when nothing ran
  std::string stdout_data;          // captured (capped) program output
  std::string stderr_data;
};

SessionOutcome run_session(const SessionRequest& req);

// Forgets spent nonces whose tokens expired more than config.nonce_grace ago and
// restores missing per-execution record copies. Without `force`, at most once per
// config.maintenance_interval (called after every execution). Never throws.
void maintain_state(const SandboxConfig& config, bool force = false);

// Resolves a runner PROGRAM (a path, or a name searched in /usr/local/bin:/usr/bin:/bin)
// to the canonical path whose bytes are hashed and executed.
std::optional<std::string> resolve_runner_program(const std::string& program);

// The content hash a token must carry for `run --file path`, or for a runner.
std::string content_hash_for_file(const std::string& path);
std::string content_hash_for_runner(const std::vector<std::string>& program_and_args);

}  // namespace nonaxis::sandbox
