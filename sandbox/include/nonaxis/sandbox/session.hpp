#pragma once
// One use of one token: gate, confine, run, record. The CLI is a thin shell over this.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/sandbox/config.hpp"
#include "nonaxis/sandbox/exit_codes.hpp"
#include "nonaxis/sandbox/launcher.hpp"
#include "nonaxis/sandbox/mac.hpp"
#include "nonaxis/sandbox/seccomp_policy.hpp"
#include "nonaxis/sandbox/session_outcome.hpp"
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
  bool capture_events = false;      // also collect the event lines in SessionOutcome::events
  // Resident supervisor (serve.hpp): the client's descriptors instead of paths, checked
  // the same way; the content's name for argv0; who asked (for events).
  int token_fd = -1;
  int content_fd = -1;
  std::string content_name;
  bus::Json requester;
  // Resident supervisor: a child prepared before the request, used when it fits this
  // token (a run with no hosts, resolver or allowed_paths), else a fresh launch.
  PreparedLaunch* prepared = nullptr;
  // Resident supervisor: the seccomp program and MAC choice it made at start (a
  // profile change on disk takes effect when it restarts); nullptr: per request.
  const CompiledSeccomp* seccomp = nullptr;
  const MacChoice* mac = nullptr;
  int stop_fd = -1;             // see LaunchRequest::stop_fd
  bool defer_teardown = false;  // see LaunchRequest::defer_teardown
};


SessionOutcome run_session(const SessionRequest& req);

// The MAC layer this configuration gets: AppArmor, else Landlock, else (only when
// configured) none. Fills `refusal_detail` when it must refuse.
MacChoice choose_mac(const SandboxConfig& c, std::string& refusal_detail);

// A child prepared for the common request: mode run, no hosts, no resolver, no
// allowed_paths. Its view and its egress table are exactly those run_session would
// build for such a token. nullptr and `failure` filled when it cannot be made.
std::unique_ptr<PreparedLaunch> prepare_default_launch(const SandboxConfig& cfg, const CompiledSeccomp& seccomp,
                                                       const MacChoice& mac, LaunchResult& failure);

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
